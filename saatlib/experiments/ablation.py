"""SAAT's objective against two ablations under the same attack engine, load-or-compute
(the book's attack chapter).

SAAT's non-targeted attack minimises a masked objective of ``s = h_adv * b*``
(element-wise, ``b*`` the mainstay code); :func:`ablation_loss` writes it and
two variants (no mask, plain inner product), :func:`objective_ablation` runs
each with SAAT's engine and budget on a loaded run and caches the outcome
(kind :data:`ABLATION_KIND`).
"""
from __future__ import annotations

import time
from typing import Sequence

import torch

from saatlib.attack.evaluate import codes_of
from saatlib.attack.registry import build_attack
from saatlib.attack.saat import mainstay_loss
from saatlib.experiments.attacks import EXAMPLES_VERSION, attack_key, context_from_codes, profile_sizes, query_batch
from saatlib.experiments.retrieval import HashRun
from saatlib.metrics import average_precision
from saatlib.store import RunStore

ABLATION_KIND = "attack_ablation"

#: SAAT's mainstay objective and two ablations, all to minimise (s = h_adv * b*, element-wise)
ABLATIONS = {
    "SAAT (mask s > -0.5)": "mask",
    "no mask": "nomask",
    "inner product": "linear",
}


def ablation_loss(h: torch.Tensor, target: torch.Tensor, variant: str) -> torch.Tensor:
    """Non-targeted objective ``variant`` of the relaxed codes h and mainstay codes ``target`` (B, K).

    ``"mask"``: SAAT's sum(w (s+2) s) / sum(w), w = [s > -0.5] (bits already
    flipped past -0.5 leave the objective); ``"nomask"``: mean((s+2) s) over
    all bits; ``"linear"``: mean(s), i.e. -mean(h . (-b*)), the plain
    inner-product objective (P2P-style, towards -b*).
    """
    if variant == "mask":
        return mainstay_loss(h, target, targeted=False)
    s = h * target
    if variant == "nomask":
        return ((s + 2) * s).mean()
    if variant == "linear":
        return s.mean()
    raise ValueError(f"unknown objective variant {variant!r}; choose one of {sorted(ABLATIONS.values())}")


def objective_ablation(run: HashRun, profile: str = "default", num_queries: int | None = -1,
                       topk: int | None = -1, variants: Sequence[str] = ("mask", "nomask", "linear"),
                       eps: float | None = None, steps: int | None = None, store: RunStore | None = None,
                       device="cpu", batch_size: int = 256) -> dict:
    """Attack the first queries of ``run`` with SAAT's engine (budget of ``profile``)
    and each objective ``variant`` (:func:`ablation_loss`); cached per variant.

    Every variant starts from the same random start (generator seeded with the
    run's seed, batches of ``batch_size`` as :func:`saatlib.attack.evaluate.attack_queries`),
    so ``"mask"`` reproduces the SAAT attack of
    :func:`saatlib.experiments.attacks.attack_with_examples` exactly.

    Returns:
        ``{variant: {"map": MAP of the adversarial codes, "to_antipode":
        mean share of bits equal to -b*, "flipped": mean bits changed from
        the benign code, "margin": mean over bits of h_adv * b* at the end
        (a = 1), "seconds"}}``.
    """
    store = store or RunStore()
    num_queries, topk = profile_sizes(profile, num_queries, topk)
    attack = build_attack("SAAT", False, profile, eps, steps)
    seed = run.config["seed"]
    out = {}
    for variant in variants:
        key = dict(attack_key(run.config, attack, num_queries, topk, seed), variant=variant, batch_size=batch_size,
                   what="objective_ablation", version=EXAMPLES_VERSION)

        def compute(variant=variant) -> dict:
            x, y = query_batch(run.splits, num_queries)
            context = context_from_codes(run.codes, seed).to(device)
            model = run.model.to(device)
            g = torch.Generator(device=device).manual_seed(seed)
            t0 = time.perf_counter()
            advs, margins = [], []
            for s in range(0, x.shape[0], batch_size):
                xb, yb = x[s:s + batch_size].to(device), y[s:s + batch_size].to(device)
                target = attack.reference_codes(yb, context)
                xa = attack.engine().perturb(model, xb, lambda h, t=target: ablation_loss(h, t, variant), g)
                with torch.no_grad():
                    margins.append((model(xa) * target).cpu())
                advs.append(xa.cpu())
            seconds = time.perf_counter() - t0
            x_adv = torch.cat(advs)
            adv = codes_of(model, x_adv, device=device)
            benign = run.codes["query_codes"][: x.shape[0]]
            ref = attack.reference_codes(y, context_from_codes(run.codes, seed))
            ap = average_precision(adv, run.codes["db_codes"], y, run.codes["db_labels"], topk=topk)
            return {
                "map": float(ap.mean()),
                "ap": ap.tolist(),
                "to_antipode": float((adv == -ref).float().mean()),
                "flipped": float((adv != benign).float().sum(1).mean()),
                "margin": float(torch.cat(margins).mean()),
                "seconds": seconds,
            }

        stored = store.cached_result(ABLATION_KIND, key, compute)
        # results stored before the per-query AP was recorded are recomputed (same key, same numbers)
        out[variant] = stored if "ap" in stored else store.cached_result(ABLATION_KIND, key, compute, recompute=True)
    return out
