"""The verdicts as a reader reads them: one phrase per judged comparison, the rule, the counts, the claims table.

Every chapter that states a verdict (4, 5, 6) and ``reproduce`` write it with
these functions from the :class:`~saatlib.report.comparisons.Comparison` objects
of :mod:`saatlib.report.comparisons`, so one comparison reads the same
everywhere. Differences are shown in points of MAP (%, one decimal), never as
``-0.0``.
"""
from __future__ import annotations

from collections import Counter
from typing import Mapping, Sequence

from saatlib.report import rule
from saatlib.report.comparisons import Comparison, families, rival_of


def points(x: float, digits: int = 1, sign: bool = True) -> str:
    """A fraction of MAP in points of %: ``0.0283 -> "+2.8"``; a value that rounds to 0 is ``"0.0"``."""
    value = round(100.0 * x, digits)
    if value == 0:
        return f"{0.0:.{digits}f}"
    return f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"


def estimate(v: rule.Verdict) -> str:
    """``"+2.8 ± 1.1"``: the mean difference and its standard error, in points."""
    return f"{points(v.diff)} ± {points(v.se, sign=False)}"


def verdict_phrase(v: rule.Verdict) -> str:
    """The label in bold, the difference ± SE (points), the queries, and what they could detect:
    ``**tie** (+0.4 ± 0.9 points, 200 queries, detectable from 2.6)``; an underpowered one says how
    many queries would detect the target."""
    more = (f"; about {v.needed:,} queries would detect a gap of {points(v.target, sign=False)}"
            if v.label == rule.UNDERPOWERED else "")
    return (f"**{v.label}** ({estimate(v)} points, {v.n} queries, detectable from "
            f"{points(v.mde, sign=False)}{more})")


def comparison_bullets(comparisons: Sequence[Comparison], with_dataset: bool = False) -> str:
    """One Markdown bullet per comparison: ``* <claim>: <verdict phrase>``."""
    return "\n".join(f"* {c.claim}" + (f" ({c.dataset})" if with_dataset else "") + f": {verdict_phrase(c.verdict)}"
                     for c in comparisons)


def label_counts(comparisons: Sequence[Comparison]) -> str:
    """``"2 supported, 1 tie, 3 underpowered, 0 contradicted"`` (every label, in the rule's order)."""
    counts = Counter(c.label for c in comparisons)
    return ", ".join(f"{counts[x]} {x}" for x in rule.LABELS)


def count_markdown(num_comparisons: int, where: str = "this chapter") -> str:
    """How many comparisons ``where`` makes, and how many of them chance alone would label."""
    return (f"{where[0].upper() + where[1:]} makes {num_comparisons} comparisons; with no true difference "
            f"anywhere, about {rule.expected_false_alarms(num_comparisons):.1f} of them would be labelled "
            "supported or contradicted by chance (the rule is not corrected for their number).")


def rule_markdown(num_comparisons: int | None = None, where: str = "this chapter") -> str:
    """The rule stated for the reader (no TeX: generated Markdown is rendered as plain CommonMark); with
    ``num_comparisons``, also :func:`count_markdown`."""
    return (
        f"Every comparison is judged by one rule (`saatlib.report.rule`). For each query we take the "
        f"difference between the two sides (positive: the claim's way), their mean *d* and its standard "
        f"error SE. The claim is **supported** when *d* > {rule.Z:g} SE, **contradicted** when "
        f"*d* < −{rule.Z:g} SE; otherwise it is a **tie** when the queries could have detected a "
        f"difference of the size that matters (the smallest detectable difference, "
        f"({rule.Z:g} + {rule.Z_POWER:.2f}) × SE at 80 % power, is at most the median gap the paper "
        f"reports for the same claim, at least {points(rule.MIN_TARGET, sign=False)} point, or "
        f"{points(rule.DEFAULT_TARGET, sign=False)} points where the paper makes no such claim), and "
        f"**underpowered** when they could not."
        + ("" if num_comparisons is None else " " + count_markdown(num_comparisons, where)))


def paper_cell(gap: float | None) -> str:
    """The paper's difference for a claim (points, no standard error: the paper reports means), or ``"–"``."""
    return "–" if gap is None else points(gap)


def claims_table(comparisons: Sequence[Comparison]) -> dict[str, dict[str, str]]:
    """The table of claims: ``{claim: {"ours <dataset>": "label: d ± SE (n)", ..., "paper <dataset>": d}}``.

    One row per claim (in the order first met), one column per dataset of ours (the label and the
    difference ± SE in points, with the queries), then one per paper dataset (the paper's difference
    in points, "–" where it makes no such claim).
    """
    table: dict[str, dict[str, str]] = {}
    datasets = list(dict.fromkeys(c.dataset for c in comparisons))
    papers = list(dict.fromkeys(ds for c in comparisons for ds in c.paper))
    for c in comparisons:
        row = table.setdefault(c.claim, {f"ours {d}": "–" for d in datasets})
        v = c.verdict
        row[f"ours {c.dataset}"] = f"{v.label}: {estimate(v)} ({v.n} q.)"
        for ds in papers:
            row.setdefault(f"paper {ds}", paper_cell(c.paper.get(ds)))
    return table


def overall_phrase(comparisons: Sequence[Comparison]) -> str:
    """The label of a claim made of all ``comparisons`` (:func:`saatlib.report.rule.overall`), in bold."""
    return f"**{rule.overall(c.label for c in comparisons)}**"


def records(comparisons: Sequence[Comparison]) -> dict[str, dict]:
    """``{"verdict.<key>.<dataset>": record}`` for a chapter's :func:`saatlib.chapters.record`."""
    return {f"verdict.{c.key}.{c.dataset}": c.as_record() for c in comparisons}


def by_dataset(comparisons: Sequence[Comparison]) -> Mapping[str, list[Comparison]]:
    """The comparisons grouped by dataset, in the order met."""
    out: dict[str, list[Comparison]] = {}
    for c in comparisons:
        out.setdefault(c.dataset, []).append(c)
    return out


def family_bullets(comparisons: Sequence[Comparison], with_dataset: bool = True) -> list[str]:
    """One bullet per claim made of several comparisons (:data:`saatlib.report.comparisons.FAMILIES`):
    ``* <dataset>: <claim>: **<overall label>** (against HAG supported, +1.2 ± 0.4; ...)``."""
    return [f"* {f'**{d}**, {parts[0].verdict.n} queries: ' if with_dataset else ''}{claim}: "
            f"{overall_phrase(parts)} ("
            + "; ".join(f"{rival_of(c)} {c.label}, {estimate(c.verdict)}" for c in parts) + ")"
            for d, claim, parts in families(comparisons)]
