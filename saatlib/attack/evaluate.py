"""Run an attack on the query set and measure it (reference sections 3 and 5)."""
from __future__ import annotations

import time
from typing import Sequence

import torch
from tqdm.auto import tqdm

from saatlib import distributed
from saatlib.attack.base import Attack, AttackContext
from saatlib.compute import Precision
from saatlib.primitives import eval_codes
from saatlib.metrics import average_precision, code_diversity, database_diversity, perceptibility


def attack_queries(model, attack: Attack, x: torch.Tensor, labels: torch.Tensor, context: AttackContext,
                   batch_size: int = 256, seed: int = 0, device="cpu", progress: bool = False) -> torch.Tensor:
    """Adversarial versions of all queries x (Q, C, H, W), batched, seeded.

    ``labels`` are the query labels (non-targeted) or target labels (targeted).
    Under ``torchrun`` (:mod:`saatlib.distributed`, outside ``solo()``) rank r attacks
    the batches r, r + N, ... of N ranks, replays the generator draws of the others
    (:meth:`saatlib.attack.base.Attack.replay_draws`), and every rank gets all of x_adv:
    the same tensor as one process computes (bit for bit on CPUs of equal thread counts).
    Returns x_adv on CPU.
    """
    g = torch.Generator(device=device).manual_seed(seed)
    context = context.to(device)
    attack.prepare(model, context)
    world, rank = distributed.world_size(), distributed.rank()
    out: dict[int, torch.Tensor] = {}
    starts = list(range(0, x.shape[0], batch_size))
    mine = [b for b in range(len(starts)) if b % world == rank]
    bar = tqdm(total=len(mine), desc=attack.name, disable=not progress or not distributed.is_main(), leave=False)
    for b, s in enumerate(starts):
        xb, yb = x[s:s + batch_size].to(device), labels[s:s + batch_size].to(device)
        if b % world != rank:
            attack.replay_draws(xb, yb, context, g)
            continue
        out[b] = attack(model, xb, yb, context, g).cpu()
        bar.update(1)
    bar.close()
    batches = distributed.merge_batches(out, len(starts))
    return torch.cat(batches) if batches else x.clone()


def codes_of(model, x: torch.Tensor, batch_size: int = 256, device="cpu") -> torch.Tensor:
    """Binary codes (Q, K) of an image tensor, on CPU (:func:`saatlib.primitives.eval_codes` by batches)."""
    return torch.cat([eval_codes(model, x[s:s + batch_size].to(device)).cpu() for s in range(0, x.shape[0], batch_size)])


def evaluate_attack(model, attack: Attack, x: torch.Tensor, query_labels: torch.Tensor, context: AttackContext,
                    target_labels: torch.Tensor | None = None, topk: int | None = 1000, batch_size: int = 256,
                    seed: int = 0, device="cpu", progress: bool = False, return_examples: bool = False,
                    precision=None) -> dict:
    """Attack the queries and measure retrieval.

    Args:
        x: (Q, C, H, W) query images in [0, 1]; query_labels (Q, C).
        context: training and database codes/labels of ``model`` (on CPU is fine).
        target_labels: (Q, C), required for targeted attacks.
        precision: bf16 autocast / channels-last for the attack's own forward and
            backward passes (:class:`saatlib.compute.Precision`; None: float32); the
            codes that are scored are always computed in float32.
    Returns:
        dict with ``map_benign`` (benign queries, own labels), ``map_adversarial``
        (MAP of adversarial queries for a non-targeted attack; t-MAP — scored
        with the target labels — for a targeted one), ``map_theory`` (MAP of
        -reference codes, or t-MAP of the reference codes: what a perfect
        attack would reach; None when the attack has none), ``tmap_benign``
        (targeted only: benign queries scored with the target labels),
        ``ap`` (per-query AP lists ``benign`` and ``adversarial``, for paired
        comparisons), ``perceptibility`` (l_inf, l_2, MSE), ``seconds`` (attack wall time),
        ``config`` (the attack's hyper-parameters) and ``diversity``: for the
        ``database`` codes :func:`saatlib.metrics.database_diversity` (with its
        ``status``: ``ok``, ``near-collapsed`` or ``collapsed``; a collapsed
        model's MAP does not move under any attack and says nothing about
        robustness), and for the ``benign`` and ``adversarial`` query codes
        :func:`saatlib.metrics.code_diversity`.
        With ``return_examples`` also ``x_adv`` and ``adv_codes`` tensors.
    """
    if attack.targeted and target_labels is None:
        raise ValueError(f"{attack.name} is targeted: pass target_labels (see saatlib.attack.targets)")
    attack_labels = target_labels if attack.targeted else query_labels
    t0 = time.perf_counter()
    x_adv = attack_queries(Precision.of(precision).wrap(model), attack, x, attack_labels, context, batch_size, seed,
                           device, progress)
    seconds = time.perf_counter() - t0
    benign = codes_of(model, x, batch_size, device)
    adv = codes_of(model, x_adv, batch_size, device)
    db, db_y = context.db_codes.cpu(), context.db_labels.cpu()
    score_labels = attack_labels.cpu()

    def ap_of(codes, labels) -> torch.Tensor:
        return average_precision(codes, db, labels, db_y, topk=topk)

    def map_of(codes, labels) -> float:
        return float(ap_of(codes, labels).mean())

    ap_benign, ap_adv = ap_of(benign, query_labels.cpu()), ap_of(adv, score_labels)
    ref = attack.reference_codes_of(x.to(context.train_codes.device), attack_labels.to(context.train_codes.device),
                                    context)
    theory = None
    if ref is not None:
        ref = ref.cpu()
        theory = map_of(ref if attack.targeted else -ref, score_labels)
    result = {
        "attack": attack.name,
        "targeted": attack.targeted,
        "map_benign": float(ap_benign.mean()),
        "map_adversarial": float(ap_adv.mean()),
        "ap": {"benign": ap_benign.tolist(), "adversarial": ap_adv.tolist()},
        "map_theory": theory,
        "perceptibility": perceptibility(x_adv, x),
        "seconds": seconds,
        "config": attack.config(),
        "diversity": {"database": database_diversity(db, db_y), "benign": code_diversity(benign),
                      "adversarial": code_diversity(adv)},
        "num_queries": int(x.shape[0]),
        "topk": topk,
    }
    if attack.targeted:
        result["tmap_benign"] = map_of(benign, score_labels)
    if return_examples:
        result["x_adv"], result["adv_codes"] = x_adv, adv
    return result


def worst_case_map(results: Sequence[dict]) -> float:
    """Mean over queries of the lowest adversarial AP among several attack results on the same
    queries (each with per-query ``ap``): a per-query worst case, at most every result's MAP."""
    aps = torch.tensor([r["ap"]["adversarial"] for r in results], dtype=torch.float64)  # (attacks, Q)
    return float(aps.min(0).values.mean())
