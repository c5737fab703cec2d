"""Our Table I and Table II analogues beside the paper's: rows, columns, paired differences, Markdown.

The rows of both tables are defined here once. Table I's attacks are those of
:mod:`saatlib.attack.registry` (:data:`~saatlib.attack.registry.NON_TARGETED`,
scored by MAP, and :data:`~saatlib.attack.registry.TARGETED`, scored by t-MAP),
named as in the paper's CSV file (:mod:`saatlib.report.paper`): ``Original``,
``HAG``, ``SDHA``, ``SAAT`` (MAP) and ``P2P``, ``DHTA``, ``ProS-GAN``, ``THA``,
``SAAT-targeted`` (t-MAP), plus our ``Original t-MAP`` (the benign queries
scored with their target labels, a row the paper does not have). Table II
attacks the defended models with Table I's non-targeted attacks
(:data:`TABLE2_ATTACKS`); its columns are ``Original`` (benign queries) and
those attacks, plus ``check`` (this library's restart attack,
:data:`saatlib.experiments.CHECK`) on our side.

Every function takes plain dicts of numbers: our measurements are MAP as a
fraction in [0, 1], the paper's values are in %. The side-by-side tables
(:func:`table1_side_by_side`, :func:`table2_side_by_side`) show both in %.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import torch

from saatlib import fidelity
from saatlib.attack.registry import (NON_TARGETED, TARGETED, attack_fields, build_attack, registered_attacks,
                                     runs_targeted)
from saatlib.metrics import relevant_to, top_retrievals
from saatlib.profiles import attack_num_queries, defense_eval_settings, get_profile, label_255
from saatlib.report import paper

log = logging.getLogger(__name__)

#: Table I row of the benign queries (MAP)
ORIGINAL = "Original"
#: our Table I row of the benign queries scored with their target labels (t-MAP); not in the paper
ORIGINAL_TMAP = "Original t-MAP"
#: the paper's generative targeted attack (its Table I row, after DHTA)
PROSGAN = "ProS-GAN"


def row_name(attack: str, targeted: bool) -> str:
    """The Table I row of an attack: ``"SAAT-targeted"`` for targeted SAAT, else the attack's name."""
    return f"{attack}-targeted" if targeted and attack == "SAAT" else attack


@dataclass(frozen=True)
class Table1Row:
    """One row of Table I.

    Attributes:
        name: the row's name (the ``method`` column of the paper's CSV file).
        metric: ``"MAP"`` (lower = stronger attack) or ``"t-MAP"`` (higher = stronger).
        attack: the attack's name in :mod:`saatlib.attack.registry`; None for the
            benign rows.
        targeted: whether the row scores targeted queries.
        in_paper: whether the paper's Table I has the row.
    """

    name: str
    metric: str
    attack: str | None
    targeted: bool
    in_paper: bool = True


def _table1() -> tuple[Table1Row, ...]:
    rows = [Table1Row(ORIGINAL, "MAP", None, False)]
    rows += [Table1Row(a, "MAP", a, False) for a in NON_TARGETED]
    rows.append(Table1Row(ORIGINAL_TMAP, "t-MAP", None, True, in_paper=False))
    rows += [Table1Row(row_name(a, True), "t-MAP", a, True) for a in TARGETED]
    return tuple(rows)


#: every row of Table I, ours and the paper's, in the paper's order
TABLE1 = _table1()
#: Table I rows scored by MAP (lower = stronger attack); ``Original`` = benign queries
NON_TARGETED_ROWS = tuple(r.name for r in TABLE1 if r.attack is not None and not r.targeted)
#: Table I rows scored by t-MAP (higher = stronger attack)
TARGETED_ROWS = tuple(r.name for r in TABLE1 if r.attack is not None and r.targeted)
#: every Table I row of our measurements, in the paper's order
TABLE1_ROWS = tuple(r.name for r in TABLE1 if r.attack is not None or r.name in (ORIGINAL, ORIGINAL_TMAP))
#: the rows of Table I as the chapters show them: ours and the paper's, in the paper's order
PAPER_TABLE1_ROWS = tuple(r.name for r in TABLE1)
#: the metric of each Table I row
TABLE1_METRIC = {r.name: r.metric for r in TABLE1}
#: the attacks of Table II: the paper attacks its defended models with Table I's non-targeted attacks
TABLE2_ATTACKS = NON_TARGETED
#: the columns of Table II: benign queries, then each attack
TABLE2_COLUMNS = (ORIGINAL, *TABLE2_ATTACKS)


