"""The book's computed sentences, chapter by chapter: findings, judged comparisons and measured curves as Markdown.

Chapters 2, 4, 5 and 6 state, from the numbers of the run, how the paper's
claims fare on our data, whether a defense shows symptoms of gradient masking,
and how MAP moves with the budget, the iterations or SAAT's lambda. The numbers
come from the run store and :mod:`saatlib.report.tables`; every comparison is
judged by :mod:`saatlib.report.rule` through :mod:`saatlib.report.comparisons`
and phrased by :mod:`saatlib.report.verdict_text`; the paper's own tables are
read by :mod:`saatlib.report.verdicts`. This module only writes them out, so
the chapters hold no sentence of their own and the wording is tested once,
here. Our values are fractions in [0, 1] (MAP), shown in %; the paper's are in %.
"""
from __future__ import annotations

from typing import Mapping, Sequence

from saatlib.profiles import DEFAULT_PROFILE, attack_budget_255, per_255, training_budget_255
from saatlib.report import rule
from saatlib.report.comparisons import Comparison
from saatlib.report.paper import PAPER_DATASETS, paper_value
from saatlib.report.tables import NON_TARGETED_ROWS, TARGETED_ROWS, benign_cost, retained
from saatlib.report.verdict_text import (by_dataset, comparison_bullets, estimate, family_bullets, label_counts,
                                        overall_phrase, points, verdict_phrase)
from saatlib.report.verdicts import paper_claims, paper_exceptions, ranking


def _plural(n: int, word: str) -> str:
    """``"1 epoch"``, ``"2 epochs"``."""
    return f"{n} {word}" + ("" if n == 1 else "s")


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


# --- chapter 2: deep hashing ----------------------------------------------------------------

def paper_benign_markdown(bits: int) -> str:
    """The paper's benign MAP of its victim at ``bits`` on each of its datasets (Table I, ``Original``)."""
    values = [(ds, paper_value("attacks", method="Original", dataset=ds, bits=bits)) for ds in PAPER_DATASETS]
    shown = ", ".join(f"{v:.1f} % ({ds})" for ds, v in values if v is not None)
    if not shown:
        return f"The paper's Table I has no {bits}-bit column."
    return (f"For scale: the paper's Table I reports a benign MAP of {shown} for its {bits}-bit victim, an "
            "ImageNet-pretrained AlexNet trained for 100 epochs on a GPU.")


# --- chapter 4: attacks ------------------------------------------------------------------------

def _where(cells: Sequence[str], total: Sequence[str]) -> str:
    """``"all three datasets"`` / ``"X and Y, not Z"`` / ``"none of them"`` for the paper's datasets where a
    statement holds (``cells``) among ``total``."""
    missing = [d for d in total if d not in cells]
    if not missing:
        return f"all {len(total)} of its datasets"
    if not cells:
        return "none of its datasets"
    return " and ".join(cells) + " (not " + " and ".join(missing) + ")"


def paper_ordering_markdown(bits: int) -> str:
    """What the paper's Table I at ``bits`` shows of SAAT's ordering, dataset by dataset (its own numbers).

    Returns one sentence: where SAAT has the lowest MAP, where SAAT-targeted has the highest t-MAP among
    P2P, DHTA and THA, and where it stays highest with the generative ProS-GAN counted too.
    """
    claims = paper_claims([bits])
    cells = {key: [ds for ds in PAPER_DATASETS if claims[ds, bits][key]]
             for key in ("saat_lowest_map", "saat_highest_tmap", "saat_highest_tmap_with_prosgan")}
    if all(claims[ds, bits][k] is None for ds in PAPER_DATASETS for k in cells):
        return f"The paper's Table I has no {bits}-bit column."
    return (f"In the paper's Table I at {bits} bits, SAAT has the lowest MAP on "
            f"{_where(cells['saat_lowest_map'], PAPER_DATASETS)}; SAAT-targeted has the highest t-MAP among "
            f"P2P, DHTA and THA on {_where(cells['saat_highest_tmap'], PAPER_DATASETS)}, and with the generative "
            f"ProS-GAN counted too on {_where(cells['saat_highest_tmap_with_prosgan'], PAPER_DATASETS)}.")


