"""The runs behind the paper's Table I and Table II, load-or-compute: victims, attacks, defenses.

:func:`run_paper_tables` trains (or loads) the victim of every code length
(:func:`saatlib.experiments.hash_models.get_hash_model`), runs the Table I attacks on each
(:func:`attack_results`, through :func:`saatlib.experiments.attacks.run_attack`) and, with
``defenses``, evaluates each defended model under the Table II attacks, the undefended one
(``none``) included (:func:`defense_results`, through
:func:`saatlib.experiments.robustness.evaluate_defense`). Every result is cached in the run
store; the raw results come back per victim (:class:`VictimResults`). The rows, files and
verdicts made of them are the presentation layer's (:mod:`saatlib.report.reproduce`), which
hands the row lists in: ``(row name, attack name, targeted)`` per Table I row with an attack.

Stage hook: ``on_stage(label)`` is called as each stage starts, with the labels of
:class:`saatlib.experiments.plan.Stage` (``train DPH victim, 32 bits``, ``attack SAAT, 32 bits``,
``defend SAAT, 32 bits``), so a clock can announce them against the plan.
"""
from __future__ import annotations

import dataclasses
import logging
from typing import Callable, Sequence

from saatlib import distributed
from saatlib.attack.registry import for_attack, iterative
from saatlib.defense.registry import canonical_defense
from saatlib.experiments.attacks import CODES_KIND, run_attack
from saatlib.experiments.hash_models import get_hash_model, load_data
from saatlib.experiments.robustness import evaluate_defense
from saatlib.store import RunStore

log = logging.getLogger(__name__)

#: a Table I row with an attack: (row name, attack name, targeted)
AttackRow = tuple[str, str, bool]
#: the stage hook: called with a stage's label as it starts
OnStage = Callable[[str], None] | None


@dataclasses.dataclass
class VictimResults:
    """The raw results of one victim (one code length).

    Attributes:
        config: the victim's hashing config.
        attacks: Table I row name -> :func:`saatlib.experiments.attacks.run_attack`'s result.
        defenses: canonical defense name -> :func:`saatlib.experiments.robustness.evaluate_defense`'s
            result, ``none`` (the undefended model) first unless left out; empty without defenses.
    """

    config: dict
    attacks: dict[str, dict]
    defenses: dict[str, dict]


def steps_for(name: str, steps: int | None) -> int | None:
    """``steps`` (``--attack-steps``) for an iterative attack; None for a generative one (ProS-GAN)."""
    return steps if iterative(name) else None


