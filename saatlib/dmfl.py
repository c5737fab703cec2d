"""DMFL: discriminative mainstay features (reference section 2; paper eq. (5)-(7)).

Given label vectors ``y`` (B, C) (a query's own labels, or a target's), the codes
``B`` (N, K) of the training set and their labels ``Y`` (N, C), the mainstay code is

    b* = sign( sum_j w+_j B_j - sum_j w-_j B_j ),

the exact maximiser over b in {-1, 1}^K of the DMFL objective
``b . (sum_j w+_j B_j - sum_j w-_j B_j)``: the objective is linear and separable
in the bits, so each bit independently takes the sign of its coefficient.

Weights, two variants (each normalised to sum to 1 per query; all zero when a
query has no similar, resp. no dissimilar, item):

- ``"cosine"`` (default; the released SAAT code at HEAD 3743e69,
  ``adv_attack.py::generate_mainstay_code``, used by the attack and by
  ``adv_training.py``): w+_j = cos(y, Y_j); w-_j = 1 where cos(y, Y_j) = 0.
- ``"overlap"`` (an ablation: the formula that commit b47099e "update mainstay
  code" replaced, so it is *not* the released one): w+_j = |y AND Y_j| / |y| for
  items sharing a label; w-_j = (|y| + |Y_j|) / C for items sharing none.

- ``"equal"``: w+_j = 1 for items sharing a label, w-_j = 1 for items sharing
  none, before normalisation: CgAT's centre code (Wang et al., WWW 2023; see
  :func:`saatlib.defense.cgat.centre_codes`), the difference of the mean code of
  the similar items and that of the dissimilar ones. Not a weighting of SAAT,
  so not in :data:`WEIGHTINGS`.
On single-label data all three reduce to the class mean code minus the mean
code of the other classes.

Ties are exact: the coefficients are computed in float64 and a coefficient
whose magnitude is within the float64 rounding bound of the sum (see
:func:`tie_tolerance`) counts as zero, so a bit whose coefficient is zero in
exact arithmetic (for instance a bit constant over all training codes, where
sum w+ - sum w- = 1 - 1) gets the tie value +1, not the sign of float noise.
The released code takes ``torch.sign`` of a float32 sum: 0 on an exact zero,
and in practice the sign of rounding noise on such bits (``exact_ties=False``
reproduces the float32 computation, noise included, with 0 -> +1).
"""
from __future__ import annotations

import torch

from saatlib.primitives import binarize

#: the DMFL weightings of SAAT (released and ablation); ``"equal"`` (CgAT's centre) is accepted besides
WEIGHTINGS = ("cosine", "overlap")
EQUAL_WEIGHTING = "equal"
#: the released weighting (adv_attack.py::generate_mainstay_code at HEAD 3743e69)
RELEASED_WEIGHTING = "cosine"


def dmfl_weights(labels: torch.Tensor, code_labels: torch.Tensor, weighting: str = RELEASED_WEIGHTING,
                 dtype: torch.dtype = torch.float32):
    """Normalised positive and negative weights.

    Args:
        labels: (B, C) in {0, 1}. code_labels: (N, C) in {0, 1}.
        weighting: ``"cosine"`` (released), ``"overlap"`` or ``"equal"`` (see module docstring).
        dtype: floating type of the computation.
    Returns:
        (w_pos, w_neg), each (B, N), rows summing to 1 or all zero.
    """
    if labels.dim() != 2 or code_labels.dim() != 2 or labels.shape[1] != code_labels.shape[1]:
        raise ValueError(
            f"labels {tuple(labels.shape)} and code_labels {tuple(code_labels.shape)} must be (B, C) and (N, C) "
            "with the same number of classes C"
        )
    y, yy = labels.to(dtype), code_labels.to(device=labels.device, dtype=dtype)
    shared = y @ yy.t()  # (B, N) number of shared labels
    positive = shared > 0
    if weighting == "cosine":
        norms = y.norm(dim=1, keepdim=True) * yy.norm(dim=1)[None, :]
        w_pos = shared / norms.clamp(min=1e-12)
        w_neg = (~positive).to(dtype)
    elif weighting == "overlap":
        n_q = y.sum(1, keepdim=True)
        w_pos = shared / n_q.clamp(min=1)
        w_neg = (n_q + yy.sum(1)[None, :]) * (~positive) / y.shape[1]
    elif weighting == EQUAL_WEIGHTING:
        w_pos, w_neg = positive.to(dtype), (~positive).to(dtype)
    else:
        raise ValueError(f"unknown weighting {weighting!r}; choose one of {(*WEIGHTINGS, EQUAL_WEIGHTING)}")
    w_pos = w_pos / w_pos.sum(1, keepdim=True).clamp(min=1e-12)
    w_neg = w_neg / w_neg.sum(1, keepdim=True).clamp(min=1e-12)
    return w_pos, w_neg


