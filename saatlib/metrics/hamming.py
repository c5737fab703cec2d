"""Hamming distance between binary codes in {-1, +1}^K.

For codes b_q, b_i in {-1, +1}^K the paper and its released code use

    d_H(b_q, b_i) = (K - b_q . b_i) / 2,

the number of bit positions where the two codes differ, an integer in [0, K].
The inner products are computed with one matrix product. Its inputs are cast to
:func:`exact_dtype`: bfloat16 for K <= 256 (every partial sum of +-1 products is
an integer of magnitude <= 256, exactly representable in bfloat16 whatever the
accumulation order, and the bfloat16 product is 2-4x faster than float32 on
CPUs with bfloat16 units), float32 up to 2^24 bits. The result is therefore
exact on every device.
"""
from __future__ import annotations

import torch
from torch import Tensor

from ._validate import check_codes, check_same_device

__all__ = ["hamming_distance", "exact_dtype", "inner_products"]


def exact_dtype(num_bits: int) -> torch.dtype:
    """Cheapest floating dtype in which a +-1 inner product of ``num_bits`` terms is exact."""
    if num_bits <= 256:
        return torch.bfloat16
    if num_bits <= 2**24:
        return torch.float32
    return torch.float64


def inner_products(a: Tensor, b_t: Tensor) -> Tensor:
    """``a @ b_t`` for +-1 matrices already cast to :func:`exact_dtype` (no checks, exact)."""
    return torch.mm(a, b_t)


def hamming_distance(a, b) -> Tensor:
    """Pairwise Hamming distances between two sets of +-1 codes.

    Args:
        a: (Q, K) codes in {-1, +1}, any real or integer dtype.
        b: (N, K) codes in {-1, +1}, same K, same device as ``a``.

    Returns:
        (Q, N) int64 tensor on the inputs' device, ``d[q, i] = (K - a_q . b_i) / 2``
        in [0, K]: the number of differing bits.

    Raises:
        ValueError: not 2-D, different K, entries other than -1/+1, different devices.
    """
    a = check_codes(a, "a")
    b = check_codes(b, "b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"code lengths differ: a has {a.shape[1]} bits, b has {b.shape[1]}; compare codes of one length"
        )
    check_same_device([a, b])
    k = a.shape[1]
    dtype = exact_dtype(k)
    ip = inner_products(a.to(dtype), b.to(dtype).t())
    return (k - ip.to(torch.int64)) // 2