def table1_verdict_markdown(comparisons: Sequence[Comparison], columns: Mapping[str, Mapping[str, float]]) -> str:
    """Table I's orderings on our data: per dataset the attacks ranked (%), each comparison with its label,
    and the two claims' overall labels (:func:`saatlib.report.rule.overall`).

    Args:
        comparisons: :func:`saatlib.report.comparisons.table1_comparisons` of every dataset.
        columns: ``{dataset: Table I column}`` (fractions, :func:`~saatlib.report.tables.table1_column`).
    """
    parts = []
    for d, comps in by_dataset(comparisons).items():
        col = columns[d]
        plain = [c for c in comps if c.key.startswith("table1.SAAT<")]
        targeted = [c for c in comps if c.key.startswith("table1.SAAT-targeted>")]
        n = comps[0].verdict.n
        lines = [f"**{d}** ({n} queries; in %, strongest first): MAP "
                 f"{ranking_text(col, NON_TARGETED_ROWS, True, 100)}; t-MAP "
                 f"{ranking_text(col, TARGETED_ROWS, False, 100)}.", "", comparison_bullets(comps)]
        if plain:
            lines.append(f"* SAAT has the lowest MAP (all of the above): {overall_phrase(plain)}")
        if targeted:
            lines.append(f"* SAAT-targeted has the highest t-MAP (all of the above): {overall_phrase(targeted)}")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def ablation_verdict_markdown(ablation: Mapping[str, Mapping[str, float]], comparisons: Sequence[Comparison],
                              labels: Mapping[str, str], dataset: str) -> str:
    """The objective ablation: each variant's MAP (%) and each comparison with the masked objective, judged.

    Args:
        ablation: ``{variant: {"map": ..., ...}}`` (``mask``, ``nomask``, ``linear``).
        comparisons: :func:`saatlib.report.comparisons.ablation_comparisons`.
        labels: the name shown for each variant.
    """
    maps = ", ".join(f"{labels[v]} {points(r['map'], sign=False)}" for v, r in ablation.items())
    return (f"On {dataset} ({comparisons[0].verdict.n} queries), MAP in %: {maps}. Judged per query:\n\n"
            + comparison_bullets(comparisons))


