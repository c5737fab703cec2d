"""Update rules of the transfer-style generators in the released SAAT code.

Each rule plugs into :class:`saatlib.attack.engine.LinfPGD`, which DESCENDS the
objective: ``x <- project(x - step_size * direction)``. The released generators
ascend ``cost = -loss``; every rule below tracks the gradient of the loss
itself, so its momentum and variance terms are the negation of the released
ones and the update is the same.

Rules (names as in the released ``model/adv_generator``):

- ``PGD``: signed gradient, random start (the engine's default rule).
- ``BIM``: signed gradient, no random start.
- ``DI-FGSM`` (Xie et al., CVPR 2019): the gradient is taken through a random
  resize-and-pad of the input, applied with probability ``p``; momentum with
  ``decay`` (released default 0.0, i.e. plain DI2-FGSM; 1.0 gives M-DI2-FGSM);
  random start.
- ``NI-FGSM`` (Lin et al., ICLR 2020): Nesterov look-ahead
  ``x - decay * step_size * g`` before the gradient, momentum; no random start.
- ``SINI-FGSM``: NI-FGSM whose gradient is averaged over ``m`` scaled copies
  of the look-ahead point; no random start.
- ``VMI-FGSM`` (Wang & He, CVPR 2021): momentum on the gradient plus the
  variance term ``v`` of the previous step, ``v`` = mean gradient of ``n``
  neighbours drawn uniformly within ``beta * eps`` minus the gradient; no
  random start.

Momentum rules normalise each sample's gradient by its mean absolute value
before accumulating (as the released code does; a zero gradient stays zero
instead of giving NaN). Every random draw goes through the engine's
``generator`` and stays on the input's device: no host synchronisation.

Use :func:`saat_variant` for a SAAT mainstay attack with a rule and the random
start the released generator uses.
"""
from __future__ import annotations

import dataclasses
import math
from typing import ClassVar

import torch
import torch.nn.functional as F

from saatlib.attack.engine import Objective, UpdateRule, input_gradient
from saatlib.attack.saat import SAATAttack

RULE_NAMES = ("PGD", "BIM", "DI-FGSM", "NI-FGSM", "SINI-FGSM", "VMI-FGSM")


def _check_decay(decay: float) -> float:
    if not (isinstance(decay, (int, float)) and math.isfinite(decay) and decay >= 0):
        raise ValueError(f"decay (momentum factor) must be a finite number >= 0, got {decay!r}")
    return float(decay)


def _check_count(value: int, what: str) -> int:
    if isinstance(value, bool) or int(value) != value or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


def normalise_mean_abs(grad: torch.Tensor) -> torch.Tensor:
    """grad / mean(|grad|) per sample (over all axes but the first)."""
    dims = tuple(range(1, grad.dim()))
    return grad / grad.abs().mean(dim=dims, keepdim=True).clamp(min=1e-12)


@dataclasses.dataclass(frozen=True, kw_only=True)
class BIM(UpdateRule):
    """Basic iterative method: signed gradient, no momentum, no random start."""

    name: ClassVar[str] = "BIM"
    random_start: ClassVar[bool] = False


@dataclasses.dataclass(frozen=True, kw_only=True)
class _MomentumRule(UpdateRule):
    """Shared state of the momentum rules: g <- decay * g + grad / mean|grad|.

    Subclasses declare a ``decay`` field. The momentum (and VMI-FGSM's
    variance) is per-run state, kept in ``state`` of the copy the engine runs.
    """

    random_start: ClassVar[bool] = False
    state: dict = dataclasses.field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "decay", _check_decay(self.decay))

    def reset(self, x: torch.Tensor) -> None:
        self.state.clear()
        self.state["momentum"] = torch.zeros_like(x)

    def _accumulate(self, grad: torch.Tensor) -> torch.Tensor:
        momentum = self.state.get("momentum")
        if momentum is None:
            momentum = torch.zeros_like(grad)
        self.state["momentum"] = self.decay * momentum + normalise_mean_abs(grad)
        return self.state["momentum"]


