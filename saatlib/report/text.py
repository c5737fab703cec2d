"""The book's computed sentences: the verdicts of :mod:`saatlib.report.verdicts` and measured curves as Markdown.

Chapters 4, 5 and 6 state, from the numbers of the run, which of the paper's
claims hold, whether a defense shows gradient masking, and how MAP moves with
the budget, the iterations or SAAT's lambda. The numbers come from the run
store and :mod:`saatlib.report.tables`, the verdicts from
:mod:`saatlib.report.verdicts`; this module only writes them out, so the
chapters hold no sentence of their own and the wording is tested once, here.
Our values are fractions in [0, 1] (MAP), the paper's are in %.
"""
from __future__ import annotations

from typing import Mapping, Sequence

from saatlib.report.tables import NON_TARGETED_ROWS, TABLE2_ATTACKS, TARGETED_ROWS, benign_cost, retained, side_by_side
from saatlib.report.verdicts import (CLAIM_KEYS, attack_verdicts, defense_verdicts, paper_exceptions, ranking,
                                     strictly_best)

#: the row label of each claim in the chapters' table of claims (:func:`claims_table`)
CLAIM_LABELS = {
    "saat_lowest_map": "Table I: SAAT lowest MAP",
    "saat_highest_tmap": "Table I: SAAT-targeted highest t-MAP",
    "saat_beats_atrdh": "Table II: SAAT-trained above ATRDH under " + ", ".join(TABLE2_ATTACKS),
    "saat_doubles_none": "Table II: SAAT-trained >= 2x undefended under SAAT",
    "saat_beats_cgat": "Table II (not in the paper): SAAT-trained above CgAT under " + ", ".join(TABLE2_ATTACKS),
}


def holds_text(verdict: bool | None) -> str:
    """``"holds"``, ``"does not hold"`` or ``"cannot be checked"`` (None) for a verdict."""
    return "cannot be checked" if verdict is None else "holds" if verdict else "does not hold"


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


def _count(verdicts: Sequence[Mapping], keys: Sequence[str]) -> int:
    return sum(v[k] is True for v in verdicts for k in keys)


def attack_claims_markdown(ours: Mapping[str, Mapping[str, float | None]],
                           theirs: Mapping[str, Mapping[str, float | None]],
                           num_queries: Mapping[str, int | None], bits: int) -> str:
    """Table I's two orderings (SAAT lowest MAP, SAAT-targeted highest t-MAP), ours and the paper's.

    Args:
        ours: ``{dataset: Table I column}`` (:func:`~saatlib.report.tables.table1_column`, fractions).
        theirs: ``{paper dataset: column}`` (:func:`~saatlib.report.tables.paper_table1_column`, %).
        num_queries: attacked queries per dataset of ``ours``.
        bits: code length of both sides.
    Returns:
        Markdown: how many of the orderings hold on each side, then one bullet
        per dataset with the attacks ranked strongest first (values in %).
    """
    keys = ("saat_lowest_map", "saat_highest_tmap")
    verdicts = {d: attack_verdicts(col) for d, col in ours.items()}
    paper_verdicts = {ds: attack_verdicts(col) for ds, col in theirs.items()}
    lines = [f"* **{d}** ({num_queries[d]} queries), MAP: "
             f"{ranking_text(ours[d], NON_TARGETED_ROWS, True, 100)}; "
             f"SAAT lowest **{holds_text(v['saat_lowest_map'])}**. t-MAP: "
             f"{ranking_text(ours[d], TARGETED_ROWS, False, 100)}; "
             f"SAAT-targeted highest **{holds_text(v['saat_highest_tmap'])}**."
             for d, v in verdicts.items()]
    lines += [f"* paper, {ds}: MAP {ranking_text(col, NON_TARGETED_ROWS, True)}; "
              f"t-MAP {ranking_text(col, TARGETED_ROWS, False)}."
              for ds, col in theirs.items()]
    return (f"In the paper ({bits} bits) the two orderings hold in {_count(list(paper_verdicts.values()), keys)} "
            f"of {2 * len(theirs)} cases; on our data in **{_count(list(verdicts.values()), keys)} of "
            f"{2 * len(ours)}** (values in %, strongest attack first):\n\n" + "\n".join(lines))


