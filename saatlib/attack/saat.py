"""SAAT's mainstay attack (Yuan et al., IEEE TIFS 2023, section III; reference section 3).

Non-targeted: b* = mainstay code of the query's own labels; descend
    L = sum(w (s + 2) s) / sum(w),   s = h_adv * b* (element-wise),  w = [s > -0.5],
which pushes every bit away from b* and ignores bits that already flipped.
Targeted: b* from the target labels; w = [s < 0.5], L = -sum(w (s + 2) s) / sum(w).
"""
from __future__ import annotations

import dataclasses
from typing import Sequence

import torch

from saatlib.attack.base import (AttackContext, EngineAttack, rule_param, schedule_param,
                                 set_params)
from saatlib.attack.engine import SAAT_SCHEDULE, UpdateRule
from saatlib.dmfl import RELEASED_WEIGHTING, WEIGHTINGS, mainstay_codes
from saatlib.primitives import check_budget, check_positive
from saatlib.profiles import default_attack_setting


def mainstay_loss(h: torch.Tensor, target: torch.Tensor, targeted: bool) -> torch.Tensor:
    """SAAT's attack objective (to minimise). h, target: (B, K); returns a scalar."""
    s = h * target
    w = (s < 0.5) if targeted else (s > -0.5)
    w = w.to(h.dtype)
    value = (w * (s + 2) * s).sum() / w.sum().clamp(min=1)
    return -value if targeted else value


@dataclasses.dataclass(frozen=True, kw_only=True)
class SAATParams:
    """Hyper-parameters of :class:`SAATAttack`.

    Args:
        eps: l_inf budget in pixels of [0, 1] (paper 8/255). step_size: paper 1/255. steps: paper 100.
        targeted: use target labels instead of the query's labels.
        rule: engine update rule (default: the signed gradient, PGD; see
            :mod:`saatlib.attack.variants` for BIM, DI-, NI-, SINI-, VMI-FGSM; None is PGD).
        random_start: uniform start in the eps-ball (the released code: yes).
        schedule: tanh scale a by tenths of the run (released: :data:`SAAT_SCHEDULE`; None: a = 1).
        weighting: DMFL weighting, ``"cosine"`` (released, default) or ``"overlap"`` (ablation; see
            :mod:`saatlib.dmfl`).
        exact_ties: exact DMFL ties (+1), or the sign of float32 noise as the released code.
    """

    eps: float = default_attack_setting("SAAT", "eps")  # the default profile's budget
    step_size: float = 1 / 255
    steps: int = default_attack_setting("SAAT", "steps")
    targeted: bool = False
    rule: UpdateRule = dataclasses.field(default_factory=UpdateRule)
    random_start: bool = True
    schedule: Sequence[float] | None = SAAT_SCHEDULE
    weighting: str = RELEASED_WEIGHTING
    exact_ties: bool = True

    def __post_init__(self) -> None:
        eps, steps = check_budget(self.eps, self.steps)
        if self.weighting not in WEIGHTINGS:
            raise ValueError(f"unknown weighting {self.weighting!r}; choose one of {WEIGHTINGS}")
        set_params(self, eps=eps, steps=steps, step_size=check_positive(self.step_size, "step_size"),
                   targeted=bool(self.targeted), rule=rule_param(self.rule), random_start=bool(self.random_start),
                   schedule=schedule_param(self.schedule), exact_ties=bool(self.exact_ties))


class SAATAttack(EngineAttack):
    """Mainstay-code attack of SAAT, non-targeted or targeted (parameters: :class:`SAATParams`).

    ``SAATAttack(steps=10, targeted=True)`` or ``SAATAttack(SAATParams(...))``.
    """

    Params = SAATParams
    paper = "Yuan et al., Semantic-Aware Adversarial Training for Reliable Deep Hashing Retrieval, IEEE TIFS 2023"

    @property
    def name(self) -> str:
        rule = self.params.rule.name
        return "SAAT" + ("-targeted" if self.params.targeted else "") + ("" if rule == "PGD" else f"-{rule}")

    def reference_codes(self, labels: torch.Tensor, context: AttackContext) -> torch.Tensor:
        return mainstay_codes(labels, context.train_codes, context.train_labels, self.weighting, self.exact_ties)

    def __call__(self, model, x, labels, context: AttackContext, generator=None) -> torch.Tensor:
        target = self.reference_codes(labels.to(x.device), context)
        return self.engine().perturb(model, x, lambda h: mainstay_loss(h, target, self.targeted), generator)
