"""The paper's claims checked on the paper's own tables: rankings and the cells where a claim fails.

These read means only (the paper reports no per-query values): they say what
the paper's tables show, never judge our measurements. Our comparisons are
judged with their uncertainty by :mod:`saatlib.report.rule` from per-query
differences (:mod:`saatlib.report.comparisons`).

The book compares *orderings*, not absolute values: our models, data and
budgets differ from the paper's, so only statements such as "SAAT is the
strongest non-targeted attack" or "the SAAT-trained model keeps a higher MAP
than the ATRDH-trained one under every attack" can be checked on both sides.
Every function here takes plain dicts of numbers, so the same verdict is
computed from our measurements (MAP as a fraction in [0, 1],
:mod:`saatlib.report.tables`) and from the paper's tables
(:mod:`saatlib.report.paper`, values in %): an ordering does not depend on the unit.
"""
from __future__ import annotations

from typing import Mapping, Sequence

from saatlib.attack.registry import iterative
from saatlib.report import paper
from saatlib.report.tables import (NON_TARGETED_ROWS, TABLE1, TABLE2_ATTACKS, TARGETED_ROWS, paper_table1_column,
                                   paper_table2_rows)

#: Table I's targeted rows of iterative (gradient) attacks: P2P, DHTA, THA, SAAT-targeted (not the
#: generative ProS-GAN, whose claim the paper's tables bear out less often: see :func:`paper_claims`)
ITERATIVE_TARGETED_ROWS = tuple(r.name for r in TABLE1 if r.targeted and r.attack is not None and iterative(r.attack))

#: the paper's claims checked cell by cell in :func:`paper_claims`, in the order they are told
PAPER_CLAIM_KEYS = ("saat_lowest_map", "saat_highest_tmap", "saat_highest_tmap_with_prosgan",
                    "saat_beats_atrdh", "saat_doubles_none")


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
        "saat_highest_tmap": strictly_best(column, "SAAT-targeted", ITERATIVE_TARGETED_ROWS, lower_is_better=False),
        "non_targeted": ranking(column, NON_TARGETED_ROWS, lower_is_better=True),
        "targeted": ranking(column, TARGETED_ROWS, lower_is_better=False),
    }


def paper_saat_first(bits: int) -> list[bool | None]:
    """Per dataset of :data:`saatlib.report.paper.PAPER_DATASETS`: whether SAAT is first in both of
    the paper's Table I rankings at ``bits`` (lowest MAP and highest t-MAP, :func:`attack_verdicts`);
    None when the paper has no values at that code length."""
    out = []
    for ds in paper.PAPER_DATASETS:
        v = attack_verdicts(paper_table1_column(ds, bits))
        both = (v["saat_lowest_map"], v["saat_highest_tmap"])
        out.append(None if None in both else all(both))
    return out


def defense_verdicts(rows: Mapping[str, Mapping[str, float | None]],
                     attacks: Sequence[str] = TABLE2_ATTACKS, factor: float = 2.0) -> dict:
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
        :data:`saatlib.report.paper.PAPER_DATASETS`, with verdicts ``saat_lowest_map``
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
                "saat_highest_tmap_with_prosgan": strictly_best(col, "SAAT-targeted", TARGETED_ROWS,
                                                                lower_is_better=False),
                "saat_beats_atrdh": d["saat_beats_atrdh"], "saat_over_none": d["saat_over_none"],
                "saat_doubles_none": d["saat_doubles_none"]}
    return out


def paper_exceptions(claims: Mapping[tuple[str, int], Mapping[str, bool | None]]) -> dict[str, list[str]]:
    """Cells of the paper's tables where one of its claims fails.

    Args:
        claims: :func:`paper_claims` (``{(dataset, bits): verdicts}``).
    Returns:
        ``{claim key: sorted ["<dataset> <bits> bits", ...]}`` over :data:`PAPER_CLAIM_KEYS`
        (cells where the verdict is False; None, a missing value, is no exception).
    """
    return {key: sorted(f"{ds} {b} bits" for (ds, b), c in claims.items() if c[key] is False)
            for key in PAPER_CLAIM_KEYS}
