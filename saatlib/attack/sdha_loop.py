"""SDHA's surrogate with a Python loop over the queries (for comparison only).

The same loss as :func:`saatlib.attack.sdha.sdha_loss`, written the way the
released code computes it: one query at a time, gathering its relevant
training codes and evaluating |q - r| and the sigmoids on an (n_i, K) block.
It exists for ``bench/sdha_bench.py`` and the equality test; the attack uses
the vectorised version.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def sdha_surrogate_loop(h_adv: torch.Tensor, relevant: torch.Tensor, codes: torch.Tensor, fallback: torch.Tensor,
                        sigma: float = 5.0, z: float = 0.5) -> torch.Tensor:
    """Per-query loop version of :func:`saatlib.attack.sdha.sdha_surrogate` (same arguments)."""
    batch, k = h_adv.shape
    codes = codes.to(h_adv.dtype)
    total = h_adv.new_zeros(())
    for i in range(batch):
        q = h_adv[i]
        rows = torch.nonzero(relevant[i]).flatten()
        r = codes[rows] if rows.numel() > 0 else fallback[i:i + 1].to(h_adv.dtype)
        s = torch.sigmoid(sigma * q * r)  # (n_i, K)
        dis = 0.5 * ((q - r).abs() * s).sum(1) + (1 - s).sum(1)
        hamming = 0.5 * (k - r @ torch.sign(q.detach()))
        total = total + (dis * (hamming + 1e-8).pow(-z)).mean()
    return -total / batch


def sdha_loss_loop(x_adv: torch.Tensor, x: torch.Tensor, h_adv: torch.Tensor, relevant: torch.Tensor,
                   codes: torch.Tensor, fallback: torch.Tensor, weight: float = 25.0, sigma: float = 5.0,
                   z: float = 0.5) -> torch.Tensor:
    """MSE(x_adv, x) + (weight / K) * loop surrogate."""
    k = h_adv.shape[1]
    return F.mse_loss(x_adv, x) + (weight / k) * sdha_surrogate_loop(h_adv, relevant, codes, fallback, sigma, z)
