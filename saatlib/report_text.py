"""The book's computed sentences: verdicts of :mod:`saatlib.report` and measured curves as Markdown.

Chapters 4, 5 and 6 state, from the numbers of the run, which of the paper's
claims hold, whether a defense shows gradient masking, and how MAP moves with
the budget or SAAT's lambda. The numbers and verdicts come from
:mod:`saatlib.report` and the run store; this module only writes them out, so
the chapters' cells stay short and the wording is tested once, here. Our
values are fractions in [0, 1] (MAP), the paper's are in %.
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


# --- chapter 4: attacks ------------------------------------------------------------------------

def _gap_text(rival: str, mean: float, se: float) -> str:
    noise = "beyond" if abs(mean) > 2 * se else "within"
    return f"per-query AP of SAAT minus {rival}: {mean:+.3f} ± {se:.3f}, {noise} two standard errors"


def attack_ordering_markdown(non_targeted: Mapping[str, Mapping[str, float]],
                             targeted: Mapping[str, Mapping[str, float]],
                             gaps: Mapping[str, Mapping[bool, tuple[str, float, float]]],
                             num_queries: Mapping[str, int | None], paper_holds: Sequence[bool | None],
                             bits: int) -> tuple[str, int, dict[str, dict[str, bool | None]]]:
    """Whether SAAT is first in both rankings (lowest MAP, highest t-MAP) on each dataset, with the evidence.

    Args:
        non_targeted: ``{dataset: {attack: MAP}}`` (HAG, SDHA, SAAT).
        targeted: ``{dataset: {attack: t-MAP}}`` (P2P, DHTA, THA, SAAT: SAAT-targeted under "SAAT").
        gaps: ``{dataset: {False: (rival, mean, se), True: (...)}}``: SAAT against its closest
            rival in each ranking, per-query AP differences (:func:`report.paired_ap_gap`).
        num_queries: attacked queries per dataset.
        paper_holds: per paper dataset, whether SAAT is first in both of the paper's rankings
            (None: the paper has no values at ``bits``).
        bits: code length.
    Returns:
        (Markdown, number of the 2 x datasets gaps more than two standard errors from 0,
        ``{dataset: {"saat_lowest_map": ..., "saat_highest_tmap": ...}}``: SAAT strictly
        first, as :func:`report.attack_verdicts` decides for Table I).
    """
    lines, held, verdicts = [], 0, {}
    for d, nt in non_targeted.items():
        tg = targeted[d]
        v = verdicts[d] = {"saat_lowest_map": report.strictly_best(nt, "SAAT", list(nt), lower_is_better=True),
                           "saat_highest_tmap": report.strictly_best(tg, "SAAT", list(tg), lower_is_better=False)}
        held += bool(v["saat_lowest_map"]) + bool(v["saat_highest_tmap"])
        # the winner: SAAT when strictly first, else its strongest rival (ahead or level)
        low = "SAAT" if v["saat_lowest_map"] else min((n for n in nt if n != "SAAT"), key=nt.get)
        high = "SAAT" if v["saat_highest_tmap"] else max((n for n in tg if n != "SAAT"), key=tg.get)
        rivals = ", ".join(f"{n} {nt[n]:.3f}" for n in nt if n != "SAAT")
        a = (f"SAAT has the lowest MAP ({nt['SAAT']:.3f}; {rivals})" if low == "SAAT" else
             f"SAAT does **not** have the lowest MAP: {low} reaches {nt[low]:.3f}, SAAT {nt['SAAT']:.3f}")
        others = ", ".join(f"{n} {tg[n]:.3f}" for n in tg if n != "SAAT")
        b = (f"SAAT-targeted has the highest t-MAP ({tg['SAAT']:.3f}; {others})" if high == "SAAT" else
             f"SAAT-targeted does **not** have the highest t-MAP: {high} reaches {tg[high]:.3f}, "
             f"SAAT-targeted {tg['SAAT']:.3f}")
        lines.append(f"* **{d}** ({num_queries[d]} queries): {a} ({_gap_text(*gaps[d][False])}); "
                     f"{b} ({_gap_text(*gaps[d][True])}).")
    n = 2 * len(non_targeted)
    summary = "holds in full" if held == n else "does not hold at all" if held == 0 else "holds only in part"
    paper_text = (f"The paper has no {bits}-bit results to compare with. " if None in paper_holds else
                  f"In the paper ({bits} bits) SAAT is first in both rankings on all "
                  f"{len(paper_holds)} datasets. " if all(paper_holds) else
                  f"In the paper ({bits} bits) SAAT is not first everywhere. ")
    resolved = sum(abs(mean) > 2 * se for g in gaps.values() for _, mean, se in g.values())
    text = (paper_text + f"Here, the ordering **{summary}** ({held} of {n} comparisons):\n\n" + "\n".join(lines)
            + f"\n\n{resolved} of {n} gaps between SAAT and its closest rival exceed two standard errors of "
            "the per-query differences"
            + (": with this many queries, the ranking of the attacks is not resolved." if resolved == 0 else "."))
    return text, resolved, verdicts


# --- chapter 5: adversarial training -----------------------------------------------------------

def defense_verdict_markdown(ours: Mapping[str, Mapping[str, Mapping[str, float]]],
                             saat_epochs: Mapping[str, int],
                             attacks: Sequence[str] = ("HAG", "SDHA", "SAAT")) -> tuple[str, dict]:
    """Table II's claims on our rows, one paragraph per dataset, with the reason when 2x fails.

    Args:
        ours: ``{dataset: {defense: row}}`` (:func:`report.table2_row`; ``"none"`` undefended).
        saat_epochs: epochs of the SAAT defense per dataset (said when the ratio is below 2).
        attacks: the attacks of the first claim (the check attack may be among them).
    Returns:
        (Markdown, ``{dataset: report.defense_verdicts(...)}``). When SAAT keeps
        less than twice the undefended MAP, the text gives the ceiling of the
        ratio (the SAAT model's benign MAP over the undefended model's MAP under
        attack) and the share of its benign MAP the SAAT model keeps.
    """
    verdicts, paragraphs = {}, []
    for d, rows in ours.items():
        v = verdicts[d] = report.defense_verdicts(rows, attacks=attacks)
        saat, und, lines = rows.get("SAAT"), rows["none"], []
        if v["saat_over_none"] is not None:
            lines.append(f"under the SAAT attack the SAAT-trained model keeps MAP {saat['SAAT']:.3f} against "
                         f"{und['SAAT']:.3f} undefended: {v['saat_over_none']:.1f} times as much"
                         + (" (at least twice)" if v["saat_doubles_none"] else " — **less than twice**"))
            if not v["saat_doubles_none"]:
                lines.append(f"why not twice: even a SAAT model that kept its whole benign MAP "
                             f"({saat['Original']:.3f}) under the attack would reach "
                             f"{saat['Original'] / und['SAAT']:.2f} times; it keeps "
                             f"{saat['SAAT'] / saat['Original']:.0%} of it, after {saat_epochs[d]} epoch(s) of "
                             "adversarial training where the paper runs 20 (exercise 1 trains longer)")
        if v["saat_beats_atrdh"] is not None:
            lost = [a for a, won in v["beats"].items() if not won]
            lines.append("SAAT beats ATRDH under every attack" if not lost else
                         f"SAAT does **not** beat ATRDH under {', '.join(lost)}")
        cgat = rows.get("CgAT")
        if saat is not None and cgat is not None:
            ahead = [a for a in attacks if None not in (cgat.get(a), saat.get(a)) and cgat[a] >= saat[a]]
            gaps = [cgat[a] - saat[a] for a in attacks if None not in (cgat.get(a), saat.get(a))]
            if gaps:
                lines.append("CgAT, which the paper does not compare with SAAT, keeps "
                             + (f"at least as much MAP as SAAT under {'every attack' if len(ahead) == len(gaps) else ', '.join(ahead)}"
                                if ahead else "less MAP than SAAT under every attack")
                             + f" (CgAT minus SAAT: {min(gaps):+.3f} to {max(gaps):+.3f})")
        benign = [f"{m} {r['Original']:.3f} ({r['Original'] - und['Original']:+.3f})"
                  for m, r in rows.items() if m != "none" and r.get("Original") is not None]
        if benign:
            lines.append(f"benign MAP, the price of each defense (against {und['Original']:.3f} undefended): "
                         + ", ".join(benign))
        paragraphs.append(f"**{d}**:\n" + "\n".join(f"* {line};" for line in lines))
    return "\n\n".join(paragraphs), verdicts


def masking_report(under_attack: Mapping[tuple[str, str], Mapping[str, float]], check: str,
                   attacks: Sequence[str] = ("HAG", "SDHA", "SAAT"), masked_below: float = 0.1
                   ) -> tuple[list[dict], str]:
    """The gradient-masking check: the check attack against the lowest MAP of the table's attacks.

    Args:
        under_attack: ``{(dataset, defense): {attack: MAP}}`` with ``check`` among the
            attacks and defense ``"none"`` (undefended) on every dataset.
        check: the check attack's key.
        masked_below: a defense whose MAP under the check attack is more than this below
            its lowest MAP in the table is called suspect (its robustness is an
            artefact of the table's attacks).
    Returns:
        (rows: one dict per model with ``dataset``, ``defense``, the lowest MAP of
        ``attacks``, the check attack's MAP and their difference ``check minus
        lowest``; Markdown: how often the check attack is stronger, whether any
        defense is suspect, and each defense's MAP gain over the undefended model
        under the check attack).
    """
    rows = []
    for (d, m), r in under_attack.items():
        lowest = min(r[a] for a in attacks)
        rows.append({"dataset": d, "defense": m, f"lowest of {'/'.join(attacks)}": lowest,
                     "check attack": r[check], "check minus lowest": r[check] - lowest})
    suspect = [f"{r['defense']} on {r['dataset']}" for r in rows
               if r["defense"] != "none" and r["check minus lowest"] < -masked_below]
    stronger = sum(r["check minus lowest"] < 0 for r in rows)
    datasets = list(dict.fromkeys(d for d, _ in under_attack))
    gains = [f"{m} {r[check] - under_attack[d, 'none'][check]:+.3f}" + (f" ({d})" if len(datasets) > 1 else "")
             for (d, m), r in under_attack.items() if m != "none"]
    gaps = [r["check minus lowest"] for r in rows]
    text = ("The check takes, per query, the worst of the table's attacks and a restart attack on another "
            "objective, so it is never weaker than the table's strongest attack; "
            + (f"it goes below it on {stronger} of {len(rows)} models, by {-max(gaps):.3f} to {-min(gaps):.3f} MAP. "
               if stronger else "here it never goes below it: no attack finds a weakness the strongest missed. "))
    text += (f"No defense loses more than {masked_below:g} MAP to it beyond its lowest MAP in the table: no sign "
             "of gradient masking at this budget. " if not suspect else
             f"It takes at least {masked_below:g} MAP more than the table's attacks from {', '.join(suspect)}: "
             "part of that robustness in the table is an artefact of the attacks, not of the model. ")
    text += "Under the check attack the defenses keep, over the undefended model, " + ", ".join(gains) + " MAP."
    return rows, text


def eps_curve_markdown(eps_255: Sequence[float], curves: Mapping[str, Sequence[float]]) -> str:
    """Which defense keeps most MAP at the largest budget, and every curve's values.

    Args:
        eps_255: budgets in units of 1/255, in the order of the curves' values.
        curves: ``{defense: [MAP at each budget]}`` with ``"none"`` (undefended) among them.
    """
    top = eps_255.index(max(eps_255))
    best = max(curves, key=lambda m: curves[m][top])
    return (f"At {eps_255[top]:g}/255, twice the training budget, the most robust model is **{best}** "
            f"(MAP {curves[best][top]:.3f}; undefended {curves['none'][top]:.3f}). "
            + " ".join(f"{m}: {', '.join(f'{v:.3f}' for v in c)}." for m, c in curves.items())
            + f" (MAP at eps {', '.join(f'{e:g}/255' for e in eps_255)}.)")


def lambda_markdown(grid: Mapping[tuple[float, float], Mapping[str, float]]) -> str:
    """How MAP (benign and under the SAAT attack) moves with SAAT's lambda at the smallest mu.

    Args:
        grid: ``{(lambda, mu): {"map_benign": ..., "map_attack": ...}}``
            (:func:`saatlib.defense_widgets.lambda_mu_grid`).
    """
    mu0 = min(mu for _, mu in grid)
    by_lambda = {lam: grid[lam, mu0] for lam in sorted(lam for lam, mu in grid if mu == mu0)}
    lo, hi = min(by_lambda), max(by_lambda)
    return (f"With mu = {mu0:g}: "
            + "; ".join(f"lambda {lam:g}: benign {r['map_benign']:.3f}, under SAAT {r['map_attack']:.3f}"
                        for lam, r in by_lambda.items())
            + f". From lambda {lo:g} to {hi:g} the MAP under attack changes by "
            f"{by_lambda[hi]['map_attack'] - by_lambda[lo]['map_attack']:+.3f} and the benign MAP by "
            f"{by_lambda[hi]['map_benign'] - by_lambda[lo]['map_benign']:+.3f}.")
