"""The paper's Table I (attacks on DPH) in one call, beside the paper's values.

:func:`reproduce` has the victim of every code length trained (or loaded), the Table I attacks
run and, with ``defenses``, Table II filled by
:func:`saatlib.experiments.paper_tables.run_paper_tables` (every result cached in the run
store), then makes the tables of those raw results (:func:`table1_from`, :func:`table2_from`)
and writes ``table1_<dataset>_<profile>.csv`` and ``.md`` with our MAP / t-MAP (%) next to the
paper's (:mod:`saatlib.report.paper`), Table II's likewise, and the verdicts
(:func:`judge_config`, :func:`write_verdicts`). The rows of both tables are those of
:mod:`saatlib.report.tables` (:data:`~saatlib.report.tables.TABLE1`, the paper's rows, and
:data:`~saatlib.report.tables.TABLE2_COLUMNS`).

Row sources: ``Original`` = MAP of the benign queries attacked (the SAAT run's
``map_benign``); HAG, SDHA, SAAT = MAP of their adversarial queries; P2P, DHTA,
ProS-GAN, THA, SAAT-targeted = t-MAP against the stored target labels. ProS-GAN is
generative (one generator pass, trained once per victim and cached): ``attack_steps`` does not
apply to it.
"""
from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

from saatlib import distributed
from saatlib.defense.registry import canonical_defense
from saatlib.experiments.hash_models import hashing_config, load_data
from saatlib.experiments.paper_tables import (attack_results, defense_results, run_paper_tables,
                                              shortened_attacks)
from saatlib.experiments.plan import plan_run
from saatlib.models.backbones import IMAGENET_BACKBONES
from saatlib.models.pretrained import pretrained_available
from saatlib.report import paper, verdict_text
from saatlib.report.comparisons import Comparison, table1_comparisons, table2_comparisons
from saatlib.report.plan import StageClock, plan_markdown
from saatlib.report.tables import ORIGINAL, TABLE1, TABLE2_ATTACKS, TABLE2_COLUMNS, attacked_queries, markdown_table
from saatlib.store import RunStore

__all__ = ["COLUMNS", "PAPER_ROWS", "ATTACK_ROWS", "judge_config", "markdown_page", "reproduce",
           "resolve_pretrained", "shortened_attacks", "table1_from", "table1_rows", "table2_from", "table2_rows",
           "write_table", "write_verdicts"]

#: the rows of the paper's Table I, ours beside them
PAPER_ROWS = tuple(r for r in TABLE1 if r.in_paper)
#: ``(row name, attack name, targeted)`` of every row of :data:`PAPER_ROWS` with an attack: what
#: :func:`saatlib.experiments.paper_tables.run_paper_tables` runs
ATTACK_ROWS = tuple((r.name, r.attack, r.targeted) for r in PAPER_ROWS if r.attack is not None)
#: CSV columns after the two row keys (method, metric) or (defense, attack)
COLUMNS = ("dataset", "bits", "ours", "paper", "theory", "codes", "steps", "num_queries", "topk", "seconds", "victim",
           "backbone", "profile")


def resolve_pretrained(backbone: str, random_init: bool = False) -> bool:
    """:func:`saatlib.models.pretrained.pretrained_available` (kept here under its former name)."""
    return pretrained_available(backbone, random_init)


def _status(result: dict | None) -> str | None:
    """The database codes' collapse status of an attack result (None for results stored before it was recorded)."""
    return None if result is None else result.get("diversity", {}).get("database", {}).get("status")


def _pct(value: float | None) -> float | None:
    return None if value is None else round(100.0 * value, 2)


def _on_stage(clock: StageClock | None):
    return None if clock is None else clock.start