def attacked_queries(profile: str, dataset: str, num_queries) -> int | None:
    """Queries a chapter attacks on ``dataset`` in Table I: its wish capped by the profile's.

    Args:
        num_queries: an int, None (the profile's), or ``{dataset: int or None}``.
    Returns:
        ``min(wish, profile's attack.num_queries)``; without a wish, the queries of the
        profile's defense evaluation on ``dataset`` (:func:`saatlib.profiles.defense_eval_settings`,
        capped likewise), so Table I and Table II's undefended row attack one query set
        and share their runs; None = every query.
    """
    cap = attack_num_queries(profile)
    want = num_queries.get(dataset) if isinstance(num_queries, Mapping) else num_queries
    if want is None:
        want = defense_eval_settings(profile, dataset)["num_queries"]
    if want is None:
        return cap
    return want if cap is None else min(want, cap)


# --- Table I -----------------------------------------------------------------------------------

def table1_column(results: Mapping[tuple[str, bool], Mapping]) -> dict[str, float]:
    """Our Table I column from attack results (fractions in [0, 1]).

    Args:
        results: ``{(attack name, targeted): result}`` with the dicts of
            :func:`saatlib.experiments.attack_with_examples` (or ``run_attack``):
            ``map_adversarial`` (MAP, or t-MAP when targeted), ``map_benign``
            and, for targeted runs, ``tmap_benign``.
    Returns:
        ``{row: value}`` in the order of :data:`TABLE1_ROWS`, for the rows the
        results allow: ``Original`` from the non-targeted SAAT run's
        ``map_benign`` (else any non-targeted run's), ``Original t-MAP`` from a
        targeted run's ``tmap_benign`` (the targeted SAAT run's first), the
        others from ``map_adversarial``.
    """
    plain = [r for (name, t), r in results.items() if not t]
    targeted = [r for (name, t), r in results.items() if t]
    benign = results.get(("SAAT", False)) or (plain[0] if plain else None)
    t_benign = results.get(("SAAT", True)) or (targeted[0] if targeted else None)
    values = {row_name(n, t): float(r["map_adversarial"]) for (n, t), r in results.items()}
    if benign is not None:
        values[ORIGINAL] = float(benign["map_benign"])
    if t_benign is not None and "tmap_benign" in t_benign:
        values[ORIGINAL_TMAP] = float(t_benign["tmap_benign"])
    return {row: values[row] for row in TABLE1_ROWS if row in values}


def paper_table1_column(dataset: str, bits: int) -> dict[str, float | None]:
    """The paper's Table I values (%) for ``dataset`` and ``bits``, by row of :data:`PAPER_TABLE1_ROWS`.

    Returns:
        ``{row: value or None}`` (ProS-GAN included); ``Original t-MAP`` is
        always None (not in the paper), and so is every row the paper lacks at
        this code length.
    """
    return {r.name: paper.paper_value("attacks", method=r.name, dataset=dataset, bits=bits) if r.in_paper else None
            for r in TABLE1}


def _percent(values: Mapping[str, float | None]) -> dict[str, float | None]:
    """Fractions as % (None stays None)."""
    return {k: None if v is None else 100.0 * v for k, v in values.items()}


def side_by_side(ours: Mapping[str, Mapping], theirs: Mapping[str, Mapping], mine: Callable = _percent,
                  paper_side: Callable = dict) -> dict:
    """Our columns beside the paper's: ``{"ours <dataset>": mine(ours[dataset]), ...,
    "paper <dataset>": paper_side(theirs[dataset]), ...}``, the column names of every side-by-side table
    (``mine`` defaults to fractions shown in %)."""
    return {**{f"ours {d}": mine(col) for d, col in ours.items()},
            **{f"paper {ds}": paper_side(col) for ds, col in theirs.items()}}


