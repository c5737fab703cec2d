"""THA's PrototypeNet: label vectors -> prototype codes.

Wang et al., "Targeted Attack and Defense for Deep Hashing", SIGIR 2021 (THA).
PrototypeNet maps a label vector (C,) through Linear(C, 4096) - ReLU -
Linear(4096, 512) - Linear(512, K) - tanh to a relaxed code; the prototype code
of a target label is sign(pnet(y_t)).

Training, as in the released SAAT code (``tha.py``):

- each step draws ``batch_size`` label vectors, with replacement, from the
  unique label vectors of the database, and compares their outputs h with the
  signed training codes: s_ij = h_i . b_j / K, positive pairs share a label;
- circle loss with m = 0, gamma = 1 in the released form:
  a_p = [2 - s_p]_+, a_n = [s_n + 2]_+ (both without gradient),
  L = softplus(logsumexp(gamma a_n s_n) + logsumexp(-gamma a_p s_p)) over all
  pairs of the batch, divided by the batch size; like the released code,
  the pairs (i, j) with j <= i are left out (it applies ``triu(1)`` to the
  B x N pair matrix; ``drop_lower_triangle=False`` keeps them);
- plus the quantisation term sum((sign(h) - h)^2) * 1e-4 / batch size;
- Adam lr 1e-4, betas (0.5, 0.999), lr x0.1 at 1/2 and 3/4 of the steps;
  released: 100 epochs x 300 steps = 30000 steps of ``--batch_size`` labels, 128 in the released
  ``attack.py`` (THA; the default here, 32, is ATRDH's batch).

Missing pairs are masked inside the log-sum-exp (no boolean indexing), so the
loop never synchronises with the device. Weight init and the label draws are
seeded without touching the caller's RNG state.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from saatlib.primitives import eval_codes, shares_label
from saatlib.seeding import seeded

_MASKED = -1.0e4  # log-sum-exp filler of a missing pair: exp(-1e4 - max) == 0 in float32


class PrototypeNet(nn.Module):
    """labels (B, C) -> relaxed prototype codes (B, K) in (-1, 1)."""

    def __init__(self, num_classes: int, bits: int, hidden: int = 4096, features: int = 512):
        super().__init__()
        for value, what in ((num_classes, "num_classes"), (bits, "bits"), (hidden, "hidden"), (features, "features")):
            if isinstance(value, bool) or int(value) != value or value < 1:
                raise ValueError(f"{what} must be a positive integer, got {value!r}")
        self.num_classes, self.bits = int(num_classes), int(bits)
        self.feature = nn.Sequential(nn.Linear(num_classes, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, features))
        self.hashing = nn.Sequential(nn.Linear(features, bits), nn.Tanh())

    def forward(self, labels: torch.Tensor) -> torch.Tensor:
        return self.hashing(self.feature(labels.float()))


def _masked_logsumexp(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return torch.logsumexp(torch.where(mask, logits, torch.full_like(logits, _MASKED)).flatten(), dim=0)


def prototype_loss(h: torch.Tensor, batch_labels: torch.Tensor, codes: torch.Tensor, code_labels: torch.Tensor,
                   gamma: float = 1.0, quant_weight: float = 1e-4, drop_lower_triangle: bool = True) -> torch.Tensor:
    """Circle loss (m = 0, released form) + quantisation term, for outputs h (B, K).

    Args:
        h: (B, K) PrototypeNet outputs for ``batch_labels`` (B, C).
        codes: (N, K) training codes in {-1, 1}; code_labels: (N, C).
    """
    b, k = h.shape
    sim = h @ codes.to(h.dtype).t() / k  # (B, N)
    related = shares_label(batch_labels, code_labels)
    if drop_lower_triangle:
        keep = torch.ones_like(related).triu(diagonal=1)
        pos, neg = related & keep, ~related & keep
    else:
        pos, neg = related, ~related
    a_p = (2 - sim.detach()).clamp(min=0)
    a_n = (sim.detach() + 2).clamp(min=0)
    circle = F.softplus(_masked_logsumexp(gamma * a_n * sim, neg) + _masked_logsumexp(-gamma * a_p * sim, pos))
    quant = (torch.sign(h) - h).square().sum()
    return circle / b + quant_weight * quant / b


def train_prototype_net(codes: torch.Tensor, code_labels: torch.Tensor, db_labels: torch.Tensor,
                        steps: int = 30000, batch_size: int = 32, lr: float = 1e-4,
                        betas: tuple[float, float] = (0.5, 0.999), gamma: float = 1.0, quant_weight: float = 1e-4,
                        seed: int = 0, drop_lower_triangle: bool = True, record: bool = False):
    """Train a PrototypeNet on the unique label vectors of the database.

    Args:
        codes: (N, K) training codes in {-1, 1}; code_labels: (N, C) their labels.
        db_labels: (N_db, C) database labels (their unique rows are the inputs).
        steps: optimiser steps (released 100 epochs x 300 = 30000).
        batch_size: label vectors per step (THA released 128, ATRDH 32).
        lr, betas: Adam (1e-4, (0.5, 0.999)); lr x0.1 at 1/2 and 3/4 of the steps.
        gamma: circle-loss scale (1). quant_weight: quantisation weight (1e-4).
        seed: seeds the weights and the label draws (the caller's RNG is untouched).
        record: also return the loss at every step, (steps,) on the device.
    Returns:
        the trained PrototypeNet in eval mode, on the device of ``codes``
        (and the losses when ``record``).
    """
    if isinstance(steps, bool) or int(steps) != steps or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
    if isinstance(batch_size, bool) or int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
    if codes.dim() != 2 or code_labels.dim() != 2 or codes.shape[0] != code_labels.shape[0]:
        raise ValueError(f"codes {tuple(codes.shape)} and code_labels {tuple(code_labels.shape)} must be (N, K) "
                         "and (N, C) with the same N")
    if db_labels.dim() != 2 or db_labels.shape[1] != code_labels.shape[1]:
        raise ValueError(f"db_labels {tuple(db_labels.shape)} must be (N_db, C) with C = {code_labels.shape[1]}")
    device = codes.device
    codes = codes.float()
    code_labels = code_labels.float().to(device)
    unique = torch.unique(db_labels.float().to(device), dim=0)
    with seeded(int(seed)):
        pnet = PrototypeNet(code_labels.shape[1], codes.shape[1])
    pnet.to(device).train()
    draw = torch.Generator().manual_seed(int(seed))
    steps = int(steps)
    optimizer = torch.optim.Adam(pnet.parameters(), lr=lr, betas=betas)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[steps // 2, steps * 3 // 4], gamma=0.1)
    losses = []
    picks = torch.randint(unique.shape[0], (steps, int(batch_size)), generator=draw).to(device)
    with torch.enable_grad():
        for i in range(steps):
            batch_labels = unique[picks[i]]
            loss = prototype_loss(pnet(batch_labels), batch_labels, codes, code_labels, gamma, quant_weight,
                                  drop_lower_triangle)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            if record:
                losses.append(loss.detach())
    pnet.eval()
    for p in pnet.parameters():
        p.grad = None
    if record:
        return pnet, (torch.stack(losses) if losses else torch.zeros(0, device=device))
    return pnet


def prototype_codes(pnet: PrototypeNet, labels: torch.Tensor) -> torch.Tensor:
    """sign(pnet(labels)) in {-1, 1} (0 -> +1), (B, K) (:func:`saatlib.primitives.eval_codes`: pnet's mode
    is restored)."""
    return eval_codes(pnet, labels.float().to(next(pnet.parameters()).device))
