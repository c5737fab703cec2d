"""The reproduction report's sentences: verdicts of :mod:`saatlib.report` as Markdown.

Chapter 6 states, for our tables and the paper's, which of the paper's claims
hold. The numbers and verdicts come from :mod:`saatlib.report`; this module only
writes them out, so the chapter's cells stay short and the wording is tested
once, here. Our values are fractions in [0, 1] (shown in %), the paper's are
already in %.
"""
from __future__ import annotations

from typing import Mapping, Sequence

from saatlib import report

#: the paper's claims checked cell by cell in :func:`report.paper_claims`, in the order they are told
PAPER_CLAIM_KEYS = ("saat_lowest_map", "saat_highest_tmap", "saat_highest_tmap_with_prosgan",
                    "saat_beats_atrdh", "saat_doubles_none")


def _count(verdicts: Sequence[Mapping], keys: Sequence[str]) -> int:
    return sum(v[k] is True for v in verdicts for k in keys)


def attack_claims_markdown(ours: Mapping[str, Mapping[str, float | None]],
                           theirs: Mapping[str, Mapping[str, float | None]],
                           num_queries: Mapping[str, int | None], bits: int) -> str:
    """Table I's two orderings (SAAT lowest MAP, SAAT-targeted highest t-MAP), ours and the paper's.

    Args:
        ours: ``{dataset: Table I column}`` (:func:`report.table1_column`, fractions).
        theirs: ``{paper dataset: column}`` (:func:`report.paper_table1_column`, %).
        num_queries: attacked queries per dataset of ``ours``.
        bits: code length of both sides.
    Returns:
        Markdown: how many of the orderings hold on each side, then one bullet
        per dataset with the attacks ranked strongest first (values in %).
    """
    keys = ("saat_lowest_map", "saat_highest_tmap")
    verdicts = {d: report.attack_verdicts(col) for d, col in ours.items()}
    paper_verdicts = {ds: report.attack_verdicts(col) for ds, col in theirs.items()}
    lines = [f"* **{d}** ({num_queries[d]} queries), MAP: "
             f"{report.ranking_text(ours[d], report.NON_TARGETED_ROWS, True, 100)}; "
             f"SAAT lowest **{report.holds_text(v['saat_lowest_map'])}**. t-MAP: "
             f"{report.ranking_text(ours[d], report.TARGETED_ROWS, False, 100)}; "
             f"SAAT-targeted highest **{report.holds_text(v['saat_highest_tmap'])}**."
             for d, v in verdicts.items()]
    lines += [f"* paper, {ds}: MAP {report.ranking_text(col, report.NON_TARGETED_ROWS, True)}; "
              f"t-MAP {report.ranking_text(col, report.TARGETED_ROWS, False)}."
              for ds, col in theirs.items()]
    return (f"In the paper ({bits} bits) the two orderings hold in {_count(list(paper_verdicts.values()), keys)} "
            f"of {2 * len(theirs)} cases; on our data in **{_count(list(verdicts.values()), keys)} of "
            f"{2 * len(ours)}** (values in %, strongest attack first):\n\n" + "\n".join(lines))


def defense_claims_markdown(ours: Mapping[str, Mapping[str, Mapping[str, float]]],
                            theirs: Mapping[str, Mapping[str, Mapping[str, float | None]]],
                            bits: int, check: str | None = None) -> str:
    """Table II's claims (SAAT above ATRDH under every attack; SAAT >= 2x undefended), ours and the paper's.

    Args:
        ours: ``{dataset: {defense: Table II row}}`` (:func:`report.table2_row`, fractions;
            defense ``"none"`` is the undefended victim).
        theirs: ``{paper dataset: rows}`` (:func:`report.paper_table2_rows`, %).
        bits: code length of both sides.
        check: name of our check attack's column; when given, one more bullet says
            whether SAAT stays above ATRDH under it.
    Returns:
        Markdown: on how many of the paper's datasets the first claim holds and the
        range of its ratio, then a bullet per dataset of ours.
    """
    verdicts = {d: report.defense_verdicts(rows) for d, rows in ours.items()}
    paper_verdicts = {ds: report.defense_verdicts(rows) for ds, rows in theirs.items()}
    lines = []
    for d, v in verdicts.items():
        saat, atrdh = (ours[d].get(m, {}) for m in ("SAAT", "ATRDH"))
        pairs = ", ".join(f"{a} {100 * saat[a]:.1f} vs {100 * atrdh[a]:.1f}"
                          for a in v["beats"] if a in saat and a in atrdh)
        ratio = "–" if v["saat_over_none"] is None else f"{v['saat_over_none']:.2f}×"
        lines.append(
            f"* **{d}**: SAAT-trained vs ATRDH-trained ({pairs or 'not both run'}): above under every "
            f"attack **{report.holds_text(v['saat_beats_atrdh'])}**. Under the SAAT attack, SAAT-trained "
            f"/ undefended = {ratio}: at least twice **{report.holds_text(v['saat_doubles_none'])}**.")
    if check is not None:
        beats = {d: report.defense_verdicts(rows, attacks=(check,))["beats"][check] for d, rows in ours.items()}
        lines.append(f"* under the {check} attack, SAAT-trained above ATRDH-trained: "
                     + ", ".join(f"{d} {report.holds_text(v)}" for d, v in beats.items()) + ".")
    ratios = [v["saat_over_none"] for v in paper_verdicts.values() if v["saat_over_none"] is not None]
    spread = f"{min(ratios):.2f} to {max(ratios):.2f}" if ratios else "not available"
    return (f"In the paper ({bits} bits) the first claim holds on "
            f"{_count(list(paper_verdicts.values()), ('saat_beats_atrdh',))} of {len(theirs)} "
            f"datasets and the ratio is {spread}. Here:\n\n" + "\n".join(lines))


def paper_exceptions(claims: Mapping[tuple[str, int], Mapping[str, bool | None]]) -> dict[str, list[str]]:
    """Cells of the paper's tables where one of its claims fails.

    Args:
        claims: :func:`report.paper_claims` (``{(dataset, bits): verdicts}``).
    Returns:
        ``{claim key: sorted ["<dataset> <bits> bits", ...]}`` over :data:`PAPER_CLAIM_KEYS`
        (cells where the verdict is False; None, a missing value, is no exception).
    """
    return {key: sorted(f"{ds} {b} bits" for (ds, b), c in claims.items() if c[key] is False)
            for key in PAPER_CLAIM_KEYS}


def paper_claims_markdown(claims: Mapping[tuple[str, int], Mapping[str, bool | None]]) -> str:
    """One paragraph: where, over every dataset and code length, the paper's own tables bear out its claims."""
    exceptions = paper_exceptions(claims)

    def where(key: str) -> str:
        return "every cell" if not exceptions[key] else "all but " + ", ".join(exceptions[key])

    return (f"Reading the paper's tables at every code length ({len(claims)} cells of dataset and bits): "
            f"SAAT has the lowest MAP in {where('saat_lowest_map')}; SAAT-targeted has the highest "
            f"t-MAP among P2P, DHTA and THA in {where('saat_highest_tmap')}, and with the generative "
            f"ProS-GAN among the rivals in {where('saat_highest_tmap_with_prosgan')}. The SAAT-trained "
            f"model is above the ATRDH-trained one under all three attacks in {where('saat_beats_atrdh')}, "
            f"and at least twice the undefended MAP under the SAAT attack in {where('saat_doubles_none')}.")
