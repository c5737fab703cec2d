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


def label_words(labels: Tensor) -> Tensor:
    """Pack a (N, C) non-negative label matrix into (N, ceil(C/32)) int64 bit masks.

    Bit c of word w is set when ``labels[:, 32 * w + c] > 0``.
    """
    n, c = labels.shape
    words = (c + _BITS_PER_WORD - 1) // _BITS_PER_WORD
    on = torch.zeros(n, words * _BITS_PER_WORD, dtype=torch.int64, device=labels.device)
    on[:, :c] = (labels > 0).to(torch.int64)
    weights = torch.ones(_BITS_PER_WORD, dtype=torch.int64, device=labels.device) << torch.arange(
        _BITS_PER_WORD, device=labels.device
    )
    return (on.view(n, words, _BITS_PER_WORD) * weights).sum(2)


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