def diverse_input(x: torch.Tensor, size: torch.Tensor, top: torch.Tensor, left: torch.Tensor) -> torch.Tensor:
    """Bilinear resize of x (B, C, S, S) to ``size`` x ``size`` placed at (top, left) on a zero canvas S x S.

    ``size``, ``top``, ``left`` are 0-d tensors (on x's device; no host sync).
    Equals ``F.pad(F.interpolate(x, size, mode="bilinear", align_corners=False),
    (left, S - size - left, top, S - size - top))`` for size < S, done as one
    affine ``grid_sample`` with zero padding so that the random sizes never
    leave the device.
    """
    b, _, h, w = x.shape
    size = size.to(x.dtype)
    sy, sx = h / size, w / size
    zero = torch.zeros((), dtype=x.dtype, device=x.device)
    # normalised input coordinate = scale * output coordinate + shift (align_corners=False)
    row_x = torch.stack([sx, zero, (w - 2 * left.to(x.dtype)) / size - 1])
    row_y = torch.stack([zero, sy, (h - 2 * top.to(x.dtype)) / size - 1])
    theta = torch.stack([row_x, row_y]).unsqueeze(0).expand(b, 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


@dataclasses.dataclass(frozen=True, kw_only=True)
class DIFGSM(_MomentumRule):
    """Input diversity: with probability ``p`` the gradient is taken through a
    random resize (side drawn in [resize_rate * S, S)) and random zero padding
    back to S x S, one draw per batch as in the released generator.

    Args:
        p: probability of applying the transformation at a step (released 0.5).
        resize_rate: smallest relative side (released 0.9; must be in (0, 1)).
        decay: momentum factor (released default 0.0).
    """

    name: ClassVar[str] = "DI-FGSM"
    random_start: ClassVar[bool] = True
    p: float = 0.5
    resize_rate: float = 0.9
    decay: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0 <= self.p <= 1:
            raise ValueError(f"p (diversity probability) must be in [0, 1], got {self.p!r}")
        if not 0 < self.resize_rate < 1:
            raise ValueError("resize_rate must be in (0, 1) (the input is shrunk then padded), "
                             f"got {self.resize_rate!r}")
        object.__setattr__(self, "p", float(self.p))
        object.__setattr__(self, "resize_rate", float(self.resize_rate))

    def transform(self, x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        side = x.shape[-1]
        if x.shape[-2] != side:
            raise ValueError(f"DI-FGSM expects square images, got {tuple(x.shape[-2:])}")
        low = int(side * self.resize_rate)
        if low >= side:
            return x
        u = torch.rand(4, generator=generator, device=x.device, dtype=torch.float64)
        size = low + torch.floor(u[0] * (side - low))  # uniform integer in [low, side)
        rem = side - size
        top, left = torch.floor(u[1] * rem), torch.floor(u[2] * rem)  # uniform integers in [0, rem)
        moved = diverse_input(x, size, top, left)
        return torch.where(u[3] < self.p, moved, x)

    def gradient(self, model, x_adv, objective: Objective, alpha: float, step_size: float,
                 generator: torch.Generator | None) -> torch.Tensor:
        transformed_model = lambda z, a: model(self.transform(z, generator), a)  # noqa: E731
        grad = input_gradient(transformed_model, x_adv, objective, alpha)
        if self.decay == 0.0:
            return grad  # sign(grad / mean|grad|) == sign(grad)
        return self._accumulate(grad)


@dataclasses.dataclass(frozen=True, kw_only=True)
class NIFGSM(_MomentumRule):
    """Nesterov look-ahead: gradient at x - decay * step_size * g, then momentum.

    Args:
        decay: momentum factor (released 1.0).
    """

    name: ClassVar[str] = "NI-FGSM"
    decay: float = 1.0

    def lookahead(self, x_adv: torch.Tensor, step_size: float) -> torch.Tensor:
        momentum = self.state.get("momentum")
        if momentum is None:
            return x_adv
        return x_adv - self.decay * step_size * momentum

    def gradient(self, model, x_adv, objective: Objective, alpha: float, step_size: float,
                 generator: torch.Generator | None) -> torch.Tensor:
        grad = input_gradient(model, self.lookahead(x_adv, step_size), objective, alpha)
        return self._accumulate(grad)


@dataclasses.dataclass(frozen=True, kw_only=True)
class SINIFGSM(NIFGSM):
    """NI-FGSM with scale invariance: the gradient is averaged over ``m``
    scaled copies of the look-ahead point.

    Args:
        m: number of copies (released 5).
        decay: momentum factor (released 1.0).
        scaling: ``"released"`` (default) reproduces the released generator:
            the copy is divided again at every turn (x, x/2, x/8, x/64, x/1024)
            and the gradient is taken w.r.t. the scaled copy itself;
            ``"paper"`` follows Lin et al. (ICLR 2020): copies x / 2^i,
            i = 0..m-1, gradient w.r.t. the look-ahead point (chain rule
            factor 1 / 2^i included).
    """

    name: ClassVar[str] = "SINI-FGSM"
    m: int = 5
    decay: float = 1.0
    scaling: str = "released"

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "m", _check_count(self.m, "m (number of scaled copies)"))
        if self.scaling not in ("released", "paper"):
            raise ValueError(f"scaling must be 'released' or 'paper', got {self.scaling!r}")

    def divisors(self) -> list[float]:
        if self.scaling == "paper":
            return [2.0 ** i for i in range(self.m)]
        return [2.0 ** (i * (i + 1) // 2) for i in range(self.m)]

    def gradient(self, model, x_adv, objective: Objective, alpha: float, step_size: float,
                 generator: torch.Generator | None) -> torch.Tensor:
        nes = self.lookahead(x_adv, step_size)
        total = torch.zeros_like(x_adv)
        for d in self.divisors():
            if self.scaling == "paper":
                total = total + input_gradient(lambda z, a, d=d: model(z / d, a), nes, objective, alpha)
            else:  # gradient w.r.t. the scaled input itself
                total = total + input_gradient(model, nes / d, objective, alpha)
        return self._accumulate(total / self.m)


@dataclasses.dataclass(frozen=True, kw_only=True)
class VMIFGSM(_MomentumRule):
    """Variance tuning: momentum over (grad + v) / mean|grad + v|, where v is
    the previous step's mean neighbour gradient minus its gradient; the ``n``
    neighbours are x + U(-beta * eps, beta * eps) (not clipped, as released).

    Args:
        eps: base of the neighbourhood radius; None (default): the l_inf budget
            of the engine that runs the rule (the attack's eps), bound by
            :meth:`for_run`, so the radius follows the attack's budget.
        n: neighbours per step (released 5). beta: radius factor (released 1.5).
        decay: momentum factor (released 1.0).
    """

    name: ClassVar[str] = "VMI-FGSM"
    eps: float | None = None
    n: int = 5
    beta: float = 1.5
    decay: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.eps is not None:
            if not (isinstance(self.eps, (int, float)) and math.isfinite(self.eps) and self.eps >= 0):
                raise ValueError(f"eps must be a finite number >= 0 or None (the attack's eps), got {self.eps!r}")
            object.__setattr__(self, "eps", float(self.eps))
        if not (isinstance(self.beta, (int, float)) and math.isfinite(self.beta) and self.beta >= 0):
            raise ValueError(f"beta must be a finite number >= 0, got {self.beta!r}")
        object.__setattr__(self, "beta", float(self.beta))
        object.__setattr__(self, "n", _check_count(self.n, "n (number of neighbours)"))

    def for_run(self, eps: float) -> "VMIFGSM":
        return dataclasses.replace(self, eps=self.eps if self.eps is not None else eps)

    def reset(self, x: torch.Tensor) -> None:
        super().reset(x)
        self.state["variance"] = torch.zeros_like(x)

    def gradient(self, model, x_adv, objective: Objective, alpha: float, step_size: float,
                 generator: torch.Generator | None) -> torch.Tensor:
        if self.eps is None:
            raise ValueError("VMI-FGSM needs eps for its neighbourhood: run it through LinfPGD (which binds the "
                             "engine's eps) or pass eps")
        grad = input_gradient(model, x_adv, objective, alpha)
        v = self.state.get("variance")
        update = self._accumulate(grad if v is None else grad + v)
        radius = self.beta * self.eps
        neighbours = torch.zeros_like(x_adv)
        for _ in range(self.n):
            noise = torch.rand(x_adv.shape, generator=generator, device=x_adv.device, dtype=x_adv.dtype)
            neighbours = neighbours + input_gradient(model, x_adv + (2 * noise - 1) * radius, objective, alpha)
        self.state["variance"] = neighbours / self.n - grad
        return update


def make_rule(name: str, eps: float | None = None, **kwargs) -> UpdateRule:
    """The update rule called ``name`` (one of :data:`RULE_NAMES`, case-insensitive).

    ``eps`` is used by VMI-FGSM only (base of its neighbourhood radius; None:
    the budget of the engine that runs it); further keyword arguments go to
    the rule's constructor.
    """
    key = str(name).upper().replace("_", "-")
    if key == "PGD":
        if kwargs:
            raise ValueError(f"PGD takes no options, got {sorted(kwargs)}")
        return UpdateRule()
    if key == "BIM":
        if kwargs:
            raise ValueError(f"BIM takes no options, got {sorted(kwargs)}")
        return BIM()
    if key in ("DI-FGSM", "DIFGSM"):
        return DIFGSM(**kwargs)
    if key in ("NI-FGSM", "NIFGSM"):
        return NIFGSM(**kwargs)
    if key in ("SINI-FGSM", "SINIFGSM"):
        return SINIFGSM(**kwargs)
    if key in ("VMI-FGSM", "VMIFGSM"):
        return VMIFGSM(eps=eps, **kwargs)
    raise ValueError(f"unknown update rule {name!r}; choose one of {RULE_NAMES}")


def rule_random_start(rule: UpdateRule | None) -> bool:
    """Whether the released generator of this rule starts at a random point."""
    return bool(getattr(rule, "random_start", True))


def saat_variant(name: str, eps: float | None = None, step_size: float = 1 / 255, steps: int | None = None,
                 targeted: bool = False, weighting: str = "cosine", **rule_kwargs) -> SAATAttack:
    """SAAT's mainstay attack with the update rule ``name`` and that rule's
    released random-start setting (PGD, DI-FGSM: yes; the others: no). ``eps``, ``steps``: None for
    :class:`~saatlib.attack.saat.SAATParams`' defaults (the default profile's budget).

    ``rule_kwargs`` go to the rule (:func:`make_rule`); VMI-FGSM's radius
    follows the attack's ``eps``.
    """
    rule = make_rule(name, **rule_kwargs)
    budget = {k: v for k, v in (("eps", eps), ("steps", steps)) if v is not None}
    return SAATAttack(step_size=step_size, targeted=targeted, rule=rule, random_start=rule_random_start(rule),
                      weighting=weighting, **budget)
