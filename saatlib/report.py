"""Our Table I and Table II analogues beside the paper's, and the verdicts on them.

The book's reproduction chapter compares *orderings*, not absolute values:
our models, data and budgets differ from the paper's, so only statements such
as "SAAT is the strongest non-targeted attack" or "the SAAT-trained model
keeps a higher MAP than the ATRDH-trained one under every attack" can be
checked on both sides. Every function here takes plain dicts of numbers, so
the same verdict is computed from our measurements (MAP as a fraction in
[0, 1]) and from the paper's tables (:mod:`saatlib.paper`, values in %): an
ordering does not depend on the unit.

Row names follow the paper's CSV files: Table I rows ``Original``, ``HAG``,
``SDHA``, ``SAAT`` (MAP) and ``P2P``, ``DHTA``, ``THA``, ``SAAT-targeted``
(t-MAP); Table II columns ``Original`` (benign queries), ``HAG``, ``SDHA``,
``SAAT`` (MAP under attack), plus ``check`` (this library's restart attack,
:data:`saatlib.experiments.CHECK`) on our side.
"""
from __future__ import annotations

import logging
from typing import Mapping, Sequence

import torch

from saatlib import fidelity, paper
from saatlib.metrics import average_precision
from saatlib.profiles import get_profile

log = logging.getLogger(__name__)

#: Table I rows scored by MAP (lower = stronger attack); ``Original`` = benign queries
NON_TARGETED_ROWS = ("HAG", "SDHA", "SAAT")
#: Table I rows scored by t-MAP (higher = stronger attack)
TARGETED_ROWS = ("P2P", "DHTA", "THA", "SAAT-targeted")
#: every Table I row of our measurements, in the paper's order (``Original t-MAP``:
#: the benign queries scored with their target labels, a row the paper does not have)
TABLE1_ROWS = ("Original", *NON_TARGETED_ROWS, "Original t-MAP", *TARGETED_ROWS)
#: the paper's generative targeted attack: in its Table I, not implemented here
PROSGAN = "ProS-GAN"
#: the rows of Table I as the chapter shows them: ours and the paper's, in the paper's order
PAPER_TABLE1_ROWS = ("Original", *NON_TARGETED_ROWS, "Original t-MAP", "P2P", "DHTA", PROSGAN, "THA",
                     "SAAT-targeted")
#: Table II columns the paper reports
TABLE2_ATTACKS = ("Original", "HAG", "SDHA", "SAAT")


def attacked_queries(profile: str, dataset: str, num_queries) -> int | None:
    """Queries a chapter attacks on ``dataset``: its wish capped by the profile's.

    Args:
        num_queries: an int, None (the profile's), or ``{dataset: int or None}``.
    Returns:
        ``min(wish, profile's attack.num_queries)``; the wish when the profile
        has no cap (None), the cap when there is no wish; None = every query.
        The attack chapter caps its queries the same way, so both chapters
        ask the run store for the same attack runs.
    """
    cap = get_profile(profile)["attack"]["num_queries"]
    want = num_queries.get(dataset) if isinstance(num_queries, Mapping) else num_queries
    if want is None:
        return cap
    return want if cap is None else min(want, cap)


def row_name(attack: str, targeted: bool) -> str:
    """The Table I row of an attack: ``"SAAT-targeted"`` for targeted SAAT, else the attack's name."""
    return f"{attack}-targeted" if targeted and attack == "SAAT" else attack