def table1_from(config: dict, runs: dict[str, dict], profile: str, paper_dataset: str) -> list[dict]:
    """The Table I rows of the victim ``config`` (one code length) from its attack results
    (row name -> result, :func:`saatlib.experiments.paper_tables.attack_results`); MAPs in %."""
    common = {"dataset": config["dataset"], "bits": config["bits"], "victim": config["method"],
              "backbone": config["train"]["backbone"], "profile": profile}
    rows = []
    for row in PAPER_ROWS:
        benign = row.name == ORIGINAL
        r = runs.get("SAAT" if benign else row.name)
        ours = None if r is None else (r["map_benign"] if benign else r["map_adversarial"])
        rows.append(dict(common, method=row.name, metric=row.metric, ours=_pct(ours), codes=_status(r),
                         steps=None if r is None or benign else (r.get("config") or {}).get("steps"),
                         paper=paper.paper_value("attacks", method=row.name, dataset=paper_dataset,
                                                 bits=config["bits"]),
                         theory=None if r is None or benign else _pct(r["map_theory"]),
                         num_queries=None if r is None else r["num_queries"], topk=None if r is None else r["topk"],
                         seconds=None if r is None or benign else round(r["seconds"], 2)))
    return rows


def table1_rows(config: dict, profile: str, paper_dataset: str, store: RunStore, device="cpu",
                progress: bool = False, steps: int | None = None, num_queries: int | None = -1,
                topk: int | None = -1, recompute: bool = False, precision=None, clock: StageClock | None = None,
                **attack_overrides) -> list[dict]:
    """The Table I rows of the victim ``config`` (one code length): its attacks run
    (:func:`saatlib.experiments.paper_tables.attack_results`), then :func:`table1_from`."""
    runs = attack_results(config, ATTACK_ROWS, profile, store, device, progress, steps, num_queries, topk,
                          recompute, precision, _on_stage(clock), **attack_overrides)
    return table1_from(config, runs, profile, paper_dataset)


def table2_from(config: dict, defended: dict[str, dict], defenses, profile: str, paper_dataset: str) -> list[dict]:
    """The Table II rows of ``config``'s victim defended by each of ``defenses`` (in that order) from
    its defense results (canonical name -> result, :func:`saatlib.experiments.paper_tables.defense_results`)."""
    rows = []
    for defense in defenses:
        r = defended[canonical_defense(defense)]
        for attack in TABLE2_COLUMNS:
            ours = r["map_benign"] if attack == ORIGINAL else r["map_under_attack"][attack]
            rows.append({"defense": r["defense"], "attack": attack, "dataset": config["dataset"],
                         "bits": config["bits"], "ours": _pct(ours), "codes": r["status"],
                         "steps": None if attack == ORIGINAL else r["attacks"][attack]["config"]["steps"],
                         "num_queries": r["num_queries"],
                         "topk": r["topk"], "victim": config["method"], "backbone": config["train"]["backbone"],
                         "profile": profile, "paper": paper.paper_value(
                             "defenses", defense=r["defense"], attack=attack, dataset=paper_dataset,
                             bits=config["bits"])})
    return rows


def table2_rows(config: dict, defenses, profile: str, paper_dataset: str, store: RunStore, device="cpu",
                progress: bool = False, num_queries: int | None = -1, topk: int | None = -1,
                recompute: bool = False, steps: int | None = None, precision=None, clock: StageClock | None = None,
                **defense_overrides) -> list[dict]:
    """Table II hook: MAP of ``config``'s model defended by each of ``defenses``
    under the Table II attacks (:func:`saatlib.experiments.paper_tables.defense_results`), then
    :func:`table2_from`.
    """
    defended = defense_results(config, defenses, TABLE2_ATTACKS, profile, store, device, progress, num_queries,
                               topk, recompute, steps, precision, _on_stage(clock), **defense_overrides)
    return table2_from(config, defended, defenses, profile, paper_dataset)


def _cell(v: float | None) -> str:
    return "–" if v is None else f"{v:.2f}"


