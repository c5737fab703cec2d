"""Threshold-and-compact: flat indices of score entries above per-column bounds (internal).

``select(bits, hi, lo, mask)`` returns the flat (row-major) indices of the entries of
a (rows, Qc) integer matrix with ``bits >= hi[col]`` (and ``bits < lo[col]``).
This is the hot loop of the ranking metrics, so the CPU path is tuned:

- the compare runs in NumPy on zero-copy views (about 5x faster than the
  generic torch kernel for int16 with a broadcast bound);
- the compaction is two-level: the bool mask is read as 64-bit words, the
  non-zero words are found first (1/8 of the entries to scan), then the set
  bytes inside those words. With a candidate density of a few percent this is
  2-3x faster than a plain ``nonzero`` (which pays a branch misprediction per
  hit) and gives the same indices in the same (ascending) order.

Other devices use ``torch.ge`` and ``torch.nonzero``.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

__all__ = ["select", "flatnonzero"]


def flatnonzero(mask: np.ndarray) -> np.ndarray:
    """Ascending int64 indices of the True entries of a C-contiguous bool array (two-level scan)."""
    flat = mask.reshape(-1)
    head = flat.size - flat.size % 8
    if head == 0:
        return np.flatnonzero(flat)
    words = flat[:head].view(np.uint64)
    hit_words = np.flatnonzero(words.astype(bool))
    hit_bytes = np.flatnonzero(words.take(hit_words).view(np.bool_))
    out = hit_words.take(hit_bytes >> 3) * 8 + (hit_bytes & 7)
    if head < flat.size:
        out = np.concatenate([out, np.flatnonzero(flat[head:]) + head])
    return out


def select(bits: Tensor, hi: Tensor, lo: Tensor | None, mask: Tensor) -> Tensor:
    """Flat int64 indices of ``bits >= hi`` (and ``bits < lo``); bounds broadcast over rows.

    Args:
        bits: (rows, Qc) contiguous integer tensor.
        hi, lo: (Qc,) bounds of the same dtype (``lo`` optional).
        mask: (rows, Qc) contiguous bool scratch buffer.
    """
    if bits.device.type == "cpu":
        m = np.greater_equal(bits.numpy(), hi.numpy(), out=mask.numpy())
        if lo is not None:
            m &= np.less(bits.numpy(), lo.numpy())
        return torch.from_numpy(flatnonzero(m))
    m = torch.ge(bits, hi, out=mask)
    if lo is not None:
        m &= bits < lo
    return m.view(-1).nonzero().squeeze(1)
