"""Attack runs, load-or-compute: the path the CLI, the widgets, the chapters and the benches share.

- :func:`~saatlib.experiments.runs.model_codes` (re-exported): the codes of a model's three sets (cached);
- :func:`target_labels_for`: the targets of a protocol, drawn once and kept;
- :func:`cached_attack_result`: one attack on a model's queries, cached under :func:`attack_key`;
- :func:`run_attack`: the same, by attack name, for a hashing config (loads or trains its model);
- :func:`attack_with_examples`: the same on an already loaded run
  (:class:`saatlib.experiments.retrieval.HashRun`), keeping the adversarial
  images and codes too (kind :data:`EXAMPLES_KIND`), for the book's figures and explorers.
"""
from __future__ import annotations

import torch

from saatlib import distributed
from saatlib.attack.base import AttackContext
from saatlib.attack.evaluate import evaluate_attack
from saatlib.attack.registry import build_attack
from saatlib.attack.targets import draw_target_labels
from saatlib.compute import Precision
from saatlib.data import data_loader
from saatlib.experiments.hash_models import get_hash_model, load_data
from saatlib.experiments.keys import EXAMPLES_VERSION, attack_key_config, omit_unset
from saatlib.experiments.runs import CODES_KIND, HashRun, model_codes  # noqa: F401 (CODES_KIND: read here by others)
from saatlib.profiles import attack_num_queries, eval_topk
from saatlib.store import RunStore

ATTACK_KIND = "attack"
TARGETS_KIND = "target_labels"
#: run-store kind of adversarial examples (images and codes) beside an attack's numbers
EXAMPLES_KIND = "attack_examples"


def context_from_codes(codes: dict, seed: int = 0) -> AttackContext:
    return AttackContext(codes["train_codes"], codes["train_labels"], codes["db_codes"], codes["db_labels"], seed)


def query_batch(splits, num_queries: int | None):
    """The first ``num_queries`` query images and labels (all when None)."""
    n = len(splits.query) if num_queries is None else min(num_queries, len(splits.query))
    x, y, _ = next(iter(data_loader(splits.query.subset(torch.arange(n)), n)))
    return x, y


def target_labels_for(store: RunStore, data_config: dict, query_labels: torch.Tensor,
                      db_labels: torch.Tensor) -> torch.Tensor:
    """Target labels (Q, C) of the protocol ``data_config`` (dataset + sizes + seed), from
    the run store or drawn (:func:`saatlib.attack.targets.draw_target_labels`) and stored,
    so every targeted method attacks the same targets."""
    key = dict(data_config, purpose="target_labels")
    if store.has(TARGETS_KIND, key):
        stored = store.load_tensors(TARGETS_KIND, key)["targets"]
        if stored.shape == query_labels.shape:
            return stored
    targets = draw_target_labels(query_labels, db_labels, data_config.get("seed", 0))
    if distributed.is_main():
        store.save(TARGETS_KIND, key, tensors={"targets": targets})
    return targets


def hash_targets(hash_config: dict, store: RunStore, codes: dict) -> torch.Tensor:
    """Target labels of every query of ``hash_config``'s protocol (its data settings and dataset)."""
    data_key = dict(hash_config["data"], dataset=hash_config["dataset"])
    return target_labels_for(store, data_key, codes["query_labels"], codes["db_labels"])


def ready_attack(attack, model, hash_config: dict, codes: dict, splits, store: RunStore, device="cpu",
                 progress: bool = False, topk: int | None = None, num_queries: int | None = None) -> None:
    """Give an attack that trains networks against its victim (ProS-GAN) the ones of ``hash_config``'s
    model, from the run store or trained and stored (:func:`saatlib.experiments.prosgan.prosgan_networks`,
    its training curve the t-MAP@``topk`` of the first ``num_queries`` queries); nothing for the other attacks."""
    if hasattr(attack, "use_networks"):
        from saatlib.experiments.prosgan import prosgan_networks  # that module imports this one
        prosgan_networks(attack, model, hash_config, codes, splits, store, device, progress, topk=topk,
                         curve_queries=num_queries)