def markdown_page(rows: list[dict], title: str, notes: list[str], keys=("method", "metric")) -> str:
    """The ``.md`` file of a table: title, notes, then rows (the two ``keys``) x columns (bits),
    each cell ``ours / paper`` in % (:func:`saatlib.report.tables.markdown_table`)."""
    bits = sorted({r["bits"] for r in rows})
    labels = list(dict.fromkeys((r[keys[0]], r[keys[1]]) for r in rows))
    cells = {(r[keys[0]], r[keys[1]], r["bits"]):
             f"{_cell(r['ours'])}{'' if r.get('codes') in (None, 'ok') else ' (' + r['codes'] + '!)'} / "
             f"{_cell(r['paper'])}" for r in rows}
    if any(r.get("codes") not in (None, "ok") for r in rows):
        notes = [*notes, "(collapsed!) / (near-collapsed!): the model maps the database to one code, or to fewer "
                 "codes than classes; its MAP under attack is not robustness."]
    header = [*(k.capitalize() for k in keys), *(f"{b} bits" for b in bits)]
    body = [[a, b, *(cells.get((a, b, n), "") for n in bits)] for a, b in labels]
    return "\n".join([f"# {title}", "", *[f"> {n}" for n in notes], "", markdown_table(header, body)]) + "\n"


