"""SAAT's mainstay attack (Yuan et al., IEEE TIFS 2023, section III; reference section 3).

Non-targeted: b* = mainstay code of the query's own labels; descend
    L = sum(w (s + 2) s) / sum(w),   s = h_adv * b* (element-wise),  w = [s > -0.5],
which pushes every bit away from b* and ignores bits that already flipped.
Targeted: b* from the target labels; w = [s < 0.5], L = -sum(w (s + 2) s) / sum(w).
"""
from __future__ import annotations

import torch

from saatlib.attack.base import Attack, AttackContext
from saatlib.attack.engine import SAAT_SCHEDULE, LinfPGD, UpdateRule
from saatlib.dmfl import RELEASED_WEIGHTING, mainstay_codes


def mainstay_loss(h: torch.Tensor, target: torch.Tensor, targeted: bool) -> torch.Tensor:
    """SAAT's attack objective (to minimise). h, target: (B, K); returns a scalar."""
    s = h * target
    w = (s < 0.5) if targeted else (s > -0.5)
    w = w.to(h.dtype)
    value = (w * (s + 2) * s).sum() / w.sum().clamp(min=1)
    return -value if targeted else value


class SAATAttack(Attack):
    """Mainstay-code attack of SAAT, non-targeted or targeted.

    Args:
        eps: l_inf budget (paper 8/255). step_size: paper 1/255. steps: paper 100.
        targeted: use target labels instead of the query's labels.
        rule: engine update rule (default signed gradient; see
            :mod:`saatlib.attack.variants` for BIM, DI-, NI-, SINI-, VMI-FGSM).
        random_start: uniform start in the eps-ball (the released code: yes).
        weighting: DMFL weighting, ``"cosine"`` (released, default) or ``"overlap"`` (ablation; see
            :mod:`saatlib.dmfl`).
        exact_ties: exact DMFL ties (+1), or the sign of float32 noise as the released code.
    """

    paper = "Yuan et al., Semantic-Aware Adversarial Training for Reliable Deep Hashing Retrieval, IEEE TIFS 2023"

    def __init__(self, eps: float = 8 / 255, step_size: float = 1 / 255, steps: int = 100, targeted: bool = False,
                 rule: UpdateRule | None = None, random_start: bool = True, weighting: str = RELEASED_WEIGHTING,
                 exact_ties: bool = True):
        self.eps, self.step_size, self.steps, self.targeted = eps, step_size, steps, targeted
        self.random_start, self.weighting, self.exact_ties = random_start, weighting, bool(exact_ties)
        self.rule = rule
        self.rule_name = rule.name if rule is not None else "PGD"
        self.name = "SAAT" + ("-targeted" if targeted else "") + ("" if rule is None else f"-{rule.name}")
        self.engine = LinfPGD(eps, step_size, steps, random_start, SAAT_SCHEDULE, rule)

    def reference_codes(self, labels: torch.Tensor, context: AttackContext) -> torch.Tensor:
        return mainstay_codes(labels, context.train_codes, context.train_labels, self.weighting, self.exact_ties)

    def __call__(self, model, x, labels, context: AttackContext, generator=None) -> torch.Tensor:
        target = self.reference_codes(labels.to(x.device), context)
        return self.engine.perturb(model, x, lambda h: mainstay_loss(h, target, self.targeted), generator)
