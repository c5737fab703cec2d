"""Every comparison the book states, built from per-query evidence and judged by :mod:`saatlib.report.rule`.

A :class:`Comparison` is one claim on one dataset (SAAT leaves a lower MAP
than HAG; the SAAT-trained model keeps more MAP than the ATRDH-trained one
under SDHA; ...), its :class:`~saatlib.report.rule.Verdict` from the paired
per-query differences, and the paper's difference for the same claim at the
same code length on each of its datasets (no standard error: the paper
reports means). The target of a claim the paper's tables also make is the
median of the paper's gaps (at least :data:`~saatlib.report.rule.MIN_TARGET`):
the queries should detect a gap of the size the paper reports. Claims the
paper does not make (CgAT, the ablation, the masking checks) use
:data:`~saatlib.report.rule.DEFAULT_TARGET`.

The builders take the result dicts of :mod:`saatlib.experiments` (``"ap"``:
per-query AP, ``{"benign": [...], "adversarial": [...]}``); chapters 4, 5, 6
and ``reproduce`` all call them, so the same data give the same labels everywhere.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import torch

from saatlib.attack.registry import NON_TARGETED, TARGETED
from saatlib.report import paper
from saatlib.report.rule import DEFAULT_TARGET, MIN_TARGET, Verdict, judge
from saatlib.report.tables import ORIGINAL, TABLE2_ATTACKS, row_name

#: the paper's datasets whose tables give a claim's gap
_PAPER = paper.PAPER_DATASETS


@dataclass(frozen=True)
class Comparison:
    """One judged claim on one dataset.

    Attributes:
        key: stable identifier, e.g. ``"table1.SAAT<HAG"`` (records and tests).
        claim: the claim as a reader reads it, e.g. ``"SAAT leaves a lower MAP than HAG"``.
        dataset: our dataset.
        verdict: the judged per-query difference (positive: the claim's way).
        paper: ``{paper dataset: the paper's difference (fraction) or None}``, same sign convention.
    """

    key: str
    claim: str
    dataset: str
    verdict: Verdict
    paper: Mapping[str, float | None] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.verdict.label

    def as_record(self) -> dict:
        """Plain values: the verdict's (:meth:`Verdict.as_record`) and the claim."""
        return dict(self.verdict.as_record(), claim=self.claim)


#: the claims made of several comparisons that must all hold: (key prefix, the claim as a whole)
FAMILIES = (
    ("table1.SAAT<", "SAAT has the lowest MAP"),
    ("table1.SAAT-targeted>", "SAAT-targeted has the highest t-MAP"),
    ("table2.SAAT>ATRDH.", "SAAT-trained keeps more MAP than ATRDH-trained under every attack"),
    ("table2.SAAT>=", "SAAT-trained keeps at least twice the undefended MAP under SAAT"),
    ("table2.SAAT>CgAT.", "SAAT-trained keeps more MAP than CgAT-trained (not in the paper) under every attack"),
    ("ablation.", "SAAT's masked objective leaves the lowest MAP"),
)


def families(comparisons: Sequence[Comparison]) -> list[tuple[str, str, list[Comparison]]]:
    """``[(dataset, claim as a whole, its comparisons), ...]`` for the :data:`FAMILIES` present, per dataset
    in the order met."""
    datasets = list(dict.fromkeys(c.dataset for c in comparisons))
    out = []
    for d in datasets:
        for prefix, claim in FAMILIES:
            parts = [c for c in comparisons if c.dataset == d and c.key.startswith(prefix)]
            if parts:
                out.append((d, claim, parts))
    return out


def rival_of(c: Comparison) -> str:
    """The other side of a family's comparison: the rival attack, the attack, or the variant (key's last part)."""
    tail = c.key.split(".", 1)[1]
    return tail.rsplit(".", 1)[-1].split("<")[-1].split(">")[-1].split("=")[-1]


def ap_of(result: Mapping, which: str = "adversarial") -> torch.Tensor:
    """(Q,) per-query AP of an attack result (``which``: ``"adversarial"`` or ``"benign"``), float64."""
    return torch.as_tensor(result["ap"][which], dtype=torch.float64)


def target_from(paper_gaps: Mapping[str, float | None]) -> float:
    """The difference that matters: the median of the paper's |gaps| (at least MIN_TARGET), or DEFAULT_TARGET
    when the paper has none."""
    gaps = [abs(g) for g in paper_gaps.values() if g is not None]
    return max(MIN_TARGET, statistics.median(gaps)) if gaps else DEFAULT_TARGET


def _paper_diff(a: float | None, b: float | None, factor: float = 1.0) -> float | None:
    """(a - factor * b) / 100 from the paper's % values, None when one is missing."""
    return None if a is None or b is None else (a - factor * b) / 100.0


def _compare(key: str, claim: str, dataset: str, diffs: torch.Tensor,
             paper_gaps: Mapping[str, float | None] | None = None, target: float | None = None) -> Comparison:
    gaps = dict(paper_gaps or {})
    return Comparison(key, claim, dataset, judge(diffs, target if target is not None else target_from(gaps)), gaps)


def paired(key: str, claim: str, dataset: str, ap_for, ap_against, target: float | None = None) -> Comparison:
    """A comparison of two per-query AP lists on the same queries: ``claim`` says the first is higher
    (per query ``ap_for - ap_against``); target :data:`~saatlib.report.rule.DEFAULT_TARGET` unless given."""
    return _compare(key, claim, dataset, torch.as_tensor(ap_for, dtype=torch.float64)
                    - torch.as_tensor(ap_against, dtype=torch.float64), target=target)


# --- Table I ------------------------------------------------------------------------------------

def table1_comparisons(dataset: str, results: Mapping[tuple[str, bool], Mapping], bits: int) -> list[Comparison]:
    """SAAT against each rival of Table I on ``dataset``'s attacked queries.

    Args:
        results: ``{(attack, targeted): result}`` with per-query ``ap`` for the attacks of
            :data:`~saatlib.attack.registry.NON_TARGETED` and :data:`~saatlib.attack.registry.TARGETED`
            that were run (t-AP for targeted ones), all on the same queries.
        bits: code length (the paper's column of the same length gives the gaps).
    Returns:
        Non-targeted first: ``"SAAT leaves a lower MAP than <rival>"`` (per query AP(rival) - AP(SAAT)),
        then ``"SAAT-targeted reaches a higher t-MAP than <rival>"`` (t-AP(SAAT) - t-AP(rival)).
    """
    out = []
    for targeted, names in ((False, NON_TARGETED), (True, TARGETED)):
        if ("SAAT", targeted) not in results:
            continue
        mine = ap_of(results["SAAT", targeted])
        me = row_name("SAAT", targeted)
        for rival in names:
            if rival == "SAAT" or (rival, targeted) not in results:
                continue
            theirs = ap_of(results[rival, targeted])
            if targeted:
                diffs, claim = mine - theirs, f"SAAT-targeted reaches a higher t-MAP than {rival}"
                gaps = {ds: _paper_diff(paper.paper_value("attacks", method=me, dataset=ds, bits=bits),
                                        paper.paper_value("attacks", method=rival, dataset=ds, bits=bits))
                        for ds in _PAPER}
            else:
                diffs, claim = theirs - mine, f"SAAT leaves a lower MAP than {rival}"
                gaps = {ds: _paper_diff(paper.paper_value("attacks", method=rival, dataset=ds, bits=bits),
                                        paper.paper_value("attacks", method=me, dataset=ds, bits=bits))
                        for ds in _PAPER}
            out.append(_compare(f"table1.{me}>{rival}" if targeted else f"table1.{me}<{rival}", claim, dataset,
                                diffs, gaps))
    return out


# --- Table II -----------------------------------------------------------------------------------

def defense_aps(result: Mapping, check: str | None = "check") -> dict[str, torch.Tensor]:
    """Per-query AP of one defended model (:func:`saatlib.experiments.evaluate_defense`'s dict):
    ``{"Original": benign AP, <attack>: AP under it, ..., check: per-query lowest AP over every attack
    run (the check's worst case, :func:`saatlib.attack.evaluate.worst_case_map`)}``."""
    attacks = result["attacks"]
    first = next(iter(attacks.values()))
    out = {ORIGINAL: ap_of(first, "benign")}
    out.update({a: ap_of(r) for a, r in attacks.items() if a != check})
    if check is not None and check in attacks:
        out[check] = torch.stack([ap_of(r) for r in attacks.values()]).min(0).values
    return out


def table2_comparisons(dataset: str, defended: Mapping[str, Mapping], bits: int,
                       attacks: Sequence[str] = TABLE2_ATTACKS, check: str | None = "check",
                       factor: float = 2.0) -> list[Comparison]:
    """The paper's Table II claims (and SAAT against CgAT) on ``dataset``, per query.

    Args:
        defended: ``{defense: evaluate_defense result}`` with ``"none"`` (undefended), ``SAAT``,
            and as available ``ATRDH`` and ``CgAT``, all on the same queries.
        attacks: the table's attacks; ``check`` (when a result has it) is judged after them.
        factor: the multiple of the second claim.
    Returns:
        For each attack (then the check): ``"SAAT-trained keeps more MAP than ATRDH-trained under <a>"``;
        ``"SAAT-trained keeps at least <factor>x the undefended MAP under SAAT"``
        (AP(SAAT-trained) - factor * AP(undefended) per query); for each attack (then the check)
        ``"SAAT-trained keeps more MAP than CgAT-trained under <a>"`` (not a claim of the paper).
    """
    if "SAAT" not in defended:
        return []
    aps = {m: defense_aps(r, check) for m, r in defended.items()}
    saat = aps["SAAT"]
    columns = [a for a in (*attacks, check) if a is not None and a in saat]
    out = []

    def paper_cell(defense: str, attack: str) -> dict[str, float | None]:
        if defense == "none":
            return {ds: paper.paper_value("attacks", method=attack, dataset=ds, bits=bits) for ds in _PAPER}
        return {ds: paper.paper_value("defenses", defense=defense, attack=attack, dataset=ds, bits=bits)
                for ds in _PAPER}

    if "ATRDH" in aps:
        for a in columns:
            gaps = ({} if a == check else
                    {ds: _paper_diff(s, t) for (ds, s), t in zip(paper_cell("SAAT", a).items(),
                                                                 paper_cell("ATRDH", a).values())})
            out.append(_compare(f"table2.SAAT>ATRDH.{a}", f"SAAT-trained keeps more MAP than ATRDH-trained under {a}",
                                dataset, saat[a] - aps["ATRDH"][a], gaps))
    if "none" in aps and "SAAT" in saat:
        gaps = {ds: _paper_diff(s, t, factor) for (ds, s), t in zip(paper_cell("SAAT", "SAAT").items(),
                                                                     paper_cell("none", "SAAT").values())}
        out.append(_compare(f"table2.SAAT>={factor:g}x", f"SAAT-trained keeps at least {factor:g}x the undefended "
                            "MAP under SAAT", dataset, saat["SAAT"] - factor * aps["none"]["SAAT"], gaps))
    if "CgAT" in aps:
        for a in columns:
            out.append(_compare(f"table2.SAAT>CgAT.{a}", f"SAAT-trained keeps more MAP than CgAT-trained under {a}",
                                dataset, saat[a] - aps["CgAT"][a]))
    return out


# --- chapter 4's objective ablation ----------------------------------------------------------------

def ablation_comparisons(dataset: str, ablation: Mapping[str, Mapping], labels: Mapping[str, str]) -> list[Comparison]:
    """SAAT's masked objective against each other variant (:func:`saatlib.experiments.objective_ablation`,
    with per-query ``ap``): ``"the mask lowers MAP more than <label>"``, AP(variant) - AP(mask) per query."""
    mask = torch.as_tensor(ablation["mask"]["ap"], dtype=torch.float64)
    return [_compare(f"ablation.mask<{v}", f"SAAT's objective leaves a lower MAP than {labels[v]}", dataset,
                     torch.as_tensor(r["ap"], dtype=torch.float64) - mask)
            for v, r in ablation.items() if v != "mask"]


# --- chapter 5's gradient-masking checks -----------------------------------------------------------

def masking_comparisons(dataset: str, defense: str, checks: Mapping[str, Mapping[str, Sequence[float]]]
                        ) -> list[Comparison]:
    """The three symptoms of gradient masking on one model, each judged (supported = the symptom shows).

    Args:
        checks: per-query AP lists of :func:`saatlib.experiments.masking_checks`: ``"lowest"`` (the
            table's strongest attack), ``"stronger"`` (the check: worst case with restarts),
            ``"white_box"`` (SAAT on this model), ``"transfer"`` (SAAT's examples of the undefended
            model), ``"large_budget"`` (SAAT at the large budget) and ``"chance"`` (a random ranking's
            expected AP: the share of relevant database items).
    Returns:
        ``"a stronger attack finds MAP the table's attacks miss"`` (lowest - stronger),
        ``"transferred examples hurt more than white-box ones"`` (white_box - transfer; not for the
        undefended model, ``"none"``, whose transferred examples are its white-box ones),
        ``"MAP stays above chance at the large budget"`` (large_budget - chance).
    """
    t = {k: torch.as_tensor(checks[k], dtype=torch.float64)
         for k in ("lowest", "stronger", "white_box", "transfer", "large_budget", "chance")}
    out = [_compare(f"masking.stronger.{defense}", f"{defense}: a stronger attack (restarts) lowers MAP below the "
                    "table's strongest", dataset, t["lowest"] - t["stronger"])]
    if defense != "none":  # on the undefended model the transferred examples are the white-box ones
        out.append(_compare(f"masking.transfer.{defense}", f"{defense}: examples transferred from the undefended "
                            "model hurt more than white-box ones (a symptom of masking)", dataset, t["white_box"] - t["transfer"]))
    out.append(_compare(f"masking.large.{defense}", f"{defense}: MAP stays above chance at the large budget "
                        "(a symptom of masking)", dataset,
                        t["large_budget"] - t["chance"]))
    return out


# --- chapter 4's and 5's sweeps ---------------------------------------------------------------------

def steps_comparison(dataset: str, runs: Mapping[int, Mapping], profile_steps: int) -> Comparison:
    """The most iterations of a sweep against the profile's: ``"<most> iterations leave a lower MAP than
    <profile's>"`` (per query AP(profile's) - AP(most)); ``runs``: ``{iterations: attack result}``."""
    most = max(runs)
    return paired("steps.more", f"{most} iterations leave a lower MAP than {profile_steps}", dataset,
                  runs[profile_steps]["ap"]["adversarial"], runs[most]["ap"]["adversarial"])


def curve_leader(dataset: str, eps_255: Sequence[float], curves: Mapping[str, Mapping]) -> Comparison:
    """At the largest budget of the robustness curves (:func:`saatlib.experiments.robustness_curve`),
    the model with the highest MAP against the runner-up: ``"<best> keeps more MAP than <runner-up> at
    <eps>/255"``."""
    top = list(eps_255).index(max(eps_255))
    best, runner = sorted(curves, key=lambda m: -curves[m]["map"][top])[:2]
    return paired(f"eps_curve.{best}>{runner}", f"{best} keeps more MAP than {runner} at {max(eps_255):g}/255",
                  dataset, curves[best]["ap"][top], curves[runner]["ap"][top])


def lambda_comparison(dataset: str, grid: Mapping[tuple[float, float], Mapping]) -> Comparison:
    """SAAT's largest lambda against its smallest at the smallest mu (:func:`saatlib.widgets.lambda_mu_grid`,
    with per-query ``ap_attack``): ``"lambda <hi> keeps more MAP under SAAT than lambda <lo> (mu <mu>)"``."""
    mu0 = min(mu for _, mu in grid)
    lams = sorted({lam for lam, mu in grid if mu == mu0})
    return paired("lambda.more", f"lambda {lams[-1]:g} keeps more MAP under SAAT than lambda {lams[0]:g} "
                  f"(mu {mu0:g})", dataset, grid[lams[-1], mu0]["ap_attack"], grid[lams[0], mu0]["ap_attack"])