def table1_column(results: Mapping[tuple[str, bool], Mapping]) -> dict[str, float]:
    """Our Table I column from attack results (fractions in [0, 1]).

    Args:
        results: ``{(attack name, targeted): result}`` with the dicts of
            :func:`saatlib.attack_widgets.cached_attack` (or ``run_attack``):
            ``map_adversarial`` (MAP, or t-MAP when targeted), ``map_benign``
            and, for targeted runs, ``tmap_benign``.
    Returns:
        ``{row: value}`` in the order of :data:`TABLE1_ROWS`, for the rows the
        results allow: ``Original`` from the non-targeted SAAT run's
        ``map_benign`` (else any non-targeted run's), ``Original t-MAP`` from a
        targeted run's ``tmap_benign``, the others from ``map_adversarial``.
    """
    col: dict[str, float] = {}
    plain = [r for (name, t), r in results.items() if not t]
    targeted = [r for (name, t), r in results.items() if t]
    benign = results.get(("SAAT", False)) or (plain[0] if plain else None)
    t_benign = results.get(("SAAT", True)) or (targeted[0] if targeted else None)
    values = {row_name(n, t): float(r["map_adversarial"]) for (n, t), r in results.items()}
    if benign is not None:
        values["Original"] = float(benign["map_benign"])
    if t_benign is not None and "tmap_benign" in t_benign:
        values["Original t-MAP"] = float(t_benign["tmap_benign"])
    for row in TABLE1_ROWS:
        if row in values:
            col[row] = values[row]
    return col


def paper_table1_column(dataset: str, bits: int) -> dict[str, float | None]:
    """The paper's Table I values (%) for ``dataset`` and ``bits``, by row of :data:`PAPER_TABLE1_ROWS`.

    Returns:
        ``{row: value or None}`` (ProS-GAN included); ``Original t-MAP`` is
        always None (not in the paper), and so is every row the paper lacks at
        this code length.
    """
    return {row: None if row == "Original t-MAP" else paper.paper_value("attacks", method=row, dataset=dataset,
                                                                         bits=bits)
            for row in PAPER_TABLE1_ROWS}


def paired_ap_gap(codes_a, codes_b, db_codes, query_labels, db_labels, topk: int | None) -> tuple[float, float]:
    """Mean and standard error over the queries of AP(a) - AP(b): two attacks on the same queries.

    Args:
        codes_a, codes_b: (Q, K) adversarial query codes of the two attacks, in {-1, +1}.
        db_codes, db_labels: (N, K) database codes and (N, C) labels.
        query_labels: (Q, C) labels scoring the queries (their target labels for t-MAP).
        topk: AP@topk (None: the whole database).
    Returns:
        (mean, standard error) of the per-query differences (standard error 0 for one query).
        A gap more than two standard errors from 0 is unlikely to be noise of the query sample.
    """
    return paired_difference(average_precision(codes_a, db_codes, query_labels, db_labels, topk=topk),
                             average_precision(codes_b, db_codes, query_labels, db_labels, topk=topk))


def paired_difference(a, b) -> tuple[float, float]:
    """Mean and standard error over the queries of a - b, per-query values (e.g. AP) of two
    runs on the same queries (sequences or 1-D tensors); standard error 0 for one query."""
    diff = torch.as_tensor(a, dtype=torch.float64) - torch.as_tensor(b, dtype=torch.float64)
    se = float(diff.std() / len(diff) ** 0.5) if len(diff) > 1 else 0.0
    return float(diff.mean()), se


def ranking(values: Mapping[str, float | None], names: Sequence[str], lower_is_better: bool) -> list[str]:
    """``names`` sorted from the strongest to the weakest attack (missing or None values left out).

    Equal values keep the order of ``names`` (a stable sort).
    """
    present = [n for n in names if values.get(n) is not None]
    return sorted(present, key=lambda n: values[n] if lower_is_better else -values[n])


def strictly_best(values: Mapping[str, float | None], name: str, rivals: Sequence[str],
                  lower_is_better: bool) -> bool | None:
    """Whether ``values[name]`` beats every rival strictly (a tie is not a win).

    Returns None when ``name`` or every rival is missing (None or absent).
    """
    mine = values.get(name)
    others = [values[r] for r in rivals if r != name and values.get(r) is not None]
    if mine is None or not others:
        return None
    return mine < min(others) if lower_is_better else mine > max(others)