def shortened_attacks(pnet_steps: int | None = None, prosgan_epochs: int | None = None) -> dict:
    """The attack settings a run shortens: the PrototypeNet steps (THA, ProS-GAN) and ProS-GAN's GAN epochs,
    split as released (half at a constant learning rate, half decaying: ``epochs``, ``decay_epochs``)."""
    out = {"pnet_steps": pnet_steps}
    if prosgan_epochs is not None:
        out.update(epochs=prosgan_epochs - prosgan_epochs // 2, decay_epochs=prosgan_epochs // 2)
    return out


def _announce(on_stage: OnStage, label: str) -> None:
    if on_stage is not None:
        on_stage(label)


def train_victims(configs: Sequence[dict], splits, store: RunStore, device="cpu", progress: bool = False,
                  recompute: bool = False, on_stage: OnStage = None) -> None:
    """Train (or load) the victim of every config, on ``splits`` (those of the configs' data);
    ``recompute`` retrains them and drops their cached codes."""
    for config in configs:
        if recompute and distributed.is_main():
            store.delete(CODES_KIND, {"model": config})
        _announce(on_stage, f"train {config['method']} victim, {config['bits']} bits")
        get_hash_model(config, splits, store, device, progress, recompute)


def attack_results(config: dict, rows: Sequence[AttackRow], profile: str, store: RunStore, device="cpu",
                   progress: bool = False, steps: int | None = None, num_queries: int | None = -1,
                   topk: int | None = -1, recompute: bool = False, precision=None, on_stage: OnStage = None,
                   **attack_overrides) -> dict[str, dict]:
    """Row name -> the result of the row's attack on ``config``'s victim (:func:`run_attack`).

    ``steps`` governs every iterative attack (:func:`steps_for`); ``attack_overrides``
    (:func:`shortened_attacks`) reach the attacks that have those fields
    (:func:`saatlib.attack.registry.for_attack`)."""
    runs = {}
    for row_name, attack, targeted in rows:
        log.info("%s, %d bits: %s", config["dataset"], config["bits"], row_name)
        _announce(on_stage, f"attack {row_name}, {config['bits']} bits")
        runs[row_name] = run_attack(config, attack, targeted, profile, steps=steps_for(attack, steps),
                                    num_queries=num_queries, topk=topk, store=store, device=device,
                                    progress=progress, recompute=recompute, precision=precision,
                                    **for_attack(attack, attack_overrides))
    return runs


def defense_results(config: dict, defenses: Sequence[str], attacks: Sequence[str], profile: str,
                    store: RunStore, device="cpu", progress: bool = False, num_queries: int | None = -1,
                    topk: int | None = -1, recompute: bool = False, steps: int | None = None, precision=None,
                    on_stage: OnStage = None, **defense_overrides) -> dict[str, dict]:
    """Canonical defense name -> :func:`evaluate_defense` of ``config``'s victim defended by it, under
    ``attacks`` (no check attack). ``defense_overrides`` (e.g. ``epochs``) go to every defense but
    ``none``, which takes none; ``none`` is not announced to ``on_stage`` (no stage of the plan)."""
    out = {}
    for defense in defenses:
        undefended = canonical_defense(defense) == "none"
        if not undefended:
            _announce(on_stage, f"defend {canonical_defense(defense)}, {config['bits']} bits")
        r = evaluate_defense(config, defense, profile, store=store, device=device, progress=progress,
                             recompute=recompute, num_queries=num_queries, topk=topk, attacks=attacks,
                             check=False, steps=steps, precision=precision,
                             **({} if undefended else defense_overrides))
        out[r["defense"]] = r
    return out


def run_paper_tables(configs: Sequence[dict], rows: Sequence[AttackRow], profile: str, store: RunStore,
                     defenses: Sequence[str] = (), table2_attacks: Sequence[str] = (), splits=None,
                     device="cpu", progress: bool = False, steps: int | None = None,
                     num_queries: int | None = -1, topk: int | None = -1, recompute: bool = False,
                     precision=None, pnet_steps: int | None = None, prosgan_epochs: int | None = None,
                     defense_epochs: int | None = None, undefended: bool = True,
                     on_stage: OnStage = None) -> list[VictimResults]:
    """Train the victims of ``configs``, attack each with ``rows`` and, with ``defenses``, defend it.

    Args:
        configs: the victims' hashing configs (one per code length, one data set).
        rows: ``(row name, attack name, targeted)`` of every Table I row with an attack.
        defenses: Table II's defenses; ``table2_attacks`` the attacks each defended model is
            evaluated under.
        undefended: with ``defenses``, evaluate the undefended model (``none``) too, the verdicts'
            baseline (its attacks share Table I's results where the keys agree; ``recompute`` does
            not reach it). False where the caller reads it later anyway (``reproduce``'s verdicts).
        splits: the configs' data (:func:`saatlib.experiments.hash_models.load_data` of the first when None).
        steps: iterations of every iterative attack of both tables (None: the profile's).
        num_queries, topk: attacked queries and MAP cut-off (-1: the profile's; None: all).
        recompute: retrain the victims (and their codes), rerun the attacks, re-evaluate the defenses.
        precision: :class:`saatlib.compute.Precision` of the attacks and defenses (None: float32).
        pnet_steps, prosgan_epochs: :func:`shortened_attacks`; ``defense_epochs``: every defense's epochs.
        on_stage: called with each stage's label as it starts (see the module's docstring).
    Returns:
        one :class:`VictimResults` per config, in order. Under ``torchrun`` every rank calls it: the
        victims and defenses train data-parallel and the attacks split their query batches.
    """
    splits = splits if splits is not None else load_data(configs[0])
    train_victims(configs, splits, store, device, progress, recompute, on_stage)
    shortened = shortened_attacks(pnet_steps, prosgan_epochs)
    results = [VictimResults(config, attack_results(config, rows, profile, store, device, progress, steps,
                                                    num_queries, topk, recompute, precision, on_stage,
                                                    **shortened), {})
               for config in configs]
    for victim in results if defenses else ():
        victim.defenses = defense_results(victim.config, defenses, table2_attacks, profile, store, device,
                                          progress, num_queries, topk, recompute, steps, precision, on_stage,
                                          epochs=defense_epochs)
    for victim in results if defenses and undefended else ():
        baseline = defense_results(victim.config, ("none",), table2_attacks, profile, store, device, False,
                                   num_queries, topk, False, steps, precision)
        victim.defenses = {**baseline, **victim.defenses}
    return results