def stored_attack_result(store: RunStore, kind: str, key: dict) -> dict | None:
    """A stored attack result, or None when there is none or it predates the per-query AP
    (``ap``) and code diversity that every evaluation now records (then it is recomputed)."""
    if not store.has(kind, key):
        return None
    result = store.load_result(kind, key)
    return result if "ap" in result and "diversity" in result else None


def profile_sizes(profile: str, num_queries: int | None, topk: int | None) -> tuple[int | None, int | None]:
    """``(num_queries, topk)`` with -1 replaced by ``profile``'s attacked queries and MAP cut-off."""
    if num_queries == -1:
        num_queries = attack_num_queries(profile)
    if topk == -1:
        topk = eval_topk(profile)
    return num_queries, topk


def attack_key(model_key: dict, attack, num_queries: int | None, topk: int | None, seed: int,
               precision=None) -> dict:
    """Run-store key of an attack's result: the attacked model's config (a hashing
    or defense config), the attack's class and hyper-parameters
    (:func:`saatlib.experiments.keys.attack_key_config`: its config, written as stored runs
    had it), the number of attacked queries, topk and the seed; and ``precision``
    (:class:`saatlib.compute.Precision`) only when it is not the float32 default
    (:func:`saatlib.experiments.keys.omit_unset`), so stored results keep their keys."""
    return omit_unset(ATTACK_KIND, {"model": model_key, "attack": dict(attack_key_config(attack),
                                                                      cls=type(attack).__name__),
                                    "num_queries": num_queries, "topk": topk, "seed": seed,
                                    "precision": Precision.of(precision).key()})


def cached_attack_result(model, attack, key_model: dict, codes: dict, x, y, num_queries, topk, seed: int,
                         store: RunStore, device="cpu", progress: bool = True, recompute: bool = False,
                         targets: torch.Tensor | None = None, return_examples: bool = False,
                         precision=None) -> dict:
    """:func:`saatlib.attack.evaluate.evaluate_attack` of ``attack`` on the queries ``x`` (labels ``y``;
    ``targets`` for a targeted attack) of the model identified by ``key_model``, cached under
    :func:`attack_key` (``cached`` added). ``return_examples`` forces a run (adversarial images
    are not stored) and adds ``x_adv`` and ``adv_codes`` to the returned dict. Under ``torchrun``
    every rank calls it: the ranks split the query batches (:func:`saatlib.attack.evaluate.attack_queries`)
    and the main rank writes the result. ``precision``:
    bf16 autocast / channels-last for the attack (:class:`saatlib.compute.Precision`; part of the key
    when not the default)."""
    key = attack_key(key_model, attack, num_queries, topk, seed, precision)
    if recompute:
        store.delete(ATTACK_KIND, key)
    stored = None if return_examples else stored_attack_result(store, ATTACK_KIND, key)
    if distributed.all_agree(stored is not None):
        return dict(stored, cached=True)
    result = evaluate_attack(model, attack, x, y, context_from_codes(codes, seed), targets, topk, seed=seed,
                             device=device, progress=progress, return_examples=return_examples,
                             precision=precision)
    examples = {k: result.pop(k) for k in ("x_adv", "adv_codes") if k in result}
    if distributed.is_main():
        store.save(ATTACK_KIND, key, result=result)
    return dict(result, cached=False, **examples)