def eps_budget_markdown(eps_255: Sequence[float], maps: Sequence[float], l2: Sequence[float],
                        benign: float, reference: float | None = None,
                        profile: str | None = None) -> tuple[str, float]:
    """How much of the damage the reference budget (the profile's) does, and whether a larger one still adds much.

    Args:
        eps_255: budgets in units of 1/255, in the order of ``maps`` and ``l2``.
        maps: MAP under the attack at each budget.
        l2: mean l_2 norm of the perturbation at each budget.
        benign: MAP of the benign queries.
    Returns:
        (Markdown, share): ``share`` is the part of the MAP drop of the largest
        budget that the reference budget achieves (0 when the largest does not
        lower MAP). The reference is ``reference`` (units of 1/255; None with ``profile``: that profile's
        budget, :func:`saatlib.profiles.attack_budget_255`) when among the budgets, else the
        middle one; the verdict says whether the largest budget still removes
        at least half the MAP left at the reference (not a saturation point),
        or the reference does 70% of the damage or more (a larger budget mostly
        buys visibility), or neither (a compromise with visibility).
    """
    if reference is None and profile is not None:
        reference = attack_budget_255(profile)
    by_eps, norm = dict(zip(eps_255, maps)), dict(zip(eps_255, l2))
    top = max(eps_255)
    ref = reference if reference in eps_255 else sorted(eps_255)[len(eps_255) // 2]
    drop = benign - by_eps[top]
    share = (benign - by_eps[ref]) / drop if drop > 0 else 0.0
    smaller = [e for e in eps_255 if e < ref]
    left = by_eps[top] / by_eps[ref] if by_eps[ref] > 0 else 1.0  # MAP kept by the larger budget
    verdict = (
        f"{ref:g}/255 does {share:.0%} of the damage in absolute terms, yet "
        f"{top:g}/255 still removes {1 - left:.0%} of the MAP left at {ref:g}/255: "
        "the default budget is not a saturation point" if left < 0.5 else
        f"{ref:g}/255 already does most of the damage of {top:g}/255, so a "
        "larger budget mostly buys visibility" if share >= 0.7 else
        f"a larger budget still adds much damage: {ref:g}/255 is a "
        "compromise with visibility, not a saturation point")
    text = (f"At {ref:g}/255 SAAT takes MAP from {points(benign, sign=False)} % to "
            f"{points(by_eps[ref], sign=False)} %, {share:.0%} of the drop that {top:g}/255 "
            f"achieves ({points(by_eps[top], sign=False)} %)"
            + (f"; at {smaller[-1]:g}/255 MAP is still {points(by_eps[smaller[-1]], sign=False)} %" if smaller else "")
            + f". The mean l_2 norm of the perturbation grows from {norm[ref]:.2f} "
            f"at {ref:g}/255 to {norm[top]:.2f} at {top:g}/255. Here {verdict}.")
    return text, share


def steps_markdown(maps: Mapping[int, float], profile_steps: int, comparison: Comparison) -> str:
    """What iterations beyond the profile's budget still buy, judged.

    Args:
        maps: ``{iterations: MAP under the attack}`` in the order of the sweep, with ``profile_steps`` among them.
        profile_steps: the profile's iterations.
        comparison: the most iterations against the profile's (:func:`saatlib.report.comparisons.paired`).
    Returns:
        Markdown: MAP (%) after the first, the profile's and the most iterations, and the comparison's verdict.
    """
    first, most = next(iter(maps)), max(maps)
    return (f"MAP after {_plural(first, 'iteration')}: {points(maps[first], sign=False)} %; after {profile_steps} (the "
            f"profile's): {points(maps[profile_steps], sign=False)} %; after {most}: "
            f"{points(maps[most], sign=False)} %, for {most / profile_steps:g} times the cost. "
            f"{comparison.claim}: {verdict_phrase(comparison.verdict)}.")


def prosgan_markdown(curves: Mapping[str, Mapping], rivals: Mapping[str, Mapping[str, Mapping]]) -> str:
    """What ProS-GAN's training reached on each dataset, against the issue's target (half-way from the benign
    t-MAP to the prototype's theory t-MAP), beside the iterative targeted attacks of Table I.

    Args:
        curves: ``{dataset: {"tmap": [t-MAP after each epoch], "benign": benign t-MAP, "theory": the prototype
            codes' t-MAP, "linf": mean l_inf of x_adv - x, "seconds": training seconds}}`` (fractions).
        rivals: ``{dataset: {row name: {"score": t-MAP, "linf": mean l_inf}}}`` of the other targeted attacks
            (:func:`saatlib.report.tables.perceptibility_beside_score`).
    Returns:
        Markdown, one bullet per dataset (t-MAP in %, l_inf in units of 1/255).
    """
    lines = []
    for d, c in curves.items():
        half = c["benign"] + (c["theory"] - c["benign"]) / 2
        final, best = c["tmap"][-1], max(c["tmap"])
        reached = "reaches" if final >= half else "does not reach"
        others = ", ".join(f"{n} {points(r['score'], sign=False)} %" for n, r in rivals.get(d, {}).items())
        lines.append(f"* {d}: after {_plural(len(c['tmap']), 'epoch')} ({c['seconds']:.0f} s of training) ProS-GAN "
                     f"{reached} half-way from the benign t-MAP ({points(c['benign'], sign=False)} %) to its "
                     f"prototype's ({points(c['theory'], sign=False)} %): {points(final, sign=False)} % against "
                     f"{points(half, sign=False)} % (best epoch {points(best, sign=False)} %), with a mean l_inf of "
                     f"{c['linf'] * 255:.1f}/255; the iterative attacks on the same queries and targets: {others}.")
    return "\n".join(lines)


def attack_summary_markdown(table1: Sequence[Comparison], ablation: Sequence[Comparison],
                            steps: Comparison, budget_share: float, budget_255: float | None, top_255: float,
                            profile: str = DEFAULT_PROFILE) -> str:
    """Chapter 4's findings as bullets, with their numbers and labels.

    Args:
        table1: :func:`saatlib.report.comparisons.table1_comparisons` of every dataset.
        ablation: :func:`saatlib.report.comparisons.ablation_comparisons`.
        steps: the most iterations against the profile's.
        budget_share: share of the largest budget's MAP drop that the profile's budget achieves.
        budget_255, top_255: the profile's budget (None: ``profile``'s,
            :func:`saatlib.profiles.attack_budget_255`) and the largest of the sweep (units of 1/255).
    """
    budget_255 = attack_budget_255(profile) if budget_255 is None else budget_255
    lines = family_bullets([*table1, *ablation])
    lines.append(f"* Budget: {budget_255:g}/255 does {budget_share:.0%} of the MAP drop of {top_255:g}/255. "
                 f"Iterations: {steps.claim}: **{steps.label}** ({estimate(steps.verdict)}).")
    return ("Found on this run (differences in points of MAP, ± standard error; per claim, the label of the "
            "claim as a whole, then of each comparison):\n\n" + "\n".join(lines))


# --- chapter 5: adversarial training -----------------------------------------------------------

def defense_verdict_markdown(comparisons: Sequence[Comparison], ours: Mapping[str, Mapping[str, Mapping[str, float]]],
                             saat_epochs: Mapping[str, int], paper_epochs: int) -> str:
    """Table II's claims on our rows, one paragraph per dataset, every comparison judged.

    Args:
        comparisons: :func:`saatlib.report.comparisons.table2_comparisons` of every dataset.
        ours: ``{dataset: {defense: Table II row}}`` (fractions; ``"none"`` undefended).
        saat_epochs: epochs of the SAAT defense per dataset; paper_epochs: the released script's.
    Returns:
        Markdown: per dataset, SAAT against ATRDH under each attack and overall, the ratio
        to the undefended model under SAAT (with its ceiling when below 2), SAAT against
        CgAT, and the benign price of each defense.
    """
    paragraphs = []
    for d, comps in by_dataset(comparisons).items():
        rows, lines = ours[d], []
        saat, und = rows.get("SAAT", {}), rows["none"]
        atrdh = [c for c in comps if ".SAAT>ATRDH." in "." + c.key]
        cgat = [c for c in comps if ".SAAT>CgAT." in "." + c.key]
        doubles = [c for c in comps if c.key.startswith("table2.SAAT>=")]
        if atrdh:
            lines.append(comparison_bullets(atrdh))
            lines.append(f"* SAAT-trained above ATRDH-trained under every attack: {overall_phrase(atrdh)}")
        for c in doubles:
            ratio = saat["SAAT"] / und["SAAT"] if und.get("SAAT") else None
            lines.append(f"* {c.claim}: {verdict_phrase(c.verdict)}; MAP {points(saat['SAAT'], sign=False)} against "
                         f"{points(und['SAAT'], sign=False)} undefended"
                         + (f", {ratio:.1f} times as much" if ratio is not None else ""))
            if ratio is not None and ratio < 2 and saat.get("Original"):
                lines.append(f"* the ceiling of that ratio: a SAAT-trained model that kept its whole benign MAP "
                             f"({points(saat['Original'], sign=False)}) under the attack would reach "
                             f"{saat['Original'] / und['SAAT']:.1f} times; it keeps "
                             f"{saat['SAAT'] / saat['Original']:.0%} of it, after "
                             f"{_plural(saat_epochs[d], 'epoch')} of adversarial training where the released "
                             f"script runs {paper_epochs}")
        if cgat:
            lines.append(comparison_bullets(cgat))
            lines.append(f"* SAAT-trained above CgAT-trained (not compared in the paper) under every attack: "
                         f"{overall_phrase(cgat)}")
        benign = [f"{m} {points(r['Original'] - und['Original'])}" for m, r in rows.items()
                  if m != "none" and r.get("Original") is not None]
        if benign:
            lines.append(f"* benign MAP, the price of each defense (points against "
                         f"{points(und['Original'], sign=False)} undefended): " + ", ".join(benign))
        paragraphs.append(f"**{d}** ({comps[0].verdict.n} queries):\n\n" + "\n".join(lines))
    return "\n\n".join(paragraphs)


def masking_markdown(comparisons: Sequence[Comparison], checks: Mapping[tuple[str, str], Mapping],
                     budget_255: float | None = None, profile: str = DEFAULT_PROFILE) -> str:
    """The gradient-masking checks, judged, and what they rule out and what they do not.

    Args:
        comparisons: :func:`saatlib.report.comparisons.masking_comparisons` of every model.
        checks: ``{(dataset, defense): saatlib.experiments.masking_checks(...)}``.
        budget_255: the training budget (units of 1/255), to say how large the large budget is
            (None: ``profile``'s, :func:`saatlib.profiles.training_budget_255`).
    Returns:
        Markdown: every check with its label; the symptoms of masking found (a transfer attack
        stronger than the white-box one, MAP above chance at the large budget) on defended models;
        how much the stronger attack takes beyond the table's; what the checks rule out and what not.
    """
    budget_255 = training_budget_255(profile) if budget_255 is None else budget_255
    large_255 = max(per_255(v["large_eps"]) for v in checks.values())
    defended = [c for c in comparisons if not c.key.endswith(".none")]
    symptoms = [c for c in defended if c.label == rule.SUPPORTED and not c.key.startswith("masking.stronger.")]
    stronger = [c for c in defended if c.label == rule.SUPPORTED and c.key.startswith("masking.stronger.")]
    open_ = [c for c in defended if c.label == rule.UNDERPOWERED]
    lines = [comparison_bullets(comparisons, with_dataset=True), ""]
    lines.append("Symptoms of masking on the defended models (a transfer attack stronger than the white-box one, "
                 "MAP above chance at the large budget): "
                 + ("none." if not symptoms else
                    "; ".join(f"{c.claim} ({c.dataset}, {points(c.verdict.diff)} points)" for c in symptoms) + "."))
    if stronger:
        gains = [c.verdict.diff for c in stronger]
        lines.append(f"The stronger attack takes a further {points(min(gains), sign=False)} to "
                     f"{points(max(gains), sign=False)} points from "
                     + ", ".join(f"{c.claim.split(':')[0]} ({c.dataset})" for c in stronger)
                     + ": the table's attacks overstate those models' robustness by that much, which the "
                       "check column of Table II already counts.")
    lines.append(f"The checks rule out, down to the detectable differences above, that a defended model resists "
                 f"its own gradients better than the undefended model's, and that its MAP stays above chance when "
                 f"the budget grows to {large_255:g}/255 ({large_255 / budget_255:g} times the training budget); "
                 "they do not rule out attacks of other kinds (black-box, score-based or query attacks, other "
                 "objectives and step rules, other transfer sources), nor smaller effects"
                 + (", nor anything on the underpowered comparisons." if open_ else "."))
    return "\n".join(lines)


def eps_curve_markdown(eps_255: Sequence[float], curves: Mapping[str, Sequence[float]],
                       train_eps_255: float | None = None, leader: Comparison | None = None,
                       profile: str = DEFAULT_PROFILE) -> str:
    """Which defense keeps most MAP at the largest budget, and every curve's values (MAP in %).

    Args:
        eps_255: budgets in units of 1/255, in the order of the curves' values.
        curves: ``{defense: [MAP at each budget]}`` with ``"none"`` (undefended) among them.
        train_eps_255: the defenses' training budget (units of 1/255; None: ``profile``'s,
            :func:`saatlib.profiles.training_budget_255`).
        leader: the highest curve against the runner-up at the largest budget, judged
            (:func:`saatlib.report.comparisons.curve_leader`).
    """
    train_eps_255 = training_budget_255(profile) if train_eps_255 is None else train_eps_255
    top = eps_255.index(max(eps_255))
    best = max(curves, key=lambda m: curves[m][top])
    return (f"At {eps_255[top]:g}/255, {eps_255[top] / train_eps_255:g} times the training budget, the highest "
            f"MAP is {best}'s ({points(curves[best][top], sign=False)}; undefended "
            f"{points(curves['none'][top], sign=False)}). "
            + " ".join(f"{m}: {', '.join(points(v, sign=False) for v in c)}." for m, c in curves.items())
            + f" (MAP in % at eps {', '.join(f'{e:g}/255' for e in eps_255)}.)"
            + ("" if leader is None else f" {leader.claim}: {verdict_phrase(leader.verdict)}."))


def lambda_markdown(grid: Mapping[tuple[float, float], Mapping[str, float]],
                    comparison: Comparison | None = None) -> str:
    """How MAP (benign and under the SAAT attack) moves with SAAT's lambda at the smallest mu.

    Args:
        grid: ``{(lambda, mu): {"map_benign": ..., "map_attack": ...}}``
            (:func:`saatlib.widgets.lambda_mu_grid`).
    """
    mu0 = min(mu for _, mu in grid)
    by_lambda = {lam: grid[lam, mu0] for lam in sorted(lam for lam, mu in grid if mu == mu0)}
    lo, hi = min(by_lambda), max(by_lambda)
    return (f"With mu = {mu0:g} (MAP in %): "
            + "; ".join(f"lambda {lam:g}: benign {points(r['map_benign'], sign=False)}, under SAAT "
                        f"{points(r['map_attack'], sign=False)}" for lam, r in by_lambda.items())
            + f". From lambda {lo:g} to {hi:g} the MAP under attack changes by "
            f"{points(by_lambda[hi]['map_attack'] - by_lambda[lo]['map_attack'])} points and the benign MAP by "
            f"{points(by_lambda[hi]['map_benign'] - by_lambda[lo]['map_benign'])}."
            + ("" if comparison is None else f" {comparison.claim}: {verdict_phrase(comparison.verdict)}."))


def defense_summary_markdown(table2: Sequence[Comparison], masking: Sequence[Comparison], eps: Comparison,
                             lam: Comparison, ours: Mapping[str, Mapping[str, Mapping[str, float]]]) -> str:
    """Chapter 5's findings as bullets, with their numbers and labels.

    Args:
        table2: :func:`saatlib.report.comparisons.table2_comparisons` of every dataset.
        masking: :func:`saatlib.report.comparisons.masking_comparisons` of every model.
        eps, lam: the robustness-curve and lambda comparisons.
        ours: ``{dataset: {defense: Table II row}}`` (fractions), for the ratio to the undefended model.
    """
    lines = family_bullets(table2)
    lines += [f"* **{d}**: MAP under SAAT, SAAT-trained / undefended = {rows['SAAT']['SAAT'] / rows['none']['SAAT']:.1f}"
              for d, rows in ours.items() if rows.get("SAAT") and rows["none"].get("SAAT")]
    defended = [c for c in masking if not c.key.endswith(".none")]
    symptoms = [c for c in defended if c.label == rule.SUPPORTED and not c.key.startswith("masking.stronger.")]
    lines.append(f"* Gradient masking: {len(symptoms)} symptoms in "
                 f"{sum(not c.key.startswith('masking.stronger.') for c in defended)} transfer and large-budget "
                 "checks of the defended models"
                 + (": " + ", ".join(f"{c.claim} ({c.dataset}, {estimate(c.verdict)})" for c in symptoms) if symptoms else "")
                 + f"; labels of all {len(masking)} checks: {label_counts(masking)}.")
    lines.append(f"* {eps.claim}: **{eps.label}** ({estimate(eps.verdict)}). {lam.claim}: **{lam.label}** "
                 f"({estimate(lam.verdict)}).")
    return ("Found on this run (differences in points of MAP, ± standard error; per claim, the label of the "
            "claim as a whole, then of each comparison):\n\n" + "\n".join(lines))


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