def write_table(rows: list[dict], out_dir: str | Path, stem: str, title: str, notes: list[str],
                keys=("method", "metric")) -> tuple[Path, Path]:
    """Write ``<stem>.csv`` (one line per cell: ``keys`` + :data:`COLUMNS`) and ``<stem>.md``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = out / f"{stem}.csv", out / f"{stem}.md"
    columns = (*keys, *COLUMNS)
    with csv_path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, columns)
        writer.writeheader()
        writer.writerows({k: ("" if r.get(k) is None else r[k]) for k in columns} for r in rows)
    md_path.write_text(markdown_page(rows, title, notes, keys), encoding="utf-8")
    return csv_path, md_path


def reproduce(dataset: str, bits=(16, 32, 48, 64), profile: str = "paper", out_dir: str | Path = "results",
              data_dir: str | None = None, hash_method: str = "DPH", seed: int = 0, random_init: bool = False,
              paper_dataset: str | None = None, store: RunStore | None = None, device="cpu", progress: bool = False,
              attack_steps: int | None = None, num_queries: int | None = -1, topk: int | None = -1,
              defenses=(), recompute: bool = False, precision=None, pnet_steps: int | None = None,
              defense_epochs: int | None = None, prosgan_epochs: int | None = None, name: str | None = None,
              plan: bool = False, say=None,
              calibrate_seconds: float = 2.0, **overrides) -> dict:
    """Train the victims, run Table I (and Table II for ``defenses``), write the tables.

    ``overrides`` go to :func:`saatlib.experiments.hash_models.hashing_config` (``backbone``,
    ``epochs``, ``batch_size``, ``image_size``, ``num_train``, ...);
    ``attack_steps``, ``num_queries``, ``topk`` override the profile's attack
    budget and evaluation (-1: the profile's; for the queries, those of its defense evaluation,
    :func:`saatlib.report.tables.attacked_queries`; None: every query), in Table I and Table II alike;
    ``pnet_steps`` the PrototypeNet steps of THA and ProS-GAN, ``prosgan_epochs`` ProS-GAN's GAN
    epochs (:func:`shortened_attacks`) and ``defense_epochs`` every defense's
    epochs (None: the profile's), so every long loop of the paper profile can be
    shortened for a trial run. ``precision`` (:class:`saatlib.compute.Precision`:
    bf16 autocast, channels-last; None: float32) applies to the victims' training,
    the attacks and the defenses, and enters their run-store keys when not the default. ``paper_dataset`` picks the
    paper's column to compare with (default: ``dataset``); ``name`` names the data
    set in the files and titles (default: ``dataset``).

    The plan (:func:`saatlib.experiments.plan.plan_run`, calibrated for
    ``calibrate_seconds`` per kind of step): with ``plan`` it is all that is made
    (returned as ``{"plan": markdown, "stages": [...], "files": []}``); with ``say``
    (a function of one line) the plan is said first and every stage is announced as
    it starts with its estimate and the time left (:class:`saatlib.report.plan.StageClock`).
    Under ``torchrun``
    all ranks train the victims together (DistributedDataParallel) and run Table I's
    attacks together (each rank attacks its share of the query batches; the results
    equal one process's) and Table II's (its defenses trained data-parallel,
    :func:`saatlib.defense.common.adversarial_training`); the main rank alone judges
    and writes (the other ranks return empty tables).
    Every comparison of the paper's claims is judged as in the chapters and written to
    ``verdicts_<name>_<profile>.csv`` and ``.md`` (:func:`write_verdicts`).
    Returns ``{"table1": rows, "table2": rows, "verdicts": comparisons, "files": [paths]}``.
    """
    store = store or RunStore()
    paper_dataset = paper_dataset or dataset
    name = name or dataset
    overrides["precision"] = precision
    if num_queries == -1:  # one query set for Table I and Table II, as in the chapters
        num_queries = attacked_queries(profile, dataset, None)
    base = hashing_config(dataset, hash_method, bits[0], profile, seed, data_dir, **overrides)
    pretrained = resolve_pretrained(base["train"]["backbone"], random_init)
    splits = load_data(base)
    configs = [hashing_config(dataset, hash_method, b, profile, seed, data_dir, pretrained=pretrained, **overrides)
               for b in bits]
    the_plan = None
    if (plan or say is not None) and distributed.is_main():
        the_plan = plan_run(configs, list(ATTACK_ROWS), profile, store, [canonical_defense(d) for d in defenses],
                            TABLE2_ATTACKS, attack_steps, num_queries, topk, precision, device,
                            calibrate_seconds=calibrate_seconds,
                            attack_overrides=shortened_attacks(pnet_steps, prosgan_epochs),
                            defense_overrides={"epochs": defense_epochs}, splits=splits)
        text = plan_markdown(the_plan, f"Plan: {name}, {', '.join(map(str, bits))} bits, profile '{profile}'")
        if plan:
            return {"plan": text, "stages": [dataclasses.asdict(st) for st in the_plan.stages],
                    "calibration": the_plan.calibration, "table1": [], "table2": [], "files": []}
        say(text)
    clock = StageClock(the_plan, say) if say is not None and distributed.is_main() else None
    # every rank: the victims and defenses train data-parallel, the attacks split their query batches; the
    # undefended model is left to the verdicts (judge_config reads every result again, in one process)
    results = run_paper_tables(configs, ATTACK_ROWS, profile, store, defenses, TABLE2_ATTACKS, splits, device,
                               progress, attack_steps, num_queries, topk, recompute, precision, pnet_steps,
                               prosgan_epochs, defense_epochs, undefended=False, on_stage=_on_stage(clock))
    t1 = [row for v in results for row in table1_from(v.config, v.attacks, profile, paper_dataset)]
    t2 = [row for v in results if defenses for row in table2_from(v.config, v.defenses, defenses, profile,
                                                                   paper_dataset)]
    if not distributed.is_main():
        return {"table1": [], "table2": [], "verdicts": [], "files": []}
    backbone = base["train"]["backbone"]
    random_weights = backbone in IMAGENET_BACKBONES and not pretrained
    victim = f"{base['method']} + {backbone}{' (random init)' if random_weights else ''}"
    notes = [f"Ours: {name}, victim {victim}, profile '{profile}', seed {seed}. Cells: ours / paper "
             f"({paper_dataset}), in %; – = not available.", *paper.citation("attacks")]
    files = list(write_table(t1, out_dir, f"table1_{name}_{profile}", f"Table I: attacks on {name}", notes))
    if t2:
        notes2 = [notes[0].replace("Cells", "Rows: defense x attack. Cells"), *paper.citation("defenses")]
        files += write_table(t2, out_dir, f"table2_{name}_{profile}", f"Table II: defenses on {name}", notes2,
                             ("defense", "attack"))
    judged = []
    with distributed.solo():
        for config in configs:
            judged += judge_config(config, defenses, profile, store, device, attack_steps, num_queries, topk,
                                   precision=precision, pnet_steps=pnet_steps, defense_epochs=defense_epochs,
                                   prosgan_epochs=prosgan_epochs)
    files += write_verdicts(judged, out_dir, f"verdicts_{name}_{profile}", notes[0])
    return {"table1": t1, "table2": t2, "verdicts": judged, "files": [str(p) for p in files]}


def judge_config(config: dict, defenses, profile: str, store: RunStore, device="cpu", steps: int | None = None,
                 num_queries: int | None = -1, topk: int | None = -1, precision=None, pnet_steps: int | None = None,
                 defense_epochs: int | None = None, prosgan_epochs: int | None = None) -> list[Comparison]:
    """The comparisons of Table I (and of Table II with ``defenses``) for one victim, judged as in the
    chapters (:mod:`saatlib.report.comparisons`) from the run store's results (nothing is recomputed
    after :func:`table1_rows` and :func:`table2_rows`, or :func:`saatlib.experiments.paper_tables.run_paper_tables`,
    given the same ``precision``, ``pnet_steps``, ``prosgan_epochs`` and ``defense_epochs``)."""
    runs = attack_results(config, ATTACK_ROWS, profile, store, device, False, steps, num_queries, topk,
                          precision=precision, **shortened_attacks(pnet_steps, prosgan_epochs))
    results = {(attack, targeted): runs[row_name] for row_name, attack, targeted in ATTACK_ROWS}
    name = f"{config['dataset']} {config['bits']} bits"
    out = table1_comparisons(name, results, config["bits"])
    if defenses:
        defended = defense_results(config, ("none", *defenses), TABLE2_ATTACKS, profile, store, device, False,
                                   num_queries, topk, steps=steps, precision=precision, epochs=defense_epochs)
        out += table2_comparisons(name, defended, config["bits"], check=None)
    return out


def write_verdicts(comparisons: list[Comparison], out_dir: str | Path, stem: str, note: str) -> list[Path]:
    """Write ``<stem>.csv`` (one line per comparison: dataset, key, claim, label, diff, se, n, mde, target,
    the paper's difference per paper dataset; fractions of MAP) and ``<stem>.md`` (the rule and the claims
    table, as chapter 6 shows them). Nothing is written for no comparison."""
    if not comparisons:
        return []
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = out / f"{stem}.csv", out / f"{stem}.md"
    columns = ("dataset", "key", "claim", "label", "diff", "se", "n", "mde", "target",
               *(f"paper {ds}" for ds in paper.PAPER_DATASETS))
    with csv_path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, columns)
        writer.writeheader()
        for c in comparisons:
            v = c.verdict
            writer.writerow({"dataset": c.dataset, "key": c.key, "claim": c.claim, "label": v.label,
                             "diff": round(v.diff, 6), "se": round(v.se, 6), "n": v.n, "mde": round(v.mde, 6),
                             "target": round(v.target, 6),
                             **{f"paper {ds}": "" if c.paper.get(ds) is None else round(c.paper[ds], 6)
                                for ds in paper.PAPER_DATASETS}})
    table = verdict_text.claims_table(comparisons)
    header = ["claim", *next(iter(table.values())).keys()]
    md = "\n".join([f"# Verdicts: {', '.join(dict.fromkeys(c.dataset for c in comparisons))}", "", f"> {note}",
                     "", verdict_text.rule_markdown(len(comparisons), "this run"), "",
                     markdown_table(header, [[claim, *row.values()] for claim, row in table.items()])]) + "\n"
    md_path.write_text(md, encoding="utf-8")
    return [csv_path, md_path]
