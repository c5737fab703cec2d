"""HAG (Yang et al., "Adversarial Examples for Hamming Space Search", IEEE TCYB 2018).

Non-targeted. HAG needs no labels: it pushes the adversarial code away from the
query's own benign code. As in the released SAAT code (``hag.py``):

- h = model(x) is the relaxed benign code (tanh output, not its sign);
- a bit is still "to be attacked" while |h_adv - sign(h)| < 1 + t (t = 0.5),
  i.e. while h_adv has not moved far enough to the other sign; mask
  m = (sign(1 + t - |h_adv - sign(h)|) + 1) / 2 in {0, 1/2, 1};
- loss = mean_i ((sum_k m h_adv h / (sum_k m + 1e-8)) + 1)^2
         + beta * mean_i (mean_k m h_adv)^2,  beta = 1;
  the first term drives the masked inner product to -1, the second keeps
  the bits balanced;
- x itself is the optimised variable: SGD lr 100, momentum 0.9, 2000
  iterations, the tanh-scale schedule, projection onto the eps-ball and
  [0, 1] after every step, no random start;
- the loss is a batch mean, so the released per-query step is that of a
  batch of 128 (``attack.py --batch_size``): the gradient is scaled by
  B / 128, and a query's adversarial example does not depend on which other
  queries share its batch (the released script's last, smaller batch steps
  further; we do not reproduce that).
- the released script scores the code of h_hat, the model's output computed
  before the last optimiser step (``hag.py::adv_generator`` returns it), that
  is the iterate before the final step; we score the code of the returned
  example, after the final step (the same for SDHA; no switch, saatlib.fidelity
  row ``hag_sdha_reported_code``).

:func:`optimise_in_ball` is the loop shared with SDHA: an optimiser over a
leaf copy of x, gradients from ``torch.autograd.grad`` (assigned to the leaf
by hand), so the model's parameter ``.grad`` are never touched.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Callable, Sequence

import torch

from saatlib.attack.base import Attack, AttackContext, schedule_param, set_params
from saatlib.attack.engine import SAAT_SCHEDULE, tanh_scale
from saatlib.primitives import (RELEASED_ATTACK_BATCH, check_budget, check_positive, check_reference_batch,
                                eval_mode, project_linf)
from saatlib.profiles import default_attack_setting

# loss(x_adv, h_adv) -> scalar
InputObjective = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def optimise_in_ball(model, x: torch.Tensor, loss_fn: InputObjective,
                     make_optimizer: Callable[[list[torch.Tensor]], torch.optim.Optimizer],
                     eps: float, steps: int, schedule: Sequence[float] | None = SAAT_SCHEDULE,
                     record: bool = False, reference_batch: int | None = None):
    """Minimise ``loss_fn(x_adv, model(x_adv, a))`` over x_adv with a torch optimiser.

    x_adv starts at x; after every optimiser step it is projected onto the
    eps-ball around x and into [0, 1] (the optimiser's state carries over, as in
    the released code). The model is in eval mode for the loop (its mode is
    restored after) and its parameter ``.grad`` are left as they were.

    ``loss_fn`` is a mean over the B queries of the batch, so the gradient of
    query i carries a factor 1/B, and an optimiser that is not invariant to the
    gradient's scale (SGD; Adam through its epsilon) would step each query by an
    amount that depends on how many other queries share its batch. With
    ``reference_batch`` R the gradient is multiplied by B / R: every query steps
    as it would in a batch of R (the released attack scripts batch 128), whatever
    B is. None: the plain batch mean (the step depends on B).

    Returns x_adv (detached), or (x_adv, losses (steps,)) when ``record`` (the
    batch-mean objective, unscaled).
    """
    x = x.detach()
    x_adv = x.clone().requires_grad_(True)
    optimizer = make_optimizer([x_adv])
    scale = None if reference_batch is None else x.shape[0] / float(reference_batch)
    losses = []
    with eval_mode(model):
        for i in range(steps):
            alpha = tanh_scale(i, steps, schedule)
            with torch.enable_grad():
                loss = loss_fn(x_adv, model(x_adv, alpha))
                (grad,) = torch.autograd.grad(loss, [x_adv])
            if scale is not None:
                grad = grad * scale
            if record:
                losses.append(loss.detach())
            x_adv.grad = grad
            optimizer.step()
            with torch.no_grad():
                x_adv.copy_(project_linf(x_adv, x, eps))
    x_adv = x_adv.detach()
    if record:
        return x_adv, (torch.stack(losses) if losses else torch.zeros(0, device=x.device))
    return x_adv


def hag_mask(h_adv: torch.Tensor, h: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """1 where bit k of h_adv is still within 1 + threshold of sign(h) (still to flip), 0 where not."""
    return (torch.sign((1 + threshold) - (h_adv - torch.sign(h)).abs()) + 1) / 2


def hag_loss(h_adv: torch.Tensor, h: torch.Tensor, threshold: float = 0.5, beta: float = 1.0) -> torch.Tensor:
    """HAG objective (to minimise). h_adv, h: (B, K) relaxed codes; returns a scalar."""
    mask = hag_mask(h_adv, h, threshold)
    adv, ori = mask * h_adv, mask * h
    m = mask.sum(dim=1)
    inner = (adv * ori).sum(dim=1) / (m + 1e-8)
    return (inner + 1).square().mean() + beta * adv.mean(dim=1).square().mean()


@dataclasses.dataclass(frozen=True, kw_only=True)
class HAGParams:
    """Hyper-parameters of :class:`HAGAttack`.

    Args:
        eps: l_inf budget, steps: iterations (default: the default profile's; released 8/255, 2000).
        lr: SGD learning rate (released 100). momentum: SGD momentum (0.9).
        threshold: mask threshold t (0.5). beta: weight of the balance term (1).
        schedule: tanh scale by tenths of the run (None: a = 1).
        reference_batch: the loss is a batch mean stepped by SGD with lr 100, so
            a query's step scales with 1 / (its batch size); every query steps as
            in a batch of ``reference_batch`` (released ``attack.py``: 128), so
            its adversarial example does not depend on the other queries.
    """

    eps: float = default_attack_setting("HAG", "eps")  # the default profile's budget
    steps: int = default_attack_setting("HAG", "steps")
    lr: float = 100.0
    momentum: float = 0.9
    threshold: float = 0.5
    beta: float = 1.0
    schedule: Sequence[float] | None = SAAT_SCHEDULE
    reference_batch: int = RELEASED_ATTACK_BATCH

    def __post_init__(self) -> None:
        eps, steps = check_budget(self.eps, self.steps)
        if not 0 <= self.momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum!r}")
        if not (math.isfinite(self.threshold) and self.threshold >= 0):
            raise ValueError(f"threshold must be a finite number >= 0, got {self.threshold!r}")
        if not (math.isfinite(self.beta) and self.beta >= 0):
            raise ValueError(f"beta must be a finite number >= 0, got {self.beta!r}")
        set_params(self, eps=eps, steps=steps, reference_batch=check_reference_batch(self.reference_batch),
                   lr=check_positive(self.lr, "lr"), momentum=float(self.momentum),
                   threshold=float(self.threshold), beta=float(self.beta), schedule=schedule_param(self.schedule))


class HAGAttack(Attack):
    """HAG: SGD on the pixels against the query's own (relaxed) benign code (parameters: :class:`HAGParams`).

    Labels and context are not used (HAG is label-free); the call signature is
    the common one.
    """

    Params = HAGParams
    name = "HAG"
    uses_generator = False  # deterministic: the generator is never drawn from
    paper = "Yang et al., Adversarial Examples for Hamming Space Search, IEEE Trans. Cybernetics 2018"
    targeted = False

    def benign_codes(self, model, x: torch.Tensor) -> torch.Tensor:
        """Relaxed benign codes model(x) at a = 1 (eval mode; no graph)."""
        with eval_mode(model), torch.no_grad():
            return model(x.detach(), 1.0)

    def loss(self, h_adv: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        return hag_loss(h_adv, h, self.threshold, self.beta)

    def __call__(self, model, x, labels=None, context: AttackContext | None = None, generator=None,
                 record: bool = False):
        p = self.params
        h = self.benign_codes(model, x)
        return optimise_in_ball(
            model, x, lambda x_adv, h_adv: self.loss(h_adv, h),
            lambda params: torch.optim.SGD(params, lr=p.lr, momentum=p.momentum),
            p.eps, p.steps, p.schedule, record, p.reference_batch)
