"""SDHA (Lu et al., "A Smart Adversarial Attack on Deep Hashing Based Image Retrieval", ICMR 2021).

Non-targeted, called with the query's own labels. As in the released SAAT code
(``sdha.py``; but its reported code is that of the iterate before the final step,
ours that of the returned example: saatlib.fidelity row ``hag_sdha_reported_code``),
for a query with relaxed adversarial code q (B, K) and the
signed codes r_j of its relevant training items (sharing a label with the
query; when there is none, the query's own benign code sign(model(x))):

    dis_j = 1/2 sum_k |q_k - r_jk| sigmoid(sigma q_k r_jk) + sum_k (1 - sigmoid(sigma q_k r_jk))
    w_j   = (d_H(sign(q), r_j) + 1e-8)^(-z)           (Hamming distance; no gradient)
    surrogate = - mean over queries of mean_j (w_j dis_j)
    loss  = MSE(x_adv, x) + (25 / K) * surrogate,     sigma = 5, z = 0.5

Minimising the loss raises the weighted soft Hamming distance to the relevant
codes, the closest ones (small d_H) weighted most, while the MSE term keeps
the perturbation small. Optimiser: Adam lr 0.01, 1500 iterations, x_adv
starting at x, projection onto the eps-ball and [0, 1] after every step.

Vectorised over the batch (the released code loops over queries): since r is
in {-1, 1}, every per-bit term f(q_k r_k) equals
``(f(q_k) + f(-q_k)) / 2 + r_k (f(q_k) - f(-q_k)) / 2``, i.e. dis_j is linear in
r_j; the weights carry no gradient, so the weighted mean over the relevant
items only needs sum_j w_j and sum_j w_j r_j: two (B, K) x (K, N) matrix
products under ``no_grad`` (Hamming distances, then the weighted code sum),
masked by the (B, N) relevance matrix. No (B, N, K) tensor, no Python loop,
and the autograd graph is (B, K).
:mod:`saatlib.attack.sdha_loop` keeps the per-query loop for comparison.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Sequence

import torch
import torch.nn.functional as F

from saatlib.attack.base import Attack, AttackContext, schedule_param, set_params
from saatlib.attack.engine import SAAT_SCHEDULE
from saatlib.attack.hag import optimise_in_ball
from saatlib.primitives import (RELEASED_ATTACK_BATCH, binarize, check_budget, check_positive, check_reference_batch,
                                eval_codes, shares_label)
from saatlib.profiles import default_attack_setting


def soft_bit_distance(t: torch.Tensor, sigma: float) -> torch.Tensor:
    """Per-bit term of dis for t = q_k r_k with r_k in {-1, 1} (|q_k - r_k| = 1 - t)."""
    s = torch.sigmoid(sigma * t)
    return 0.5 * (1 - t) * s + (1 - s)


def sdha_surrogate(h_adv: torch.Tensor, relevant: torch.Tensor, codes: torch.Tensor, fallback: torch.Tensor,
                   sigma: float = 5.0, z: float = 0.5) -> torch.Tensor:
    """SDHA's surrogate (scalar, to minimise), vectorised over the batch.

    Args:
        h_adv: (B, K) relaxed adversarial codes q.
        relevant: (B, N) relevance of the training items to each query, bool or
            0/1 float (float of h_adv's dtype avoids a conversion per call).
        codes: (N, K) training codes in {-1, 1}.
        fallback: (B, K) codes in {-1, 1} used for a query with no relevant item
            (the query's own benign code).

    With r_j in {-1, 1}, dis_j = sum_k even_k + sum_k odd_k r_jk where
    even = (f(q) + f(-q)) / 2 and odd = (f(q) - f(-q)) / 2 (f: per-bit term),
    and the weights w_j carry no gradient, so
    mean_j w_j dis_j = sum_k even_k * (sum_j w_j / n) + sum_k odd_k * (sum_j w_j r_jk / n):
    the (B, N) work is two matrix products under no_grad, and the graph stays (B, K).
    """
    q = h_adv
    k = q.shape[1]
    f_pos, f_neg = soft_bit_distance(q, sigma), soft_bit_distance(-q, sigma)
    even, odd = (f_pos + f_neg) / 2, (f_pos - f_neg) / 2  # (B, K)
    with torch.no_grad():
        codes = codes.to(q.dtype)
        fallback = fallback.to(q.dtype)
        q_sign = torch.sign(q)
        # Hamming distances d_H = K/2 + (-sign(q)/2) . r (exact), then w = (d_H + 1e-8)^(-z)
        weight = torch.addmm(q.new_full((1, 1), k / 2), q_sign * -0.5, codes.t()).add_(1e-8)
        weight = weight.rsqrt_() if z == 0.5 else weight.pow_(-z)  # rsqrt: the default z, several times faster
        mask = relevant.to(q.dtype)  # no copy when the caller passes a float mask (the attack does)
        weight.mul_(mask)
        count = mask.sum(1)
        has = count > 0
        count = count.clamp(min=1)
        w_sum = weight.sum(1) / count  # (B,)
        w_codes = (weight @ codes) / count[:, None]  # (B, K)
        w_fb = (0.5 * (k - (q_sign * fallback).sum(1)) + 1e-8).pow(-z)
        w_sum = torch.where(has, w_sum, w_fb)
        w_codes = torch.where(has[:, None], w_codes, w_fb[:, None] * fallback)
    per_query = even.sum(1) * w_sum + (odd * w_codes).sum(1)
    return -per_query.mean()


def sdha_loss(x_adv: torch.Tensor, x: torch.Tensor, h_adv: torch.Tensor, relevant: torch.Tensor,
              codes: torch.Tensor, fallback: torch.Tensor, weight: float = 25.0, sigma: float = 5.0,
              z: float = 0.5) -> torch.Tensor:
    """MSE(x_adv, x) + (weight / K) * surrogate (scalar, to minimise)."""
    k = h_adv.shape[1]
    return F.mse_loss(x_adv, x) + (weight / k) * sdha_surrogate(h_adv, relevant, codes, fallback, sigma, z)


@dataclasses.dataclass(frozen=True, kw_only=True)
class SDHAParams:
    """Hyper-parameters of :class:`SDHAAttack`.

    Args:
        eps: l_inf budget, steps: iterations (default: the default profile's; released 8/255, 1500).
        lr: Adam learning rate (0.01; betas 0.9, 0.999).
        weight: surrogate weight before division by K (25).
        sigma: sigmoid sharpness (5). z: Hamming weight exponent (0.5).
        schedule: tanh scale by tenths of the run (None: a = 1).
        reference_batch: the loss is a batch mean; the gradient is scaled so that
            every query steps as in a released batch of 128 (Adam is nearly scale
            invariant, but its epsilon is not), independent of its batch-mates.
    """

    eps: float = default_attack_setting("SDHA", "eps")  # the default profile's budget
    steps: int = default_attack_setting("SDHA", "steps")
    lr: float = 0.01
    weight: float = 25.0
    sigma: float = 5.0
    z: float = 0.5
    schedule: Sequence[float] | None = SAAT_SCHEDULE
    reference_batch: int = RELEASED_ATTACK_BATCH

    def __post_init__(self) -> None:
        eps, steps = check_budget(self.eps, self.steps)
        if not (isinstance(self.z, (int, float)) and math.isfinite(self.z)):
            raise ValueError(f"z must be a finite number, got {self.z!r}")
        set_params(self, eps=eps, steps=steps, reference_batch=check_reference_batch(self.reference_batch),
                   lr=check_positive(self.lr, "lr"), weight=check_positive(self.weight, "weight"),
                   sigma=check_positive(self.sigma, "sigma"), z=float(self.z), schedule=schedule_param(self.schedule))


class SDHAAttack(Attack):
    """SDHA: Adam on the pixels, away from the relevant training codes (parameters: :class:`SDHAParams`).

    Uses ``context.train_codes`` and ``context.train_labels``.
    """

    Params = SDHAParams
    name = "SDHA"
    uses_generator = False  # deterministic: the generator is never drawn from
    paper = "Lu et al., A Smart Adversarial Attack on Deep Hashing Based Image Retrieval, ICMR 2021"
    targeted = False

    def targets(self, model, x, labels, context: AttackContext):
        """(relevance (B, N) as 0/1 float, training codes (N, K), fallback benign codes (B, K))."""
        rel = shares_label(labels.to(x.device), context.train_labels.to(x.device)).to(x.dtype)
        fallback = eval_codes(model, x.detach())
        return rel, binarize(context.train_codes.to(x.device).float()), fallback

    def __call__(self, model, x, labels, context: AttackContext, generator=None, record: bool = False):
        p = self.params
        x = x.detach()
        rel, codes, fallback = self.targets(model, x, labels, context)
        return optimise_in_ball(
            model, x,
            lambda x_adv, h_adv: sdha_loss(x_adv, x, h_adv, rel, codes, fallback, p.weight, p.sigma, p.z),
            lambda params: torch.optim.Adam(params, lr=p.lr, betas=(0.9, 0.999)),
            p.eps, p.steps, p.schedule, record, p.reference_batch)
