"""Exact integer similarity scores by one matrix product (internal).

For codes in {-1, +1}^K the engine works with the *score*

    s = b_q . b_i + K + 1 = 2K + 1 - 2 d_H(b_q, b_i),   an odd integer in [1, 2K + 1],

computed as one product of augmented matrices: database rows get an extra
column of ones, query columns an extra entry K + 1. Why:

- exactness: in bfloat16 every partial sum of the augmented product is an
  integer of magnitude <= 2K + 1 <= 255 for K <= 127, so the product is exact
  whatever the accumulation order (float32 is used above 127 bits: exact to 2^24);
- speed: s > 0, and for positive floats the raw bit pattern read as a signed
  integer (bfloat16 -> int16, float32 -> int32) is monotone in the value, so
  "d <= d_hi" becomes an integer comparison of the bit patterns, and candidate
  pairs can be selected without converting the whole block.
"""
from __future__ import annotations

import torch
from torch import Tensor

from .packing import _bit_weights

__all__ = ["ScoreTable"]


class ScoreTable:
    """Database codes prepared for exact scores.

    Args:
        db_codes: (N, K) +-1 codes, or (N, ceil(K/8)) uint8 from ``pack_codes`` when ``packed``.
        bits: K.
        packed: keep the database packed; blocks are decoded on the fly (one block of
            (rows, K + 1) compute-dtype values at a time instead of a full N x (K + 1) copy).

    Attributes:
        dtype: compute dtype (bfloat16 for K <= 127, else float32).
        int_dtype: integer dtype of the same width (int16 / int32), for bit-pattern compares.
    """

    def __init__(self, db_codes: Tensor, bits: int, packed: bool):
        self.bits = bits
        self.packed = packed
        self.n = db_codes.shape[0]
        self.device = db_codes.device
        self.dtype = torch.bfloat16 if 2 * bits + 1 <= 255 else torch.float32
        self.int_dtype = torch.int16 if self.dtype == torch.bfloat16 else torch.int32
        self._codes = db_codes if packed else self._augment(db_codes)

    def _augment(self, codes: Tensor) -> Tensor:
        out = torch.ones(codes.shape[0], self.bits + 1, dtype=self.dtype, device=self.device)
        out[:, : self.bits] = codes
        return out

    def _decode(self, packed_rows: Tensor) -> Tensor:
        on = (packed_rows.unsqueeze(2) & _bit_weights(self.device)) != 0
        on = on.reshape(packed_rows.shape[0], -1)[:, : self.bits]
        one = torch.ones((), dtype=self.dtype, device=self.device)
        return self._augment(torch.where(on, one, -one))

    def block(self, start: int, stop: int) -> Tensor:
        """Rows ``start:stop`` as (rows, K + 1) augmented codes in the compute dtype."""
        rows = self._codes[start:stop]
        return self._decode(rows) if self.packed else rows

    def rows(self, index: Tensor) -> Tensor:
        """Rows at ``index`` (1-D int64) as (len, K + 1) augmented codes."""
        rows = self._codes.index_select(0, index)
        return self._decode(rows) if self.packed else rows

    def queries(self, codes: Tensor) -> Tensor:
        """(K + 1, Qc) contiguous augmented query matrix for (Qc, K) +-1 codes."""
        out = torch.full((self.bits + 1, codes.shape[0]), self.bits + 1, dtype=self.dtype, device=self.device)
        out[: self.bits] = codes.t()
        return out

    def score_bits(self, dist: Tensor) -> Tensor:
        """Integer bit patterns of the scores ``2K + 1 - 2 dist`` (for monotone compares)."""
        return (2 * self.bits + 1 - 2 * dist).to(self.dtype).view(self.int_dtype)