def dmfl_direction(labels, codes, code_labels, weighting: str = RELEASED_WEIGHTING,
                   dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The coefficient vector sum w+ B - sum w- B, shape (B, K), in ``dtype``."""
    w_pos, w_neg = dmfl_weights(labels, code_labels, weighting, dtype)
    codes = codes.to(device=w_pos.device, dtype=dtype)
    return (w_pos - w_neg) @ codes


def tie_tolerance(num_items: int, dtype: torch.dtype = torch.float64) -> float:
    """Bound on the rounding error of one coefficient sum_j (w+_j - w-_j) B_jk.

    With |B_jk| = 1 and sum_j |w+_j - w-_j| <= 2, the recursive-summation bound
    is gamma_N * 2 (gamma_N ~ N u); the weights themselves carry a few units of
    rounding each. We use 4 (N + 16) u: a coefficient this small counts as 0.
    In float64 (u = 2^-53) that is 4.9e-12 for N = 10,000, far below the
    smallest non-zero coefficient a data set of that size produces in practice
    (differences of weights, of order 1/N^2 = 1e-8).
    """
    return 4.0 * (num_items + 16) * torch.finfo(dtype).eps / 2


def mainstay_codes(labels: torch.Tensor, codes: torch.Tensor, code_labels: torch.Tensor,
                   weighting: str = RELEASED_WEIGHTING, exact_ties: bool = True) -> torch.Tensor:
    """Mainstay codes of label vectors (paper eq. (7)).

    Args:
        labels: (B, C) in {0, 1}, the query (or target) labels.
        codes: (N, K) in {-1, 1}, codes of the training set.
        code_labels: (N, C) in {0, 1}, their labels.
        weighting: ``"cosine"`` (released, default) or ``"overlap"`` (ablation).
        exact_ties: coefficients in float64, |coefficient| <= :func:`tie_tolerance`
            -> +1 (default); False: float32 as the released code, the sign of
            rounding noise decides such bits (0 -> +1).
    Returns:
        (B, K) float32 in {-1, 1}, on the device of ``labels``; batched, no loop.
    """
    if codes.shape[0] != code_labels.shape[0]:
        raise ValueError(f"codes ({codes.shape[0]} rows) and code_labels ({code_labels.shape[0]} rows) differ")
    if not exact_ties:
        return binarize(dmfl_direction(labels, codes, code_labels, weighting, torch.float32))
    dtype = torch.float64 if labels.device.type != "mps" else torch.float32
    d = dmfl_direction(labels, codes, code_labels, weighting, dtype)
    d = torch.where(d.abs() <= tie_tolerance(codes.shape[0], dtype), torch.zeros_like(d), d)
    return binarize(d).float()


def dmfl_objective(b: torch.Tensor, labels, codes, code_labels, weighting: str = RELEASED_WEIGHTING,
                   dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """DMFL objective b . (sum w+ B - sum w- B) for candidate codes b (B, K) -> (B,), in ``dtype``."""
    d = dmfl_direction(labels, codes, code_labels, weighting, dtype)
    return (b.to(d.dtype) * d).sum(1)
