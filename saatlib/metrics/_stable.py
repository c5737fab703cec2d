"""Stable top-k lists: Hamming distance ascending, ties by database index (internal).

From the candidate pairs of a chunk (:mod:`._candidates`, in index order) the
stable order is one integer sort by the key (query, distance): a stable sort keeps
index order inside every tie group. Each query's run in the sorted array is found
by ``searchsorted`` and its first ``depth`` entries are read off. This equals, pair
for pair, a per-query ``argsort(distances, stable)`` of the whole database.
"""
from __future__ import annotations

import torch
from torch import Tensor

from . import _candidates as cands
from ._candidates import Candidates
from ._scores import ScoreTable


def _first(cand: Candidates, values: Tensor, depth: int) -> tuple[Tensor, Tensor]:
    """``values`` of the first ``depth`` pairs of each query in (distance, index) order.

    Args:
        cand: candidates of a chunk (Qc queries).
        values: (L,) per-pair values (e.g. relevance), aligned with ``cand``.

    Returns ``(first, have)``: (Qc, depth) values (entries at positions >= have[q] are
    meaningless) and (Qc,) int64 number of valid entries.
    """
    qc, k = cand.num_queries, cand.bits
    dev = cand.flat.device
    length = cand.flat.numel()
    if length == 0:
        return (torch.zeros(qc, depth, dtype=values.dtype, device=dev),
                torch.zeros(qc, dtype=torch.int64, device=dev))
    key = cand.sort_key()
    sorted_key, order = torch.sort(key, stable=True)  # stable: index order inside each group
    bounds = torch.arange(qc + 1, device=dev, dtype=torch.int64) * (2 * k + 2) - (2 * k + 1)
    edges = torch.searchsorted(sorted_key, bounds.to(key.dtype))  # bounds fit the key dtype
    start, count = edges[:-1], edges[1:] - edges[:-1]
    pos = start.unsqueeze(1) + torch.arange(depth, device=dev)
    if int(start.max()) + depth > length:  # short queries at the end: their tail is unused anyway
        pos.clamp_(max=length - 1)
    pos = pos.view(-1)
    return values.index_select(0, order.index_select(0, pos)).view(qc, depth), count.clamp(max=depth)


def stable_topk_relevance(q_aug: Tensor, q_words: Tensor, table: ScoreTable, db_words: Tensor, depth: int,
                          sample: Tensor | None, block_rows: int) -> Tensor:
    """(Qc, depth) bool relevance of each query's top ``depth`` list.

    Order: Hamming distance ascending, ties by database index ascending (what a stable
    argsort of the distances gives). ``q_aug`` is the (K + 1, Qc) augmented query chunk,
    ``q_words`` its (Qc, W) label words.
    """
    return stable_topk(q_aug, table, depth, sample, block_rows,
                       lambda cand, which: cand.relevance(q_words if which is None else q_words[which], db_words))


def stable_topk(q_aug: Tensor, table: ScoreTable, depth: int, sample: Tensor | None, block_rows: int,
                values_of) -> Tensor:
    """Per-pair values along each query's top ``depth`` list, (Qc, depth).

    ``values_of(cand, which)`` gives the (L,) values of candidate pairs; ``which`` is
    None for the chunk itself, or the chunk indices of the queries of an extension.
    """
    k = table.bits
    d_hi = cands.thresholds(q_aug, sample, depth, table.n, k)
    cand = cands.collect(q_aug, table, d_hi, block_rows)
    first, have = _first(cand, values_of(cand, None), depth)
    step = 1
    while True:
        short = (have < depth) & (d_hi < k)
        if not bool(short.any()):
            return first
        which, extra, d_hi = cands.widen(q_aug, table, short, d_hi, step, block_rows)
        more, got = _first(extra, values_of(extra, which), depth)
        held = have.index_select(0, which).unsqueeze(1)
        j = torch.arange(depth, device=first.device).unsqueeze(0)
        # the new pairs lie beyond every old one in (distance, index) order: append them
        merged = torch.where(j < held, first.index_select(0, which), more.gather(1, (j - held).clamp(min=0)))
        first.index_copy_(0, which, merged)
        have.index_copy_(0, which, held.squeeze(1) + got)
        step *= 2
