"""Per (query, distance) counts of items and of relevant items (internal).

The tie-aware metrics and the radius PR curve only need, per query and Hamming
distance v, the number n[q, v] of database items at distance v and the number
r[q, v] of relevant ones. :func:`group_counts` gets them from the candidate pairs
(enough up to the depth-th item); :func:`dense_group_counts` from the whole
database, block by block, without materialising pairs.
"""
from __future__ import annotations

import torch
from torch import Tensor

from . import _candidates as cands
from ._candidates import Candidates, group_offsets, key_dtype
from ._scores import ScoreTable
from .relevance import relevant


def _counts(cand: Candidates, q_words: Tensor, db_words: Tensor) -> tuple[Tensor, Tensor]:
    """(Qc, K + 1) float64 counts of candidates and of relevant candidates per distance."""
    qc, k = cand.num_queries, cand.bits
    rel = cand.relevance(q_words, db_words)
    key = cand.sort_key().to(key_dtype(qc, k)) + (2 * k + 1)  # query * (2K + 2) + 2 d
    width = qc * (2 * k + 2)
    n = torch.bincount(key, minlength=width).view(qc, 2 * k + 2)[:, ::2]
    r = torch.bincount(key[rel], minlength=width).view(qc, 2 * k + 2)[:, ::2]
    return n.to(torch.float64), r.to(torch.float64)


def group_counts(q_aug: Tensor, q_words: Tensor, table: ScoreTable, db_words: Tensor, depth: int,
                 sample: Tensor | None, block_rows: int) -> tuple[Tensor, Tensor]:
    """Per (query, distance) counts of items and of relevant items, up to each query's depth.

    Returns (n, r): (Qc, K + 1) float64; exact for every distance up to (at least) the
    group holding each query's depth-th item, which is all the tie-aware formulas need.
    ``q_words`` are the (Qc, W) label words of the chunk.
    """
    k = table.bits
    d_hi = cands.thresholds(q_aug, sample, depth, table.n, k)
    n, r = _counts(cands.collect(q_aug, table, d_hi, block_rows), q_words, db_words)
    step = 1
    while True:
        short = (n.sum(1) < depth) & (d_hi < k)
        if not bool(short.any()):
            return n, r
        which, extra, d_hi = cands.widen(q_aug, table, short, d_hi, step, block_rows)
        more_n, more_r = _counts(extra, q_words.index_select(0, which), db_words)
        n.index_add_(0, which, more_n)
        r.index_add_(0, which, more_r)
        step *= 2


def dense_group_counts(q_aug: Tensor, q_words: Tensor, table: ScoreTable, db_words: Tensor,
                       block_rows: int) -> tuple[Tensor, Tensor]:
    """Like :func:`group_counts` over the whole database, without materialising pairs.

    ``q_aug``: (K + 1, Qc) augmented query chunk; ``q_words``: (Qc, W) label words.
    Memory: a few (block_rows, Qc) buffers.
    """
    k, qc = table.bits, q_aug.shape[1]
    width = qc * (2 * k + 2)
    n = torch.zeros(width, dtype=torch.int64, device=q_aug.device)
    r = torch.zeros(width, dtype=torch.int64, device=q_aug.device)
    for start in range(0, table.n, block_rows):
        stop = min(start + block_rows, table.n)
        score = torch.mm(table.block(start, stop), q_aug).to(key_dtype(qc, k))  # (B, Qc)
        key = group_offsets(qc, k, score) - score  # query * (2K + 2) + 2 d
        rel = relevant(db_words[start:stop, None, :], q_words[None, :, :])
        n += torch.bincount(key.view(-1), minlength=width)
        r += torch.bincount(key[rel], minlength=width)
    as_qv = lambda x: x.view(qc, 2 * k + 2)[:, ::2].to(torch.float64)  # noqa: E731
    return as_qv(n), as_qv(r)
