"""Robustness of a defended model, load-or-compute: the Table II row (reference sections 4 and 5).

:func:`evaluate_defense` measures, for a defended model (or the undefended one,
method ``none``), the MAP of the benign queries and the MAP of adversarial
queries under HAG, SDHA and SAAT (budgets from the profile, via
:func:`saatlib.attack.registry.build_attack`), plus a *check*: the per-query
worst case. Its MAP (``map_under_attack["check"]``) averages, over the
queries, the lowest AP that any of the table's attacks or the restart attack
(:class:`saatlib.attack.restart_pgd.RestartPGDAttack`, larger budget, an
objective no defense trains on) reaches on that query, so it is at least as
strong as the strongest attack of the table by construction (an adaptive
evaluation, as in AutoAttack's worst case over attacks); the gap between the
check and the table's strongest attack measures how much the table's attacks
miss. The restart attack's own result stays under ``attacks["check"]``.

The attack context (training and database codes) is re-encoded with the
evaluated model itself. Every attack result is cached in the run store (kind
``attack``, keyed by the model's config, the attack's hyper-parameters, the
number of queries and topk; for ``none`` the key is the same as
:func:`saatlib.experiments.attacks.run_attack`'s, so the two share results).
"""
from __future__ import annotations

import logging
from typing import Sequence

import torch

from saatlib.attack.base import Attack
from saatlib.attack.evaluate import codes_of, worst_case_map
from saatlib.attack.registry import NON_TARGETED, build_attack, build_check_attack
from saatlib.experiments.attacks import (CODES_KIND, EXAMPLES_KIND, attack_key, cached_attack_result, examples_key,
                                         model_codes, profile_sizes, query_batch)
from saatlib.experiments.defenses import defense_config, get_defended_model, model_key
from saatlib.experiments.hash_models import load_data
from saatlib.metrics import average_precision, database_diversity, mean_average_precision
from saatlib.primitives import shares_label
from saatlib.profiles import defense_eval_settings, from_255
from saatlib.store import RunStore

log = logging.getLogger(__name__)

CHECK = "check"  # key of the check attack in ``map_under_attack``


def _defended(hash_config: dict, method: str, profile: str, store: RunStore, device, progress: bool,
              recompute_model: bool, num_queries: int | None, overrides: dict, precision=None):
    """(model, record with its ``config``, model key, codes, query images, query labels) of
    ``hash_config``'s model defended by ``method`` (trained or loaded)."""
    config = defense_config(hash_config, method, profile, precision, **overrides)
    key_model = model_key(config)
    if recompute_model:  # a retrained model invalidates its cached codes and attack results
        store.delete(CODES_KIND, {"model": key_model})
    splits = load_data(hash_config)
    model, record = get_defended_model(hash_config, method, profile, store, device, progress, recompute_model,
                                       splits, precision=precision, **overrides)
    codes = model_codes(key_model, model, splits, store, device)  # re-encoded with the evaluated model
    x, y = query_batch(splits, num_queries)
    return model, dict(record, config=config), key_model, codes, x, y


def _resolve_sizes(hash_config: dict, profile: str, num_queries, topk):
    """-1 -> the profile's defense-evaluation queries (per dataset) and its MAP cut-off."""
    if num_queries == -1:
        num_queries = defense_eval_settings(profile, hash_config["dataset"])["num_queries"]
    return profile_sizes(profile, num_queries, topk)


def _benign_map(codes: dict, num_queries: int, topk: int | None) -> float:
    """MAP@topk of the first ``num_queries`` benign query codes against the database."""
    return mean_average_precision(codes["query_codes"][:num_queries], codes["db_codes"],
                                  codes["query_labels"][:num_queries], codes["db_labels"], topk=topk)