def defense_claims_markdown(ours: Mapping[str, Mapping[str, Mapping[str, float]]],
                            theirs: Mapping[str, Mapping[str, Mapping[str, float | None]]],
                            bits: int, check: str | None = None) -> str:
    """Table II's claims (SAAT above ATRDH under every attack; SAAT >= 2x undefended), ours and the paper's.

    Args:
        ours: ``{dataset: {defense: Table II row}}`` (:func:`~saatlib.report.tables.table2_row`, fractions;
            defense ``"none"`` is the undefended victim).
        theirs: ``{paper dataset: rows}`` (:func:`~saatlib.report.tables.paper_table2_rows`, %).
        bits: code length of both sides.
        check: name of our check attack's column; when given, one more bullet says
            whether SAAT stays above ATRDH under it.
    Returns:
        Markdown: on how many of the paper's datasets the first claim holds and the
        range of its ratio, then a bullet per dataset of ours.
    """
    verdicts = {d: defense_verdicts(rows) for d, rows in ours.items()}
    paper_verdicts = {ds: defense_verdicts(rows) for ds, rows in theirs.items()}
    lines = []
    for d, v in verdicts.items():
        saat, atrdh = (ours[d].get(m, {}) for m in ("SAAT", "ATRDH"))
        pairs = ", ".join(f"{a} {100 * saat[a]:.1f} vs {100 * atrdh[a]:.1f}"
                          for a in v["beats"] if a in saat and a in atrdh)
        ratio = "–" if v["saat_over_none"] is None else f"{v['saat_over_none']:.2f}×"
        lines.append(
            f"* **{d}**: SAAT-trained vs ATRDH-trained ({pairs or 'not both run'}): above under every "
            f"attack **{holds_text(v['saat_beats_atrdh'])}**. Under the SAAT attack, SAAT-trained "
            f"/ undefended = {ratio}: at least twice **{holds_text(v['saat_doubles_none'])}**.")
    if check is not None:
        beats = {d: defense_verdicts(rows, attacks=(check,))["beats"][check] for d, rows in ours.items()}
        lines.append(f"* under the {check} attack, SAAT-trained above ATRDH-trained: "
                     + ", ".join(f"{d} {holds_text(v)}" for d, v in beats.items()) + ".")
    ratios = [v["saat_over_none"] for v in paper_verdicts.values() if v["saat_over_none"] is not None]
    spread = f"{min(ratios):.2f} to {max(ratios):.2f}" if ratios else "not available"
    return (f"In the paper ({bits} bits) the first claim holds on "
            f"{_count(list(paper_verdicts.values()), ('saat_beats_atrdh',))} of {len(theirs)} "
            f"datasets and the ratio is {spread}. Here:\n\n" + "\n".join(lines))


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
            rival in each ranking, per-query AP differences (:func:`~saatlib.report.tables.paired_ap_gap`).
        num_queries: attacked queries per dataset.
        paper_holds: per paper dataset, whether SAAT is first in both of the paper's rankings
            (None: the paper has no values at ``bits``).
        bits: code length.
    Returns:
        (Markdown, number of the 2 x datasets gaps more than two standard errors from 0,
        ``{dataset: {"saat_lowest_map": ..., "saat_highest_tmap": ...}}``: SAAT strictly
        first, as :func:`~saatlib.report.verdicts.attack_verdicts` decides for Table I).
    """
    lines, held, verdicts = [], 0, {}
    for d, nt in non_targeted.items():
        tg = targeted[d]
        v = verdicts[d] = {"saat_lowest_map": strictly_best(nt, "SAAT", list(nt), lower_is_better=True),
                           "saat_highest_tmap": strictly_best(tg, "SAAT", list(tg), lower_is_better=False)}
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


def ablation_markdown(ablation: Mapping[str, Mapping[str, float]], labels: Mapping[str, str], dataset: str,
                      num_queries: int | None) -> tuple[str, str]:
    """Which of SAAT's objectives reaches the lowest MAP: the masked one, without the mask, the plain inner product.

    Args:
        ablation: ``{variant: {"map": MAP, ...}}`` with the variants ``mask``, ``nomask``
            and ``linear`` (:func:`saatlib.experiments.objective_ablation`).
        labels: the name shown for each variant.
        dataset, num_queries: what was attacked.
    Returns:
        (Markdown: each MAP, its difference from the masked objective's, and
        whether the lowest comes from the mask as the paper argues; the variant
        with the lowest MAP).
    """
    best = min(ablation, key=lambda v: ablation[v]["map"])
    gap = {v: r["map"] - ablation["mask"]["map"] for v, r in ablation.items()}
    return (f"On {dataset}, {num_queries} queries: the masked objective reaches MAP "
            f"{ablation['mask']['map']:.4f}; without the mask "
            f"{ablation['nomask']['map']:.4f} ({gap['nomask']:+.4f}), with the "
            f"plain inner product {ablation['linear']['map']:.4f} "
            f"({gap['linear']:+.4f}). The lowest MAP comes from "
            f"**{labels[best]}**" + (", as the paper argues." if best == "mask" else
                                     ": here the mask does not pay off.")), best


def eps_budget_markdown(eps_255: Sequence[float], maps: Sequence[float], l2: Sequence[float],
                        benign: float) -> tuple[str, float]:
    """How much of the damage the reference budget (8/255) does, and whether a larger one still adds much.

    Args:
        eps_255: budgets in units of 1/255, in the order of ``maps`` and ``l2``.
        maps: MAP under the attack at each budget.
        l2: mean l_2 norm of the perturbation at each budget.
        benign: MAP of the benign queries.
    Returns:
        (Markdown, share): ``share`` is the part of the MAP drop of the largest
        budget that the reference budget achieves (0 when the largest does not
        lower MAP). The reference is 8/255 when among the budgets, else the
        middle one; the verdict says whether the largest budget still removes
        at least half the MAP left at the reference (not a saturation point),
        or the reference does 70% of the damage or more (a larger budget mostly
        buys visibility), or neither (a compromise with visibility).
    """
    by_eps, norm = dict(zip(eps_255, maps)), dict(zip(eps_255, l2))
    top = max(eps_255)
    ref = 8 if 8 in eps_255 else sorted(eps_255)[len(eps_255) // 2]
    drop = benign - by_eps[top]
    share = (benign - by_eps[ref]) / drop if drop > 0 else 0.0
    smaller = [e for e in eps_255 if e < ref]
    left = by_eps[top] / by_eps[ref] if by_eps[ref] > 0 else 1.0  # MAP kept by the larger budget
    verdict = (
        f"{ref}/255 does {share:.0%} of the damage in absolute terms, yet "
        f"{top}/255 still removes {1 - left:.0%} of the MAP left at {ref}/255: "
        "the default budget is not a saturation point" if left < 0.5 else
        f"{ref}/255 already does most of the damage of {top}/255, so a "
        "larger budget mostly buys visibility" if share >= 0.7 else
        f"a larger budget still adds much damage: {ref}/255 is a "
        "compromise with visibility, not a saturation point")
    text = (f"At {ref}/255 SAAT takes MAP from {benign:.3f} to "
            f"{by_eps[ref]:.3f}, {share:.0%} of the drop that {top}/255 "
            f"achieves ({by_eps[top]:.3f})"
            + (f"; at {smaller[-1]}/255 MAP is still {by_eps[smaller[-1]]:.3f}" if smaller else "")
            + f". The mean l_2 norm of the perturbation grows from {norm[ref]:.2f} "
            f"at {ref}/255 to {norm[top]:.2f} at {top}/255. Here {verdict}.")
    return text, share


def steps_markdown(maps: Mapping[int, float], profile_steps: int, benign: float) -> str:
    """What iterations beyond the profile's budget still buy.

    Args:
        maps: ``{iterations: MAP under the attack}`` in the order of the sweep, with ``profile_steps`` among them.
        profile_steps: the profile's iterations.
        benign: MAP of the benign queries.
    Returns:
        Markdown: MAP after the first, the profile's and the most iterations, and
        whether the most iterations lower MAP no further (less than 0.0005), a
        little (less than a tenth of the drop the profile's budget achieves) or much.
    """
    first, most = next(iter(maps)), max(maps)
    m_ref, m_max = maps[profile_steps], maps[most]
    gain = m_ref - m_max
    return (f"MAP after {first} iterations: {maps[first]:.3f}; after "
            f"{profile_steps} (the profile's budget): {m_ref:.3f}; after {most}: "
            f"{m_max:.3f}, "
            + (f"no lower ({-gain:+.3f})" if gain < 0.0005 else
               f"a further drop of {gain:.3f}" if gain < 0.1 * max(benign - m_ref, 1e-9)
               else f"still a large drop, {gain:.3f}")
            + f", for {most / profile_steps:g} times the cost.")


# --- chapter 5: adversarial training -----------------------------------------------------------

def defense_verdict_markdown(ours: Mapping[str, Mapping[str, Mapping[str, float]]],
                             saat_epochs: Mapping[str, int],
                             attacks: Sequence[str] = TABLE2_ATTACKS) -> tuple[str, dict]:
    """Table II's claims on our rows, one paragraph per dataset, with the reason when 2x fails.

    Args:
        ours: ``{dataset: {defense: row}}`` (:func:`~saatlib.report.tables.table2_row`; ``"none"`` undefended).
        saat_epochs: epochs of the SAAT defense per dataset (said when the ratio is below 2).
        attacks: the attacks of the first claim (the check attack may be among them).
    Returns:
        (Markdown, ``{dataset: defense_verdicts(...)}``). When SAAT keeps
        less than twice the undefended MAP, the text gives the ceiling of the
        ratio (the SAAT model's benign MAP over the undefended model's MAP under
        attack) and the share of its benign MAP the SAAT model keeps.
    """
    verdicts, paragraphs = {}, []
    for d, rows in ours.items():
        v = verdicts[d] = defense_verdicts(rows, attacks=attacks)
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
                   attacks: Sequence[str] = TABLE2_ATTACKS, masked_below: float = 0.1
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
    below = [-r["check minus lowest"] for r in rows if r["check minus lowest"] < 0]  # how far below, > 0
    text = ("The check takes, per query, the worst of the table's attacks and a restart attack on another "
            "objective, so it is never weaker than the table's strongest attack; "
            + (f"it goes below it on {stronger} of {len(rows)} models, by {min(below):.3f} to {max(below):.3f} MAP. "
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
            (:func:`saatlib.widgets.lambda_mu_grid`).
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


# --- chapter 6: the reproduction report --------------------------------------------------------

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


def claims_table(ours: Mapping[str, Mapping[str, bool | None]],
                 theirs: Mapping[str, Mapping[str, bool | None]]) -> dict[str, dict[str, str]]:
    """The table of claims: ``{"ours <dataset>" or "paper <dataset>": {claim label: "yes", "no" or "–"}}``.

    Args:
        ours, theirs: ``{dataset: {claim key: verdict}}``
            (:func:`~saatlib.report.verdicts.claim_verdicts`), ours and the paper's.
    Returns:
        One column per source (ours first), one row per claim of
        :data:`~saatlib.report.verdicts.CLAIM_KEYS` labelled by :data:`CLAIM_LABELS`;
        "–" where a verdict cannot be checked (None).
    """
    def mark(claims: Mapping[str, bool | None]) -> dict[str, str]:
        return {CLAIM_LABELS[k]: {True: "yes", False: "no", None: "–"}[claims.get(k)] for k in CLAIM_KEYS}

    return side_by_side(ours, theirs, mark, mark)
