"""Chapter 6's computed sentences (the reproduction report): retained MAP, the benign cost, the claims
overview and the summary."""
from __future__ import annotations

from typing import Mapping, Sequence

from saatlib.report.comparisons import Comparison
from saatlib.report.tables import benign_cost, retained
from saatlib.report.verdict_text import family_bullets, label_counts, points
from saatlib.report.verdicts import paper_exceptions


def retained_markdown(ours: Mapping[str, Mapping[str, float | None]],
                      theirs: Mapping[str, Mapping[str, float | None]]) -> str:
    """The share of the benign MAP the SAAT attack leaves (:func:`~saatlib.report.tables.retained`), the
    paper's range beside ours.

    Args:
        ours: ``{dataset: Table I column}`` (fractions); theirs: ``{paper dataset: column}`` (%).
    """
    paper_saat = [s for s in (retained(c)["SAAT"] for c in theirs.values()) if s is not None]
    spread = f"{min(paper_saat):.0%} to {max(paper_saat):.0%}" if paper_saat else "an unknown share"
    return (f"In the paper SAAT leaves {spread} of the benign MAP; here "
            + ", ".join(f"{retained(c)['SAAT']:.0%} on {d}" for d, c in ours.items()) + ".")


def benign_cost_markdown(ours: Mapping[str, Mapping[str, Mapping[str, float | None]]]) -> str:
    """The range of the change of benign MAP that our defenses bring (:func:`~saatlib.report.tables.benign_cost`).

    Args:
        ours: ``{dataset: {defense: Table II row}}`` (fractions, with ``"none"``).
    Returns:
        Markdown (empty when no dataset has both an undefended and a defended
        benign MAP); where a defense raises the benign MAP, it says why.
    """
    changes = [v for col in benign_cost(ours, {}).values() for v in col.values() if v is not None]
    if not changes:
        return ""
    return (f"Here the defenses change the benign MAP by {min(changes):+.1f} to {max(changes):+.1f} points"
            + ("; where it rises, the victim had not finished learning: the defense's epochs "
               "also continue its training on benign images." if max(changes) > 0 else "."))


def claims_overview_markdown(comparisons: Sequence[Comparison]) -> str:
    """Each claim as a whole, per dataset, with its comparisons' labels (:func:`family_bullets`), and the counts."""
    return ("\n".join(family_bullets(comparisons))
            + f"\n\nOf these {len(comparisons)} comparisons: {label_counts(comparisons)}.")


def reproduction_summary_markdown(table1: Sequence[Comparison], table2: Sequence[Comparison],
                                  paper_cells: Mapping[tuple[str, int], Mapping[str, bool | None]]) -> str:
    """Chapter 6's findings: the claims on our data, judged, and where the paper's own tables depart from them."""
    exceptions = paper_exceptions(paper_cells)
    departures = sorted({cell for cells in exceptions.values() for cell in cells})
    return ("Found on this run:\n\n" + "\n".join(family_bullets([*table1, *table2]))
            + f"\n* In all, {len(table1) + len(table2)} comparisons: {label_counts([*table1, *table2])}."
            + f"\n* The paper's own tables, read at every code length ({len(paper_cells)} cells of dataset and "
            f"bits), depart from its claims in {len(departures)} of them (listed above).")


def paper_table_caption(table: str, dataset: str) -> str:
    """The caption of one of the paper's own tables on ``dataset``: ``table`` is ``"attacks"`` (Table I) or
    ``"defenses"`` (Table II), every code length."""
    if table == "attacks":
        return f"**The paper's Table I, {dataset}**: MAP and t-MAP (%) of each attack on its DPH victim, by code length"
    if table == "defenses":
        return f"**The paper's Table II, {dataset}**: MAP (%) of each defended model under each attack, by code length"
    raise ValueError(f"table must be 'attacks' or 'defenses', got {table!r}")