def table1_side_by_side(ours: Mapping[str, Mapping[str, float]],
                        theirs: Mapping[str, Mapping[str, float | None]]) -> dict[str, dict[str, object]]:
    """Table I as the chapters show it: our columns beside the paper's, every value in %.

    Args:
        ours: ``{dataset: column}`` (:func:`table1_column`, fractions).
        theirs: ``{paper dataset: column}`` (:func:`paper_table1_column`, %).
    Returns:
        ``{column: {row: value or None}}`` over :data:`PAPER_TABLE1_ROWS`:
        ``"metric"`` (MAP or t-MAP), then ``"ours <dataset>"`` (x 100) and
        ``"paper <dataset>"``; None where a side has no value (ProS-GAN on ours,
        ``Original t-MAP`` on the paper's).
    """
    columns = side_by_side(ours, theirs)
    return {"metric": dict(TABLE1_METRIC),
            **{c: {row: col.get(row) for row in PAPER_TABLE1_ROWS} for c, col in columns.items()}}


def retained(column: Mapping[str, float | None], rows: Sequence[str] = NON_TARGETED_ROWS) -> dict[str, float | None]:
    """Share of the benign MAP that each non-targeted attack leaves: ``column[row] / column["Original"]``.

    A unit-free measure, comparable between our fractions and the paper's %.
    Returns ``{row: share or None}`` (None when a value is missing or the benign MAP is 0).
    """
    base = column.get(ORIGINAL)
    return {r: (None if base in (None, 0) or column.get(r) is None else column[r] / base) for r in rows}


def retained_side_by_side(ours: Mapping[str, Mapping[str, float]],
                          theirs: Mapping[str, Mapping[str, float | None]]) -> dict[str, dict[str, float | None]]:
    """:func:`retained` of every column: ``{"ours <dataset>": shares, ..., "paper <dataset>": shares, ...}``."""
    return side_by_side(ours, theirs, retained, retained)


# --- Table II ----------------------------------------------------------------------------------

def table2_row(result: Mapping) -> dict[str, float | None]:
    """Our Table II row of one defense from :func:`saatlib.experiments.evaluate_defense`'s dict.

    Returns:
        ``{"Original": map_benign, <attack>: MAP under it, ...}`` (fractions),
        the attacks in the order of ``result["map_under_attack"]`` (the check
        attack under ``"check"`` when it was run). For a model whose codes
        collapsed (``result["status"] == "collapsed"``: one code for the whole
        database) the attacked cells are None: its MAP cannot move under any
        attack, which is not robustness, so no verdict may count it.
    """
    collapsed = result.get("status") == "collapsed"
    if collapsed:
        log.warning("%s: collapsed model (one database code); its Table II cells under attack are left empty",
                    result.get("defense"))
    return {ORIGINAL: float(result["map_benign"]),
            **{a: None if collapsed else float(v) for a, v in result["map_under_attack"].items()}}


def paper_table2_rows(dataset: str, bits: int, undefended: bool = True) -> dict[str, dict[str, float | None]]:
    """The paper's Table II rows (%) for ``dataset`` and ``bits``, plus the undefended model.

    Args:
        undefended: include the row ``"none"`` (the undefended model).
    Returns:
        ``{defense: {column: value or None}}`` over :data:`TABLE2_COLUMNS`, for
        ``"none"`` (when ``undefended``): the undefended DPH victim, whose
        benign and attacked MAPs are Table I's ``Original``, ``HAG``, ``SDHA``
        and ``SAAT`` rows (same victim, same attacks), then the defenses in the
        paper's Table II (ATRDH, SAAT) in the order of its file.
    """
    defenses = list(dict.fromkeys(r["defense"] for r in paper.paper_table("defenses")))
    rows = {}
    if undefended:
        rows["none"] = {a: paper.paper_value("attacks", method=a, dataset=dataset, bits=bits) for a in TABLE2_COLUMNS}
    for d in defenses:
        rows[d] = {a: paper.paper_value("defenses", defense=d, attack=a, dataset=dataset, bits=bits)
                   for a in TABLE2_COLUMNS}
    return rows


