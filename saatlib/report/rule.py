"""The one rule that labels every comparison the book states.

A comparison is a claim such as "SAAT leaves a lower MAP than HAG", measured
on the same queries both ways. Its evidence is the per-query difference d_i
(e.g. AP under HAG minus AP under SAAT), signed so that a positive mean
supports the claim. With mean d, standard error SE = sd(d_i) / sqrt(n) and

    MDE = (Z + Z_POWER) * SE,

the smallest difference the n queries detect with 80 % power at the
threshold Z, the label is

* ``supported``    when d > Z * SE (the claim holds beyond its uncertainty);
* ``contradicted`` when d < -Z * SE (the opposite holds beyond it);
* ``tie``          otherwise, when MDE <= target: a difference of the size
  that matters (``target``) would have been seen, so there is none of that size;
* ``underpowered`` otherwise: the queries cannot tell a difference of the
  size that matters from noise; :attr:`Verdict.needed` says how many would.

Z = 2 is a two-sided test at about 4.6 % per comparison. It is not corrected
for the number of comparisons: with m comparisons and no true difference,
about ``m * FALSE_ALARM`` of them are labelled supported or contradicted by
chance (:func:`expected_false_alarms`); the book states m beside its verdicts.
Differences are fractions of MAP in [-1, 1] (the book shows them in points of %).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

import torch

#: the threshold in standard errors beyond which a difference is not called noise
Z = 2.0
#: the normal quantile of 80 % power (one-sided), for the smallest detectable difference
Z_POWER = 0.8416
#: the difference that matters for a comparison the paper's tables do not make (2 points of MAP)
DEFAULT_TARGET = 0.02
#: the smallest target: a paper's gap below 1 point of MAP is taken as 1 point
MIN_TARGET = 0.01
SUPPORTED, TIE, UNDERPOWERED, CONTRADICTED = "supported", "tie", "underpowered", "contradicted"
#: every label, from the claim holding to its opposite holding
LABELS = (SUPPORTED, TIE, UNDERPOWERED, CONTRADICTED)
#: chance that |d| > Z * SE when there is no difference (two-sided normal tail)
FALSE_ALARM = math.erfc(Z / math.sqrt(2))


@dataclass(frozen=True)
class Verdict:
    """A judged comparison.

    Attributes:
        label: one of :data:`LABELS`.
        diff: mean per-query difference, positive in the claim's favour (fraction of MAP).
        se: its standard error (0 for one query).
        sd: standard deviation of the per-query differences.
        n: number of queries.
        target: the difference that matters for this comparison (fraction).
    """

    label: str
    diff: float
    se: float
    sd: float
    n: int
    target: float

    @property
    def mde(self) -> float:
        """Smallest difference these queries detect with 80 % power: (Z + Z_POWER) * SE."""
        return (Z + Z_POWER) * self.se

    @property
    def needed(self) -> int:
        """Queries for which the smallest detectable difference reaches ``target`` (same sd)."""
        return max(self.n, math.ceil(((Z + Z_POWER) * self.sd / self.target) ** 2)) if self.sd > 0 else self.n

    def as_record(self) -> dict:
        """Plain values for a chapter's records: label, diff, se, n, mde, target."""
        return {"label": self.label, "diff": self.diff, "se": self.se, "n": self.n, "mde": self.mde,
                "target": self.target}


def label_of(diff: float, se: float, target: float) -> str:
    """The rule itself, from the mean difference, its standard error and the target (module docstring)."""
    if diff > Z * se:
        return SUPPORTED
    if diff < -Z * se:
        return CONTRADICTED
    return TIE if (Z + Z_POWER) * se <= target else UNDERPOWERED


def judge(diffs: Sequence[float] | torch.Tensor, target: float = DEFAULT_TARGET) -> Verdict:
    """Judge per-query differences (positive in the claim's favour) by :func:`label_of`.

    Args:
        diffs: (n,) one difference per query, n >= 1.
        target: the difference that matters (> 0).
    """
    d = torch.as_tensor(diffs, dtype=torch.float64).flatten()
    if d.numel() == 0:
        raise ValueError("a comparison needs at least one query")
    if not target > 0:
        raise ValueError(f"target must be positive, got {target!r}")
    n = int(d.numel())
    sd = float(d.std()) if n > 1 else 0.0
    se = sd / math.sqrt(n)
    mean = float(d.mean())
    return Verdict(label_of(mean, se, target), mean, se, sd, n, float(target))


def overall(labels: Iterable[str]) -> str:
    """One label for a claim made of several comparisons that must all hold ("under every attack").

    contradicted if any part is; supported if every part is; else underpowered if any part is; else tie.
    """
    labels = list(labels)
    if not labels or any(x not in LABELS for x in labels):
        raise ValueError(f"labels must be a non-empty sequence of {LABELS}, got {labels!r}")
    if CONTRADICTED in labels:
        return CONTRADICTED
    if all(x == SUPPORTED for x in labels):
        return SUPPORTED
    return UNDERPOWERED if UNDERPOWERED in labels else TIE


def expected_false_alarms(m: int) -> float:
    """Comparisons among ``m`` expected to be labelled supported or contradicted when no difference exists."""
    return m * FALSE_ALARM
