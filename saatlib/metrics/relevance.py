"""Relevance between queries and database items: "share at least one label".

The paper (and the released code) call item i relevant to query q when
``y_q . y_i > 0`` for multi-hot label vectors y in {0, 1}^C; single-label data is
the one-hot special case. With non-negative labels that is the same as "the
label sets intersect", which is evaluated here on bit masks: each label row is
packed into ceil(C / 32) int64 words (32 labels a word, so no sign bit is ever
used) and relevance is ``(words_q & words_i) != 0`` for some word. That costs a
few bytes per pair instead of a C-long dot product and is exact.
"""
from __future__ import annotations

import torch
from torch import Tensor

from ._validate import check_labels, check_same_device

__all__ = ["label_words", "relevant", "relevance_matrix"]

_BITS_PER_WORD = 32
_ROWS = 1 << 16


def label_words(labels: Tensor) -> Tensor:
    """Pack a (N, C) non-negative label matrix into (N, ceil(C/32)) int64 bit masks.

    Bit c of word w is set when ``labels[:, 32 * w + c] > 0``.
    """
    c = labels.shape[1]
    words = (c + _BITS_PER_WORD - 1) // _BITS_PER_WORD
    col = torch.arange(c, device=labels.device)
    # (C, W) matrix of bit values: one matmul packs all words; sums of distinct powers
    # of two below 2^32 are exact in float64.
    weights = torch.zeros(c, words, dtype=torch.float64, device=labels.device)
    # integer shifts, not pow(): CUDA's pow(2.0, 11.0) is not exactly 2048
    weights[col, col // _BITS_PER_WORD] = (torch.ones_like(col) << (col % _BITS_PER_WORD)).to(torch.float64)
    out = torch.empty(labels.shape[0], words, dtype=torch.int64, device=labels.device)
    for start in range(0, labels.shape[0], _ROWS):  # row blocks: bounded temporary memory
        rows = labels[start:start + _ROWS]
        out[start:start + _ROWS] = ((rows > 0).to(torch.float64) @ weights).round().to(torch.int64)
    return out


def relevant(q_words: Tensor, db_words: Tensor) -> Tensor:
    """Element-wise relevance of aligned rows: ``q_words`` and ``db_words`` broadcast to (..., W).

    Returns a bool tensor of the broadcast shape without the last (word) axis.
    """
    hit = torch.bitwise_and(q_words, db_words) != 0
    return hit.any(-1) if hit.shape[-1] > 1 else hit.squeeze(-1)


def relevance_matrix(query_labels, db_labels) -> Tensor:
    """Dense (Q, N) bool relevance ``y_q . y_i > 0`` for (Q, C) and (N, C) non-negative labels.

    Meant for small problems and tests; the metrics never build the full matrix.
    """
    query_labels = check_labels(query_labels, "query_labels", len(query_labels), "query_labels")
    db_labels = check_labels(db_labels, "db_labels", len(db_labels), "db_labels")
    if query_labels.shape[1] != db_labels.shape[1]:
        raise ValueError(
            f"label widths differ: {query_labels.shape[1]} vs {db_labels.shape[1]} classes; "
            "use one class list for queries and database"
        )
    check_same_device([query_labels, db_labels])
    return relevant(label_words(query_labels)[:, None, :], label_words(db_labels)[None, :, :])
