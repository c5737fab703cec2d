"""DMFL: discriminative mainstay features (reference section 2).

Given label vectors ``y`` (a query's own labels, or a target's), the codes ``B``
(N, K) of the training set and their labels ``Y`` (N, C), the mainstay code is

    b* = sign( sum_j w+_j B_j - sum_j w-_j B_j ),

the exact maximiser over b in {-1, 1}^K of the DMFL objective
``b . (sum_j w+_j B_j - sum_j w-_j B_j)``: the objective is linear and separable
in the bits, so each bit independently takes the sign of its coefficient.

Weights, two variants (both normalised to sum to 1 per query; all zero when a
query has no similar, resp. no dissimilar, item):

- ``"released"`` (default; the released SAAT code, ``hash_center_code``):
  w+_j = |y AND Y_j| / |y| for items sharing a label; w-_j = (|y| + |Y_j|) / C for
  items sharing none.
- ``"cosine"`` (the reference's wording): w+_j = cos(y, Y_j); w-_j = 1 where
  cos(y, Y_j) = 0.

On single-label data both reduce to the class mean code minus the mean code of
the other classes. A zero coefficient (a tie) gives +1.
"""
from __future__ import annotations

import torch

WEIGHTINGS = ("released", "cosine")


def dmfl_weights(labels: torch.Tensor, code_labels: torch.Tensor, weighting: str = "released"):
    """Normalised positive and negative weights.

    Args:
        labels: (B, C) in {0, 1}. code_labels: (N, C) in {0, 1}.
    Returns:
        (w_pos, w_neg), each (B, N), rows summing to 1 or all zero.
    """
    if labels.dim() != 2 or code_labels.dim() != 2 or labels.shape[1] != code_labels.shape[1]:
        raise ValueError(
            f"labels {tuple(labels.shape)} and code_labels {tuple(code_labels.shape)} must be (B, C) and (N, C) "
            "with the same number of classes C"
        )
    y, yy = labels.float(), code_labels.float().to(labels.device)
    shared = y @ yy.t()  # (B, N) number of shared labels
    positive = shared > 0
    if weighting == "released":
        n_q = y.sum(1, keepdim=True)
        w_pos = shared / n_q.clamp(min=1)
        w_neg = (n_q + yy.sum(1)[None, :]) * (~positive) / y.shape[1]
    elif weighting == "cosine":
        norms = y.norm(dim=1, keepdim=True) * yy.norm(dim=1)[None, :]
        w_pos = shared / norms.clamp(min=1e-12)
        w_neg = (~positive).float()
    else:
        raise ValueError(f"unknown weighting {weighting!r}; choose one of {WEIGHTINGS}")
    w_pos = w_pos / w_pos.sum(1, keepdim=True).clamp(min=1e-12)
    w_neg = w_neg / w_neg.sum(1, keepdim=True).clamp(min=1e-12)
    return w_pos, w_neg


def dmfl_direction(labels, codes, code_labels, weighting: str = "released") -> torch.Tensor:
    """The coefficient vector sum w+ B - sum w- B, shape (B, K)."""
    w_pos, w_neg = dmfl_weights(labels, code_labels, weighting)
    codes = codes.float().to(w_pos.device)
    return (w_pos - w_neg) @ codes


def dmfl_objective(b: torch.Tensor, labels, codes, code_labels, weighting: str = "released") -> torch.Tensor:
    """DMFL objective b . (sum w+ B - sum w- B) for candidate codes b (B, K) -> (B,)."""
    return (b.float() * dmfl_direction(labels, codes, code_labels, weighting)).sum(1)


def mainstay_codes(labels: torch.Tensor, codes: torch.Tensor, code_labels: torch.Tensor,
                   weighting: str = "released") -> torch.Tensor:
    """Mainstay codes of label vectors.

    Args:
        labels: (B, C) in {0, 1}, the query (or target) labels.
        codes: (N, K) in {-1, 1}, codes of the training set.
        code_labels: (N, C) in {0, 1}, their labels.
        weighting: ``"released"`` or ``"cosine"`` (see module docstring).
    Returns:
        (B, K) float in {-1, 1}, on the device of ``labels``; batched, no loop.
    """
    if codes.shape[0] != code_labels.shape[0]:
        raise ValueError(f"codes ({codes.shape[0]} rows) and code_labels ({code_labels.shape[0]} rows) differ")
    d = dmfl_direction(labels, codes, code_labels, weighting)
    return torch.where(d >= 0, torch.ones_like(d), -torch.ones_like(d))