def table2_side_by_side(ours: Mapping[str, Mapping[str, Mapping[str, float | None]]],
                        theirs: Mapping[str, Mapping[str, Mapping[str, float | None]]],
                        columns: Sequence[str] = TABLE2_COLUMNS) -> dict[tuple[str, str], dict[str, float | None]]:
    """Table II as the chapters show it: our rows, then the paper's, every value in %.

    Args:
        ours: ``{dataset: {defense: row}}`` (:func:`table2_row`, fractions).
        theirs: ``{paper dataset: rows}`` (:func:`paper_table2_rows`, %).
        columns: the columns shown (e.g. :data:`TABLE2_COLUMNS` and the check attack).
    Returns:
        ``{("ours <dataset>" or "paper <dataset>", defense): {column: value or None}}``
        (ours x 100; None where a row has no such column).
    """
    sides = side_by_side(ours, theirs, lambda rows: {m: _percent(row) for m, row in rows.items()})
    return {(source, m): {c: row.get(c) for c in columns} for source, rows in sides.items() for m, row in rows.items()}


def benign_cost(ours: Mapping[str, Mapping[str, Mapping[str, float | None]]],
                theirs: Mapping[str, Mapping[str, Mapping[str, float | None]]]) -> dict[str, dict[str, float | None]]:
    """The price of each defense on benign queries: its benign MAP minus the undefended model's, in points of %.

    Args:
        ours: ``{dataset: {defense: row}}`` (:func:`table2_row`, fractions; ``"none"``: undefended).
        theirs: ``{paper dataset: rows}`` (:func:`paper_table2_rows`, %, with ``"none"``).
    Returns:
        ``{"ours <dataset>" or "paper <dataset>": {defense: change or None}}`` for
        the datasets with an undefended row (None where a benign MAP is missing).
    """
    def cost(rows: Mapping[str, Mapping[str, float | None]], scale: float) -> dict[str, float | None]:
        base = rows["none"].get(ORIGINAL)
        return {m: None if base is None or row.get(ORIGINAL) is None else scale * (row[ORIGINAL] - base)
                for m, row in rows.items() if m != "none"}

    return side_by_side({d: rows for d, rows in ours.items() if "none" in rows},
                         {ds: rows for ds, rows in theirs.items() if "none" in rows},
                         lambda rows: cost(rows, 100.0), lambda rows: cost(rows, 1.0))


# --- per-query retrievals -----------------------------------------------------------------------

def perceptibility_beside_score(results: Mapping[tuple[str, bool], Mapping], targeted: bool = True) -> dict[str, dict]:
    """The score of each attack of Table I beside its perturbation's size (issue 20: a generative
    attack such as ProS-GAN released without an l_inf bound must show what its t-MAP cost).

    Args:
        results: ``{(attack, targeted): result}`` (:func:`saatlib.experiments.attacks.run_attack` dicts,
            with ``map_adversarial`` and ``perceptibility``).
        targeted: the targeted rows (t-MAP) or the non-targeted ones (MAP).
    Returns:
        ``{row name: {"score", "linf", "l2"}}`` in the order of ``results``: the MAP or t-MAP, and the
        mean l_inf and l_2 norms of x_adv - x over the attacked queries (pixels in [0, 1]).
    """
    return {row_name(a, t): {"score": r["map_adversarial"], "linf": r["perceptibility"]["linf"],
                             "l2": r["perceptibility"]["l2"]}
            for (a, t), r in results.items() if t == targeted}


