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

from typing import Sequence

import torch

from saatlib.attack.base import Attack, AttackContext
from saatlib.attack.engine import SAAT_SCHEDULE, LinfPGD
from saatlib.primitives import binarize, eval_mode


class RestartPGDAttack(Attack):
    """PGD with random restarts away from the query's own benign code (see the module docstring).

    Args:
        eps: l_inf budget. step_size: per step. steps: iterations per restart.
        restarts: random starts R; per query the restart with the largest
            Hamming distance between its adversarial and benign codes is kept.
        schedule: tanh scale by tenths of the run (None: a = 1).
    """

    name = "PGD-restarts"
    paper = "check attack of this library: l_inf PGD with random restarts on the benign-code objective"
    targeted = False

    def __init__(self, eps: float = 8 / 255, steps: int = 200, step_size: float = 1 / 255, restarts: int = 3,
                 schedule: Sequence[float] | None = SAAT_SCHEDULE):
        if isinstance(restarts, bool) or int(restarts) != restarts or restarts < 1:
            raise ValueError(f"restarts must be a positive integer, got {restarts!r}")
        self.eps, self.steps, self.step_size, self.restarts = float(eps), int(steps), float(step_size), int(restarts)
        self.schedule = tuple(schedule) if schedule else None
        self.engine = LinfPGD(eps, step_size, steps, random_start=True, schedule=self.schedule)

    def __call__(self, model, x, labels=None, context: AttackContext | None = None, generator=None):
        with torch.no_grad(), eval_mode(model):
            benign = binarize(model(x.detach()))
        best, best_dist = x.detach().clone(), torch.full((x.shape[0],), -1.0, device=x.device)
        for _ in range(self.restarts):
            x_adv = self.engine.perturb(model, x, lambda h: (h * benign).mean(), generator)
            with torch.no_grad(), eval_mode(model):
                dist = (binarize(model(x_adv)) != benign).sum(1).to(best_dist.dtype)
            better = dist > best_dist
            best[better], best_dist = x_adv[better], torch.where(better, dist, best_dist)
        return best