def run_attack(hash_config: dict, name: str, targeted: bool = False, profile: str = "default",
               eps: float | None = None, steps: int | None = None, rule: str | None = None,
               num_queries: int | None = -1, topk: int | None = -1, store: RunStore | None = None,
               device="cpu", progress: bool = True, recompute: bool = False, return_examples: bool = False,
               precision=None, **attack_kwargs) -> dict:
    """Attack the query set of ``hash_config``'s model with ``name`` and measure it.

    ``num_queries`` and ``topk`` default (-1) to the profile's. The result
    (see :func:`saatlib.attack.evaluate.evaluate_attack`) is cached in the run
    store under the model config, the attack's hyper-parameters and these
    settings; ``return_examples`` recomputes nothing if cached but then the
    adversarial images are not available (they are not stored), so it forces a run.
    ``attack_kwargs`` go to the attack's constructor (e.g. ``weighting="overlap"``,
    ``exact_ties=False``, ``reference_batch=100``: the switches of :mod:`saatlib.fidelity`);
    they are part of the attack's hyper-parameters, hence of the cache key. ``precision``: see
    :func:`cached_attack_result`.
    """
    store = store or RunStore()
    num_queries, topk = profile_sizes(profile, num_queries, topk)
    attack = build_attack(name, targeted, profile, eps, steps, rule, **attack_kwargs)
    key = attack_key(hash_config, attack, num_queries, topk, hash_config["seed"], precision)
    if recompute:
        store.delete(ATTACK_KIND, key)
    stored = None if return_examples else stored_attack_result(store, ATTACK_KIND, key)
    if distributed.all_agree(stored is not None):
        return dict(stored, cached=True)
    splits = load_data(hash_config)
    model, _ = get_hash_model(hash_config, splits, store, device, progress)
    codes = model_codes(hash_config, model, splits, store, device)
    ready_attack(attack, model, hash_config, codes, splits, store, device, progress, topk, num_queries)
    x, y = query_batch(splits, num_queries)
    targets = hash_targets(hash_config, store, codes)[: len(y)] if attack.targeted else None
    return cached_attack_result(model, attack, hash_config, codes, x, y, num_queries, topk, hash_config["seed"],
                                store, device, progress, targets=targets, return_examples=return_examples,
                                precision=precision)


def examples_key(key: dict) -> dict:
    """Run-store key (kind :data:`EXAMPLES_KIND`) of the adversarial examples of the attack result ``key``."""
    return dict(key, what="adversarial_examples", version=EXAMPLES_VERSION)


def attack_with_examples(run: HashRun, name: str, targeted: bool = False, profile: str = "default",
                         eps: float | None = None, steps: int | None = None, rule: str | None = None,
                         num_queries: int | None = -1, topk: int | None = -1, store: RunStore | None = None,
                         device="cpu", examples: bool = True, progress: bool = False,
                         recompute: bool = False) -> dict:
    """:func:`run_attack` on an already loaded run, optionally keeping the adversarial images.

    Computes exactly what ``run_attack`` computes (same queries, targets,
    seed and measurements, through :func:`cached_attack_result`) and stores
    its numbers under ``run_attack``'s key, so either function finds the
    other's result. With ``examples`` the adversarial images and codes are
    stored too (kind :data:`EXAMPLES_KIND`, key :func:`examples_key`).
    Working on the loaded :class:`~saatlib.experiments.retrieval.HashRun`
    saves reloading the data and model for every attack.

    Returns:
        ``run_attack``'s dict (``map_benign``, ``map_adversarial``,
        ``map_theory``, ``perceptibility``, ``seconds``, ...) and ``cached``;
        with ``examples`` also ``x_adv`` (Q, C, H, W) and ``adv_codes`` (Q, K),
        CPU tensors for the first Q queries.
    """
    store = store or RunStore()
    num_queries, topk = profile_sizes(profile, num_queries, topk)
    attack = build_attack(name, targeted, profile, eps, steps, rule)
    seed = run.config["seed"]
    key = attack_key(run.config, attack, num_queries, topk, seed)
    ex_key = examples_key(key)
    if recompute:
        store.delete(ATTACK_KIND, key)
        store.delete(EXAMPLES_KIND, ex_key)
    stored = stored_attack_result(store, EXAMPLES_KIND if examples else ATTACK_KIND, ex_key if examples else key)
    if stored is not None:
        tensors = store.load_tensors(EXAMPLES_KIND, ex_key) if examples else {}
        return dict(stored, cached=True, **tensors)
    ready_attack(attack, run.model.to(device), run.config, run.codes, run.splits, store, device, progress, topk,
                 num_queries)
    x, y = query_batch(run.splits, num_queries)
    targets = hash_targets(run.config, store, run.codes)[: len(y)] if attack.targeted else None
    result = cached_attack_result(run.model.to(device), attack, run.config, run.codes, x, y, num_queries, topk,
                                  seed, store, device, progress, targets=targets, return_examples=examples)
    if not examples:
        return result
    tensors = {k: result.pop(k) for k in ("x_adv", "adv_codes")}
    result.pop("cached")
    store.save(EXAMPLES_KIND, ex_key, tensors=tensors, result=result)
    return dict(result, cached=False, **tensors)