def evaluate_defense(hash_config: dict, method: str = "SAAT", profile: str = "default",
                     store: RunStore | None = None, device="cpu", progress: bool = True, recompute: bool = False,
                     num_queries: int | None = -1, topk: int | None = -1, attacks: Sequence[str] | None = None,
                     check: bool = True, recompute_model: bool = False, steps: int | None = None,
                     precision=None, **overrides) -> dict:
    """MAP of benign and attacked queries for ``hash_config``'s model defended by ``method``.

    Args:
        hash_config: the victim (start) model's config.
        method: ``none``, ``SAAT``, ``ATRDH`` or ``CgAT``.
        profile: defense settings, attack budgets and evaluation sizes.
        num_queries, topk: -1 = the profile's (``defense.eval.num_queries`` or its
            per-dataset value, and ``eval.topk``).
        attacks: non-targeted attacks to run (default: the profile's, HAG, SDHA, SAAT).
        check: also run the check attack (:class:`RestartPGDAttack`).
        steps: iterations of every attack, the check attack's per restart
            included (None: the profile's); the same option as Table I's
            ``--attack-steps``, so one setting governs both tables.
        recompute: recompute the attack results (not the model);
        recompute_model: retrain the defended model too.
        precision: bf16 autocast / channels-last (:class:`saatlib.compute.Precision`) for the
            defense's training and every attack on it (None: float32; keyed only when not the default).
        overrides: defense hyper-parameters (``epochs``, ``lambda``, ``mu``, ...).
    Returns:
        dict with ``defense``, ``dataset``, ``victim``, ``bits``, ``map_benign``,
        ``map_under_attack`` (attack name -> MAP; under ``"check"`` the per-query
        worst case over the table's attacks and the restart attack), ``attacks`` (name -> full result of
        :func:`saatlib.attack.evaluate.evaluate_attack` plus ``cached``),
        ``train_seconds``, ``history``, ``params``, ``num_queries``, ``topk``,
        ``diversity`` (:func:`saatlib.metrics.database_diversity` of the evaluated
        model's database codes) and ``status`` (its ``status``: ``ok``,
        ``near-collapsed`` or ``collapsed``: a collapsed model keeps its benign
        MAP under every attack, which is not robustness).
    """
    store = store or RunStore()
    num_queries, topk = _resolve_sizes(hash_config, profile, num_queries, topk)
    if attacks is None:
        attacks = defense_eval_settings(profile, hash_config["dataset"])["attacks"] or NON_TARGETED
    names = list(attacks)
    seed = hash_config["seed"]
    model, record, key_model, codes, x, y = _defended(hash_config, method, profile, store, device, progress,
                                                      recompute_model, num_queries, overrides, precision)
    recompute = recompute or recompute_model
    nq = x.shape[0]
    map_benign = _benign_map(codes, nq, topk)
    diversity = database_diversity(codes["db_codes"], codes["db_labels"])
    if diversity["status"] != "ok":
        log.warning("%s-defended %s model: %s codes (%d distinct database codes for %d classes, %d constant "
                    "bits): its MAP under attack says nothing about robustness", method, hash_config["method"],
                    diversity["status"], diversity["distinct"], diversity["classes"], diversity["constant_bits"])
    todo: list[tuple[str, Attack]] = [(n, build_attack(n, False, profile, steps=steps)) for n in names]
    if check:
        todo.append((CHECK, build_check_attack(profile, hash_config["dataset"], steps=steps)))
    results = {label: cached_attack_result(model, attack, key_model, codes, x, y, num_queries, topk, seed, store,
                                            device, progress, recompute, precision=precision)
               for label, attack in todo}
    under = {label: r["map_adversarial"] for label, r in results.items()}
    if check:
        under[CHECK] = worst_case_map([r for r in results.values()])
    return {
        "defense": record["config"]["method"],
        "dataset": hash_config["dataset"],
        "victim": hash_config["method"],
        "bits": hash_config["bits"],
        "profile": profile,
        "map_benign": map_benign,
        "map_under_attack": under,
        "attacks": results,
        "check_attack": repr(todo[-1][1]) if check else None,
        "train_seconds": record["train_seconds"],
        "history": record["history"],
        "params": record["config"]["params"],
        "num_queries": nq,
        "topk": topk,
        "diversity": diversity,
        "status": diversity["status"],
    }


def robustness_curve(hash_config: dict, method: str = "SAAT", eps_255: Sequence[float] = (2, 4, 8, 16),
                     attack: str = "SAAT", profile: str = "default", store: RunStore | None = None, device="cpu",
                     progress: bool = True, num_queries: int | None = -1, topk: int | None = -1,
                     **overrides) -> dict:
    """MAP of ``method``'s defended model under ``attack`` at each budget eps (in units of 1/255).

    The attack keeps the profile's iterations and step size; only eps changes.
    Results are cached in the run store like :func:`evaluate_defense`'s (the
    same key at the profile's eps, so the two share that point).

    Returns:
        ``{"eps_255": [...], "map": [MAP at each eps], "ap": [per-query AP list at each eps], "map_benign": float,
        "linf": [max |x_adv - x|_inf at each eps], "num_queries": int}``.
    """
    bad = [e for e in eps_255 if not e > 0]
    if bad or not len(eps_255):
        raise ValueError(f"eps must be positive (in units of 1/255), got {list(eps_255)!r}")
    store = store or RunStore()
    num_queries, topk = _resolve_sizes(hash_config, profile, num_queries, topk)
    model, _, key_model, codes, x, y = _defended(hash_config, method, profile, store, device, progress, False,
                                                 num_queries, overrides)
    nq = x.shape[0]
    maps, linf, aps = [], [], []
    for e in eps_255:
        r = cached_attack_result(model, build_attack(attack, False, profile, eps=from_255(e)), key_model, codes,
                                  x, y, num_queries, topk, hash_config["seed"], store, device, progress, False)
        maps.append(r["map_adversarial"])
        aps.append(r["ap"]["adversarial"])
        linf.append(r["perceptibility"]["linf"])
    map_benign = _benign_map(codes, nq, topk)
    return {"eps_255": [float(e) for e in eps_255], "map": maps, "ap": aps, "map_benign": map_benign, "linf": linf,
            "num_queries": nq}


