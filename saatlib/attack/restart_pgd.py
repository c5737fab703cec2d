"""The check attack of Table II: l_inf PGD with random restarts away from the query's own code.

:class:`RestartPGDAttack` — l_inf PGD (signed gradient, random start, the
tanh-scale schedule a = 0.1 ... 1) descending mean(h_adv . b) with
b = sign(f(x)) the query's own benign code, i.e. maximising the Hamming
distance to it, run from R random starts, keeping per query the restart whose
adversarial code is farthest from the benign code. It adds an objective no
defense trains on (the training attacks of SAAT and CgAT push away from a
label centre with 7 steps; ATRDH's pulls towards a target prototype) and many
starts: a defense that merely masks gradients (flat or saturated outputs near
the benign images) tends to hold against its own short attack but fall under
another objective from many starts.
"""
from __future__ import annotations

import dataclasses
from typing import Sequence

import torch

from saatlib.attack.base import Attack, AttackContext, schedule_param, set_params
from saatlib.attack.engine import SAAT_SCHEDULE, LinfPGD
from saatlib.primitives import binarize, check_budget, check_positive, eval_codes, eval_mode
from saatlib.profiles import check_budget_settings


@dataclasses.dataclass(frozen=True, kw_only=True)
class RestartPGDParams:
    """Hyper-parameters of :class:`RestartPGDAttack`.

    Args:
        eps: l_inf budget. steps: iterations per restart. step_size: per step.
        restarts: random starts R; per query the restart with the largest
            Hamming distance between its adversarial and benign codes is kept.
        schedule: tanh scale by tenths of the run (None: a = 1).
    """

    # the default profile's check attack
    eps: float = check_budget_settings()["eps"]
    steps: int = check_budget_settings()["steps"]
    step_size: float = check_budget_settings()["step_size"]
    restarts: int = check_budget_settings()["restarts"]
    schedule: Sequence[float] | None = SAAT_SCHEDULE

    def __post_init__(self) -> None:
        if isinstance(self.restarts, bool) or int(self.restarts) != self.restarts or self.restarts < 1:
            raise ValueError(f"restarts must be a positive integer, got {self.restarts!r}")
        eps, steps = check_budget(self.eps, self.steps)
        set_params(self, eps=eps, steps=steps, step_size=check_positive(self.step_size, "step_size"),
                   restarts=int(self.restarts), schedule=schedule_param(self.schedule))


class RestartPGDAttack(Attack):
    """PGD with random restarts away from the query's own benign code (see the module docstring;
    parameters: :class:`RestartPGDParams`). The model is in eval mode
    (:func:`saatlib.primitives.eval_mode`) throughout, every submodule's mode restored after."""

    Params = RestartPGDParams
    name = "PGD-restarts"
    paper = "check attack of this library: l_inf PGD with random restarts on the benign-code objective"
    targeted = False

    def engine(self) -> LinfPGD:
        """The PGD engine of one restart (random start; built at every call)."""
        p = self.params
        return LinfPGD(p.eps, p.step_size, p.steps, random_start=True, schedule=p.schedule)

    def __call__(self, model, x, labels=None, context: AttackContext | None = None, generator=None):
        engine = self.engine()
        with eval_mode(model):
            benign = eval_codes(model, x.detach())
            best, best_dist = x.detach().clone(), torch.full((x.shape[0],), -1.0, device=x.device)
            for _ in range(self.restarts):
                x_adv = engine.perturb(model, x, lambda h: (h * benign).mean(), generator)
                with torch.no_grad():
                    dist = (binarize(model(x_adv)) != benign).sum(1).to(best_dist.dtype)
                better = dist > best_dist
                best[better], best_dist = x_adv[better], torch.where(better, dist, best_dist)
        return best