def attack_verdicts(column: Mapping[str, float | None]) -> dict:
    """The paper's Table I claims checked on one column (ours in [0, 1], or the paper's in %).

    Returns:
        dict with ``saat_lowest_map`` (SAAT's MAP strictly below HAG's and
        SDHA's), ``saat_highest_tmap`` (SAAT-targeted's t-MAP strictly above
        P2P's, DHTA's and THA's), each None when the values are missing, and
        ``non_targeted`` / ``targeted``: the attacks ranked strongest first
        (:func:`ranking`).
    """
    return {
        "saat_lowest_map": strictly_best(column, "SAAT", NON_TARGETED_ROWS, lower_is_better=True),
        "saat_highest_tmap": strictly_best(column, "SAAT-targeted", TARGETED_ROWS, lower_is_better=False),
        "non_targeted": ranking(column, NON_TARGETED_ROWS, lower_is_better=True),
        "targeted": ranking(column, TARGETED_ROWS, lower_is_better=False),
    }


def ranking_text(values: Mapping[str, float | None], names: Sequence[str], lower_is_better: bool,
                 scale: float = 1.0, digits: int = 1) -> str:
    """The attacks ranked strongest first, as text: ``"SAAT 10.2 < SDHA 25.0 < HAG 30.0"``.

    Values are multiplied by ``scale`` (100: fractions shown in %) and joined
    with ``<`` (MAP, ``lower_is_better``) or ``>`` (t-MAP); equal values keep
    the order of ``names``. Missing values are left out; ``"–"`` when none is left.
    """
    order = ranking(values, names, lower_is_better)
    sep = " < " if lower_is_better else " > "
    return sep.join(f"{n} {values[n] * scale:.{digits}f}" for n in order) or "–"


def holds_text(verdict: bool | None) -> str:
    """``"holds"``, ``"does not hold"`` or ``"cannot be checked"`` (None) for a verdict."""
    return "cannot be checked" if verdict is None else "holds" if verdict else "does not hold"


def retained(column: Mapping[str, float | None], rows: Sequence[str] = NON_TARGETED_ROWS) -> dict[str, float | None]:
    """Share of the benign MAP that each non-targeted attack leaves: ``column[row] / column["Original"]``.

    A unit-free measure, comparable between our fractions and the paper's %.
    Returns ``{row: share or None}`` (None when a value is missing or the benign MAP is 0).
    """
    base = column.get("Original")
    return {r: (None if base in (None, 0) or column.get(r) is None else column[r] / base) for r in rows}


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
    return {"Original": float(result["map_benign"]),
            **{a: None if collapsed else float(v) for a, v in result["map_under_attack"].items()}}


def paper_table2_rows(dataset: str, bits: int) -> dict[str, dict[str, float | None]]:
    """The paper's Table II rows (%) for ``dataset`` and ``bits``, plus the undefended model.

    Returns:
        ``{defense: {attack: value or None}}`` over :data:`TABLE2_ATTACKS`, for
        the defenses in the paper's Table II (ATRDH, SAAT) and ``"none"``: the
        undefended DPH victim, whose benign and attacked MAPs are Table I's
        ``Original``, ``HAG``, ``SDHA`` and ``SAAT`` rows (same victim, same attacks).
    """
    defenses = list(dict.fromkeys(r["defense"] for r in paper.paper_table("defenses")))
    rows = {"none": {a: paper.paper_value("attacks", method=a, dataset=dataset, bits=bits) for a in TABLE2_ATTACKS}}
    for d in defenses:
        rows[d] = {a: paper.paper_value("defenses", defense=d, attack=a, dataset=dataset, bits=bits)
                   for a in TABLE2_ATTACKS}
    return rows


