"""One PGD-style engine for every l_inf attack on hash models (reference section 3).

The engine owns the threat model (l_inf ball of radius ``eps`` around x,
intersected with the pixel box [0, 1]), the random start, the tanh-scale
schedule and the loop; the objective is a pluggable function of the model's
relaxed codes, and the update rule (signed gradient, momentum, input diversity,
...) a pluggable :class:`UpdateRule`. Gradients are taken with
``torch.autograd.grad`` w.r.t. the input only, so the model's parameter
``.grad`` fields stay untouched; the model is put in eval mode for the attack
and its mode is restored after. The loop holds no host-device synchronisation.

An engine is cheap: attacks build one from their parameters at every call
(never once in ``__init__``), so the parameters stay the single source of
truth. An update rule is a frozen dataclass of its hyper-parameters; the
per-run state (momentum, variance) lives in the fresh copy
:meth:`UpdateRule.for_run` makes for each :meth:`LinfPGD.perturb`.

Batch independence: objectives are batch means (SAAT's masked loss divides by
the number of active bits of the whole batch), but the step is the sign of the
gradient, and every update rule normalises per sample, so a positive factor
shared by the batch changes nothing: a query gets the same adversarial example
alone or among others (up to float noise in near-zero gradient entries; tested
in ``tests/test_attacks_properties.py``). The optimiser-based attacks (HAG's
SGD, SDHA's Adam) are not scale invariant and scale their gradients instead
(``reference_batch`` in :func:`saatlib.attack.hag.optimise_in_ball`).
"""
from __future__ import annotations

import dataclasses
from typing import Callable, ClassVar, Sequence

import torch

from saatlib.primitives import check_budget, check_positive, eval_mode, project_linf

__all__ = ["SAAT_SCHEDULE", "LinfPGD", "UpdateRule", "eval_mode", "input_gradient", "tanh_scale"]

#: tanh scale a by tenths of the run (released SAAT code, ``get_alpha``)
SAAT_SCHEDULE: tuple[float, ...] = (0.1, 0.1, 0.1, 0.1, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0)

Objective = Callable[[torch.Tensor], torch.Tensor]


def tanh_scale(step: int, steps: int, schedule: Sequence[float] | None = SAAT_SCHEDULE) -> float:
    """Scale a at iteration ``step`` of ``steps`` (1.0 when ``schedule`` is None)."""
    if not schedule:
        return 1.0
    return float(schedule[min(len(schedule) - 1, step * len(schedule) // max(steps, 1))])


def input_gradient(model, x: torch.Tensor, objective: Objective, alpha: float) -> torch.Tensor:
    """d objective(model(x, alpha)) / dx, leaving parameter gradients untouched."""
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        loss = objective(model(x, alpha))
        (grad,) = torch.autograd.grad(loss, [x])
    return grad


@dataclasses.dataclass(frozen=True, kw_only=True)
class UpdateRule:
    """Signed-gradient descent (PGD, BIM): direction = sign(grad).

    A rule is a frozen dataclass: its fields are its hyper-parameters (none
    here), ``name`` and ``random_start`` (whether the released generator of
    the rule starts at a random point of the ball) are class constants.
    Subclasses override :meth:`reset`, :meth:`gradient` and :meth:`direction`,
    and keep any per-run state in a field declared with ``init=False,
    compare=False`` (a fresh one in every :meth:`for_run` copy).
    """

    name: ClassVar[str] = "PGD"
    random_start: ClassVar[bool] = True

    def config(self) -> dict:
        """The rule's name and hyper-parameters, e.g. ``{"name": "VMI-FGSM", "eps": None, "n": 5, ...}``."""
        params = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}
        return {"name": self.name, **params}

    def for_run(self, eps: float) -> "UpdateRule":
        """A copy with the same hyper-parameters and fresh state, for one run of an engine of budget ``eps``."""
        return dataclasses.replace(self)

    def reset(self, x: torch.Tensor) -> None:
        """Called once before the loop with the clean batch."""

    def gradient(self, model, x_adv, objective: Objective, alpha: float, step_size: float,
                 generator: torch.Generator | None) -> torch.Tensor:
        return input_gradient(model, x_adv, objective, alpha)

    def direction(self, grad: torch.Tensor) -> torch.Tensor:
        return grad.sign()


class LinfPGD:
    """PGD on an l_inf ball, descending an objective of the relaxed codes.

    Args:
        eps: l_inf budget in pixel units of [0, 1] (paper: 8/255).
        step_size: per-step change (paper: 1/255 for SAAT).
        steps: iterations.
        random_start: start uniformly in [-eps, eps] (then clipped to [0, 1]).
        schedule: tanh scale a by fractions of the run; None for a = 1.
        rule: update rule (default: signed gradient).
    """

    def __init__(self, eps: float, step_size: float, steps: int, random_start: bool = True,
                 schedule: Sequence[float] | None = SAAT_SCHEDULE, rule: UpdateRule | None = None):
        self.eps, self.steps = check_budget(eps, steps)
        self.step_size = check_positive(step_size, "step_size")
        self.random_start, self.schedule = random_start, schedule
        self.rule = rule if rule is not None else UpdateRule()

    def project(self, x_adv: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Onto the eps-ball around x, then into [0, 1]."""
        return project_linf(x_adv, x, self.eps)

    def replay_draws(self, x: torch.Tensor, generator: torch.Generator | None) -> bool:
        """Advance ``generator`` as :meth:`perturb` on ``x`` would, when that is known without running it
        (the plain signed-gradient rule: the random start is the only draw). Returns whether it did."""
        if type(self.rule) is not UpdateRule:
            return False
        if self.random_start and self.steps >= 0:
            torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        return True

    def perturb(self, model, x: torch.Tensor, objective: Objective,
                generator: torch.Generator | None = None, record: bool = False, noise: torch.Tensor | None = None):
        """Adversarial examples for the batch x (B, C, H, W) in [0, 1].

        ``noise``: the uniform [0, 1) draw of the random start, (B, C, H, W), when the caller
        drew it (a process's slice of a global batch's draw, :mod:`saatlib.distributed`);
        None: drawn here from ``generator``.
        Returns x_adv (detached, same shape), or (x_adv, losses (steps,)) when
        ``record`` (the objective at each step, kept on the device).
        """
        x = x.detach()
        losses = []
        rule = self.rule.for_run(self.eps)
        with eval_mode(model):
            if self.random_start:
                if noise is None:
                    noise = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
                x_adv = self.project(x + (2 * noise - 1) * self.eps, x)
            else:
                x_adv = x.clone()
            rule.reset(x)
            for i in range(self.steps):
                alpha = tanh_scale(i, self.steps, self.schedule)
                if record:
                    with torch.no_grad():
                        losses.append(objective(model(x_adv, alpha)).detach())
                grad = rule.gradient(model, x_adv, objective, alpha, self.step_size, generator)
                x_adv = self.project(x_adv - self.step_size * rule.direction(grad), x).detach()
        if record:
            return x_adv, (torch.stack(losses) if losses else torch.zeros(0, device=x.device))
        return x_adv
