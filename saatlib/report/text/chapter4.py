"""Chapter 4's computed sentences (attacks): Table I judged, the ablation, the budget and the iterations,
ProS-GAN, the summary. Budgets come from the profile when not given (:mod:`saatlib.profiles`)."""
from __future__ import annotations

from typing import Mapping, Sequence

from saatlib.profiles import attack_budget_255, DEFAULT_PROFILE
from saatlib.report.comparisons import Comparison
from saatlib.report.paper import PAPER_DATASETS
from saatlib.report.tables import NON_TARGETED_ROWS, TARGETED_ROWS
from saatlib.report.text.common import _plural, ranking_text
from saatlib.report.verdict_text import (by_dataset, comparison_bullets, estimate, family_bullets, overall_phrase,
                                         points, verdict_phrase)
from saatlib.report.verdicts import paper_claims


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