def defense_verdicts(rows: Mapping[str, Mapping[str, float | None]],
                     attacks: Sequence[str] = ("HAG", "SDHA", "SAAT"), factor: float = 2.0) -> dict:
    """The paper's Table II claims checked on one table (ours in [0, 1], or the paper's in %).

    Args:
        rows: ``{defense: {attack: MAP}}`` with the defenses ``SAAT``,
            ``ATRDH`` and ``none`` (the undefended model), as far as available.
        attacks: the attacks of the first claim.
        factor: the second claim's multiple.
    Returns:
        dict with
        ``beats`` (``{attack: SAAT-trained MAP > ATRDH-trained MAP under it}``,
        None per attack when a value is missing), ``saat_beats_atrdh`` (True
        when it holds under every one of ``attacks``; None when a comparison is
        missing), ``beats_cgat`` and ``saat_beats_cgat`` (the same against CgAT,
        a later defense the paper does not compare; None without a CgAT row),
        ``saat_over_none`` (SAAT-trained MAP under the SAAT attack
        divided by the undefended model's; None when missing or the
        denominator is 0) and ``saat_doubles_none`` (that MAP >= ``factor``
        times the undefended model's; None when missing).
    """
    saat, atrdh, none = rows.get("SAAT", {}), rows.get("ATRDH", {}), rows.get("none", {})

    def above(rival: Mapping) -> tuple[dict, bool | None]:
        per = {a: (None if saat.get(a) is None or rival.get(a) is None else saat[a] > rival[a]) for a in attacks}
        return per, (None if None in per.values() else all(per.values()))

    beats, all_beat = above(atrdh)
    beats_cgat, all_beat_cgat = above(rows.get("CgAT", {}))
    mine, base = saat.get("SAAT"), none.get("SAAT")
    ratio = None if mine is None or base in (None, 0) else mine / base
    doubles = None if mine is None or base is None else mine >= factor * base
    return {"beats": beats, "saat_beats_atrdh": all_beat, "saat_over_none": ratio, "saat_doubles_none": doubles,
            "beats_cgat": beats_cgat, "saat_beats_cgat": all_beat_cgat}


def paper_claims(bits: Sequence[int] | None = None) -> dict[tuple[str, int], dict]:
    """The paper's own tables checked against its claims, cell by cell.

    Args:
        bits: code lengths to check (default: every length in Table I).
    Returns:
        ``{(dataset, bits): verdicts}`` for the datasets of
        :data:`saatlib.paper.PAPER_DATASETS`, with verdicts ``saat_lowest_map``
        and ``saat_highest_tmap`` (:func:`attack_verdicts`: SAAT-targeted
        against P2P, DHTA and THA), ``saat_highest_tmap_with_prosgan`` (the
        same with ProS-GAN among the rivals), ``saat_beats_atrdh``,
        ``saat_over_none`` and ``saat_doubles_none`` (:func:`defense_verdicts`).
    """
    lengths = sorted({r["bits"] for r in paper.paper_table("attacks")}) if bits is None else list(bits)
    out = {}
    for ds in paper.PAPER_DATASETS:
        for b in lengths:
            col = paper_table1_column(ds, b)
            v = attack_verdicts(col)
            d = defense_verdicts(paper_table2_rows(ds, b))
            out[ds, b] = {
                "saat_lowest_map": v["saat_lowest_map"], "saat_highest_tmap": v["saat_highest_tmap"],
                "saat_highest_tmap_with_prosgan": strictly_best(col, "SAAT-targeted", (*TARGETED_ROWS, PROSGAN),
                                                                lower_is_better=False),
                "saat_beats_atrdh": d["saat_beats_atrdh"], "saat_over_none": d["saat_over_none"],
                "saat_doubles_none": d["saat_doubles_none"]}
    return out


def settings_table(profiles: Sequence[str]) -> dict[str, dict[str, object]]:
    """The settings that separate profiles (e.g. ``("default", "paper")``), side by side.

    Returns:
        ``{setting: {profile: value}}`` for the backbone (and the channels of
        ``smallcnn``'s blocks), the victim's training
        (epochs, batch, optimizer, learning rate), MAP@topk, the protocol sizes
        (None: the dataset's own split), attacked queries, the iterations of
        SAAT, HAG, SDHA, P2P and THA, the epochs of each defense and the
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
        for attack in ("SAAT", "HAG", "SDHA", "P2P", "THA"):
            put(f"{attack} iterations", name, a["steps"][attack])
        for defense in ("SAAT", "ATRDH", "CgAT"):
            put(f"{defense} defense epochs", name, d.get(defense, {}).get("epochs"))
        put("defense eval queries (cap)", name, d.get("eval", {}).get("num_queries", a["num_queries"]))
        for row in fidelity.LEDGER:  # the switches of the fidelity ledger that the profiles set
            if row.setting is not None:
                put(f"{row.name} (released: {row.released_value!r})", name, fidelity.profile_value(row, name))
    return out
