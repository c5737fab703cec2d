"""Chapter 5's computed sentences (adversarial training): Table II judged, the gradient-masking checks, the
budget curve, lambda, the summary. The training budget comes from the profile when not given."""
from __future__ import annotations

from typing import Mapping, Sequence

from saatlib.profiles import DEFAULT_PROFILE, per_255, training_budget_255
from saatlib.report import rule
from saatlib.report.comparisons import Comparison
from saatlib.report.text.common import _plural
from saatlib.report.verdict_text import (by_dataset, comparison_bullets, estimate, family_bullets, label_counts,
                                         overall_phrase, points, verdict_phrase)


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