#: run-store kind of the transfer check (codes of another model's adversarial examples under this model)
TRANSFER_KIND = "transfer"
#: the large budget of the masking check, as a multiple of the profile's attack budget
LARGE_BUDGET_FACTOR = 8


def _undefended_examples(hash_config: dict, attack: Attack, profile: str, num_queries, topk, store: RunStore,
                         device, progress: bool):
    """The adversarial images of ``attack`` on the undefended model (the first ``num_queries`` queries):
    loaded from the examples that chapter 4 stores (:func:`saatlib.experiments.attacks.attack_with_examples`),
    else computed once and stored the same way."""
    seed = hash_config["seed"]
    key = attack_key(hash_config, attack, num_queries, topk, seed)
    ex_key = examples_key(key)
    if store.has(EXAMPLES_KIND, ex_key):
        return store.load_tensors(EXAMPLES_KIND, ex_key)["x_adv"]
    model, _, _, codes, x, y = _defended(hash_config, "none", profile, store, device, progress, False,
                                         num_queries, {})
    result = cached_attack_result(model, attack, hash_config, codes, x, y, num_queries, topk, seed, store, device,
                                  progress, return_examples=True)
    tensors = {k: result.pop(k) for k in ("x_adv", "adv_codes")}
    result.pop("cached")
    store.save(EXAMPLES_KIND, ex_key, tensors=tensors, result=result)
    return tensors["x_adv"]


def masking_checks(hash_config: dict, method: str = "SAAT", profile: str = "default", store: RunStore | None = None,
                   device="cpu", progress: bool = False, num_queries: int | None = -1, topk: int | None = -1,
                   large_factor: float = LARGE_BUDGET_FACTOR, **overrides) -> dict:
    """The usual minimum of a gradient-masking check on one model, as per-query AP lists (cached).

    Three checks beside :func:`evaluate_defense`'s table (same queries, same profile):

    - ``stronger``: the check's per-query worst case over the table's attacks and a restart
      attack on another objective, against ``lowest``, the table's strongest attack alone;
    - ``transfer``: the SAAT attack's examples made on the *undefended* model, fed to this one,
      against ``white_box``, the SAAT attack made on this model (a masked model resists its own
      gradients better than another model's);
    - ``large_budget``: the SAAT attack at ``large_factor`` times the profile's budget (same
      iterations and step), against ``chance``: the share of database items relevant to each
      query, the expected precision of a random ranking (MAP must fall towards it).

    Returns:
        ``{"lowest", "lowest_attack", "stronger", "white_box", "transfer", "large_budget", "chance",
        "large_eps", "num_queries"}``: per-query AP lists (``lowest_attack``: which attack is the
        strongest; ``large_eps`` in pixels).
    """
    store = store or RunStore()
    ev = evaluate_defense(hash_config, method, profile, store, device, progress, num_queries=num_queries,
                          topk=topk, **overrides)
    num_queries, topk = _resolve_sizes(hash_config, profile, num_queries, topk)
    table = {a: r for a, r in ev["attacks"].items() if a != CHECK}
    lowest_attack = min(table, key=lambda a: table[a]["map_adversarial"])
    aps = torch.tensor([r["ap"]["adversarial"] for r in ev["attacks"].values()], dtype=torch.float64)
    model, _, key_model, codes, x, y = _defended(hash_config, method, profile, store, device, progress, False,
                                                 num_queries, overrides)
    saat = build_attack("SAAT", False, profile)
    seed = hash_config["seed"]

    def transfer() -> dict:
        x_adv = _undefended_examples(hash_config, saat, profile, num_queries, topk, store, device, progress)
        adv = codes_of(model, x_adv, device=device)
        return {"ap": average_precision(adv, codes["db_codes"], y, codes["db_labels"], topk=topk).tolist()}

    source = attack_key(hash_config, saat, num_queries, topk, seed)
    moved = store.cached_result(TRANSFER_KIND, {"model": key_model, "source": source}, transfer)
    large = saat.replace(eps=large_factor * saat.eps)
    big = cached_attack_result(model, large, key_model, codes, x, y, num_queries, topk, seed, store, device,
                               progress)
    chance = shares_label(y, codes["db_labels"]).double().mean(1)  # (Q,) share of relevant items
    return {"lowest": table[lowest_attack]["ap"]["adversarial"], "lowest_attack": lowest_attack,
            "stronger": aps.min(0).values.tolist(), "white_box": ev["attacks"]["SAAT"]["ap"]["adversarial"],
            "transfer": moved["ap"], "large_budget": big["ap"]["adversarial"], "chance": chance.tolist(),
            "large_eps": large.eps, "num_queries": ev["num_queries"]}
