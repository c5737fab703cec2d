"""Bit-packed storage of +-1 codes and Hamming distance on packed codes.

A K-bit code in {-1, +1}^K takes K bytes as int8, 4K bytes as float32; packed it
takes ceil(K/8) bytes (8 bytes for 64 bits: 8 MB per million codes instead of
256 MB as float32). Layout of :func:`pack_codes`:

- bit j of a code (column j) goes to byte j // 8, at bit position 7 - j % 8
  (most significant bit first, like ``numpy.packbits``);
- +1 is stored as bit 1, -1 as bit 0; the padding bits of the last byte are 0.

Then the Hamming distance is the number of set bits of ``q XOR b``, counted here
with a 256-entry popcount table over the XOR bytes (padding bits are 0 in both
codes and never count).
"""
from __future__ import annotations

import numbers

import torch
from torch import Tensor

from ._validate import as_tensor, check_codes, check_same_device

__all__ = ["pack_codes", "unpack_codes", "hamming_distance_packed", "popcount_table"]

# Elements of the (queries x database x bytes) XOR block handled at once.
_XOR_BLOCK = 1 << 22


def popcount_table(device=None) -> Tensor:
    """(256,) int16 tensor: ``table[v]`` = number of set bits of the byte value v."""
    v = torch.arange(256, device=device)
    bits = (v.unsqueeze(1) >> torch.arange(8, device=device)) & 1
    return bits.sum(1).to(torch.int16)


def _bit_weights(device) -> Tensor:
    """(8,) uint8 weights 128, 64, ..., 1 (most significant bit first)."""
    return torch.tensor([128, 64, 32, 16, 8, 4, 2, 1], dtype=torch.uint8, device=device)


def pack_codes(codes) -> Tensor:
    """Pack +-1 codes into bytes, 8 code bits a byte.

    Args:
        codes: (N, K) tensor with entries in {-1, +1} (any real/integer dtype).

    Returns:
        (N, ceil(K / 8)) uint8 tensor on the same device (+1 -> bit 1, bit j of a code
        at byte j // 8, position 7 - j % 8; padding bits 0).
    """
    codes = check_codes(codes, "codes")
    n, k = codes.shape
    nbytes = (k + 7) // 8
    bits = torch.zeros(n, nbytes * 8, dtype=torch.uint8, device=codes.device)
    bits[:, :k] = (codes > 0).to(torch.uint8)
    # bits are 0/1 and the weights distinct powers of two, so the uint8 sum is exact.
    return (bits.view(n, nbytes, 8) * _bit_weights(codes.device)).sum(2, dtype=torch.uint8)


def unpack_codes(packed, bits: int, dtype: torch.dtype = torch.float32) -> Tensor:
    """Inverse of :func:`pack_codes`.

    Args:
        packed: (N, ceil(bits / 8)) uint8 tensor.
        bits: code length K.
        dtype: dtype of the result.

    Returns:
        (N, bits) tensor of -1/+1 values of ``dtype`` on the device of ``packed``.
    """
    packed = _check_packed(packed, "packed")
    if isinstance(bits, bool) or not isinstance(bits, numbers.Integral) or bits < 1:
        raise ValueError(f"bits must be a positive int (the code length), got {bits!r}")
    bits = int(bits)
    if packed.shape[1] != (bits + 7) // 8:
        raise ValueError(
            f"packed has {packed.shape[1]} bytes per code but {bits}-bit codes need {(bits + 7) // 8}; "
            "pass the code length the codes were packed with"
        )
    on = (packed.unsqueeze(2) & _bit_weights(packed.device)) != 0
    on = on.reshape(packed.shape[0], -1)[:, :bits]
    one = torch.ones((), dtype=dtype, device=packed.device)
    return torch.where(on, one, -one)


def hamming_distance_packed(q_packed, db_packed) -> Tensor:
    """Pairwise Hamming distances between packed codes (see module docstring).

    Args:
        q_packed: (Q, B) uint8 codes from :func:`pack_codes`.
        db_packed: (N, B) uint8 codes of the same length, same device.

    Returns:
        (Q, N) int64 distances, equal to :func:`saatlib.metrics.hamming_distance` on the
        unpacked codes. Work is chunked over queries and database rows so that one XOR
        block holds at most about 4 M bytes (plus its int64 index copy, 32 MB).
    """
    q_packed = _check_packed(q_packed, "q_packed")
    db_packed = _check_packed(db_packed, "db_packed")
    if q_packed.shape[1] != db_packed.shape[1]:
        raise ValueError(
            f"packed widths differ: {q_packed.shape[1]} vs {db_packed.shape[1]} bytes per code; "
            "pack codes of the same length"
        )
    check_same_device([q_packed, db_packed])
    table = popcount_table(q_packed.device)
    qn, nbytes = q_packed.shape
    n = db_packed.shape[0]
    out = torch.empty(qn, n, dtype=torch.int64, device=q_packed.device)
    db_step = max(1, min(n, _XOR_BLOCK // nbytes))
    q_step = max(1, _XOR_BLOCK // (db_step * nbytes))
    for s in range(0, qn, q_step):
        for b in range(0, n, db_step):
            x = torch.bitwise_xor(q_packed[s:s + q_step, None, :], db_packed[None, b:b + db_step, :])
            out[s:s + q_step, b:b + db_step] = table[x.long()].sum(2, dtype=torch.int64)
    return out


def _check_packed(packed, name: str) -> Tensor:
    packed = as_tensor(packed, name)
    if packed.dtype != torch.uint8 or packed.dim() != 2:
        raise ValueError(
            f"{name} must be a 2-D uint8 tensor from pack_codes, got dtype {packed.dtype} "
            f"and shape {tuple(packed.shape)}"
        )
    return packed