def attack_update(attack) -> dict[str, str]:
    """How an attack moves the pixels, read from its parameters, for the chapters' settings tables.

    Returns ``{"update": ..., "start": ..., "tanh scale": ...}``: the update (a signed-gradient step of
    ``step_size``, SGD with momentum, Adam, or one generator pass), the start (random in the ball or x),
    and the tanh-scale schedule of the relaxed code (by tenths of the run, a value repeated n times written
    "vxn"; "-" where there is none).
    """
    p = attack.params
    if hasattr(p, "step_size"):
        update = f"sign step {label_255(p.step_size)}"
    elif hasattr(p, "momentum"):
        update = f"SGD lr {p.lr:g}, momentum {p.momentum:g}"
    elif hasattr(p, "steps"):
        update = f"Adam lr {p.lr:g}"
    else:
        update = "one generator pass"
    start = "random in the ball" if getattr(p, "random_start", False) else "x"
    schedule = getattr(p, "schedule", None)
    if not hasattr(p, "schedule"):
        scale = "-"
    elif schedule is None:
        scale = "a = 1"
    else:  # runs of one value written once with their length: 0.1x5 0.2 0.3 0.5 0.7 1
        runs = [[v, 1] for v in schedule[:1]]
        for v in schedule[1:]:
            if v == runs[-1][0]:
                runs[-1][1] += 1
            else:
                runs.append([v, 1])
        scale = " ".join(f"{v:g}x{n}" if n > 1 else f"{v:g}" for v, n in runs)
    return {"update": update, "start": start if hasattr(p, "steps") else "x", "tanh scale": scale}


def relevant_in_top_k(query_codes, db_codes, query_labels, db_labels, k: int) -> torch.Tensor:
    """(Q,) number of items relevant to each query (sharing a label) among its top ``k`` of the Hamming
    ranking (ties in database order, :func:`saatlib.metrics.top_retrievals`)."""
    idx = top_retrievals(query_codes, db_codes, k)[0]
    return relevant_to(query_labels, db_labels[idx]).sum(1)


# --- settings and Markdown ---------------------------------------------------------------------

def settings_table(profiles: Sequence[str]) -> dict[str, dict[str, object]]:
    """The settings that separate profiles (e.g. ``("default", "paper")``), side by side.

    Returns:
        ``{setting: {profile: value}}`` for the backbone (and the channels of
        ``smallcnn``'s blocks), the victim's training
        (epochs, batch, optimizer, learning rate), MAP@topk, the protocol sizes
        (None: the dataset's own split), attacked queries, the iterations of
        every registered attack that has them, the epochs of each defense and the
        queries of the defense evaluation, read from :mod:`saatlib.profiles`, and the
        value of each switch of the fidelity ledger (:mod:`saatlib.fidelity`).
    """
    out: dict[str, dict[str, object]] = {}

    def put(setting: str, name: str, value) -> None:
        out.setdefault(setting, {})[name] = value

    for name in profiles:
        p = get_profile(name)
        h, a, d = p["hashing"], p["attack"], p.get("defense", {})
        put("backbone", name, h["backbone"])
        put("backbone channels", name, "-".join(map(str, h["widths"])) if h.get("widths") else None)
        put("victim epochs", name, h["epochs"])
        put("victim batch size", name, h["batch_size"])
        put("victim optimizer", name, f"{h['optimizer']} lr {h['lr']:g}")
        put("MAP@topk", name, p["eval"]["topk"])
        for role in ("num_train", "num_database", "num_query"):
            put(role, name, p["data"][role])
        put("attacked queries (cap; chapters may attack fewer)", name, a["num_queries"])
        for attack in registered_attacks():  # every attack with iterations, as build_attack gives them
            if "steps" in attack_fields(attack):
                put(f"{attack} iterations", name, build_attack(attack, runs_targeted(attack)[0], name).steps)
        for defense in ("SAAT", "ATRDH", "CgAT"):
            put(f"{defense} defense epochs", name, d.get(defense, {}).get("epochs"))
        put("defense eval queries (cap)", name, d.get("eval", {}).get("num_queries", a["num_queries"]))
        for row in fidelity.LEDGER:  # the switches of the fidelity ledger that the profiles set
            if row.setting is not None:
                put(f"{row.name} (released: {row.released_value!r})", name, fidelity.profile_value(row, name))
    return out


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table: the ``header`` line, the rule, one line per row (cells as ``str``, ``|`` escaped).

    Returns the lines joined by newlines, without a final newline.
    """
    def line(cells: Sequence[object]) -> str:
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    return "\n".join([line(header), "|" + "---|" * len(header), *(line(r) for r in rows)])
