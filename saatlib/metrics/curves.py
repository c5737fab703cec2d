"""Precision-recall curve by Hamming radius, and precision@N.

**PR curve by radius** (DeepHash-pytorch ``pr_curve`` style). For a radius
r = 0 .. K a query retrieves every database item at Hamming distance <= r.
With ret_q(r) items retrieved, hit_q(r) of them relevant, rel_q relevant items in
the whole database:

    precision_q(r) = hit_q(r) / ret_q(r),     recall_q(r) = hit_q(r) / rel_q.

Averages over queries: precision at radius r is the mean over the queries that
retrieve at least one item at that radius (queries retrieving nothing are
*skipped*; with ``empty="zero"`` they count as precision 0 instead); if no query
retrieves anything at r the value is 0. Recall is the mean over the queries that
have at least one relevant item in the database (others have no defined recall).
DeepHash-pytorch instead averages both over the queries whose precision is > 0;
the SAAT released code plots precision at fixed recall levels (``cal_pr``), a
different curve. No tie handling is needed: a radius takes whole tie groups.

**precision@N**: the fraction of relevant items among the first N of the Hamming
ranking, averaged over all queries (the released code's ``cal_top_n``). Ties are
ordered by database index (``ties="stable"``) or averaged over all tie orders
(``ties="expected"``, exact and linear: see :mod:`.tie_aware`).
"""
from __future__ import annotations

import operator

import torch
from torch import Tensor

from . import _problem as problem_
from ._candidates import sample_rows
from ._counts import dense_group_counts, group_counts
from ._parallel import device_of, run
from ._stable import stable_topk_relevance
from .tie_aware import expected_precision_at

__all__ = ["precision_recall_curve", "precision_at_n"]


def precision_recall_curve(query_codes, db_codes, query_labels, db_labels, empty: str = "skip",
                           chunk_size=None, db_packed: bool = False, workers=None) -> tuple[Tensor, Tensor]:
    """Precision and recall of Hamming-ball retrieval at every radius r = 0..K.

    Args:
        query_codes: (Q, K) codes in {-1, +1}; db_codes: (N, K) codes (or packed, see
            :func:`saatlib.metrics.mean_average_precision`).
        query_labels: (Q, C), db_labels: (N, C) multi-hot labels.
        empty: ``"skip"`` (default) or ``"zero"``: how a query that retrieves nothing at
            a radius enters the precision average (see the module docstring).
        chunk_size: queries per chunk (``None``: automatic).
        db_packed: whether ``db_codes`` is bit-packed.
        workers: CPU threads running chunks in parallel (``None``: torch's thread count).

    Returns:
        (precision, recall): two (K + 1,) float64 tensors indexed by radius, values in [0, 1].
        Recall is non-decreasing and reaches 1 at r = K (when any query has a relevant item).
    """
    if empty not in ("skip", "zero"):
        raise ValueError(f"empty must be 'skip' or 'zero', got {empty!r}")
    args = (query_codes, db_codes, query_labels, db_labels, empty, chunk_size, db_packed)
    return run(lambda pmap: _pr_curve(pmap, *args), device_of(query_codes), workers)


def _pr_curve(pmap, query_codes, db_codes, query_labels, db_labels, empty, chunk_size, db_packed):
    problem = problem_.prepare(query_codes, db_codes, query_labels, db_labels, db_packed)
    n_db = problem.table.n
    chunk = problem_.auto_chunk_size(n_db, n_db, chunk_size)
    block_rows = problem_.block_rows_for(chunk)

    def one_chunk(start: int, stop: int) -> Tensor:
        """(4, K + 1): precision sum and count, recall sum and count of the chunk's queries."""
        n, r = dense_group_counts(problem.chunk(start, stop), problem.q_words[start:stop], problem.table,
                                  problem.db_words, block_rows)
        ret, hit = n.cumsum(1), r.cumsum(1)
        some = ret > 0
        p_sum = torch.where(some, hit / ret.clamp(min=1.0), torch.zeros_like(hit)).sum(0)
        p_cnt = some.sum(0).to(torch.float64) if empty == "skip" else torch.full_like(p_sum, stop - start)
        total = r.sum(1, keepdim=True)
        has = total.squeeze(1) > 0
        r_sum = (hit[has] / total[has]).sum(0)
        return torch.stack([p_sum, p_cnt, r_sum, torch.full_like(p_sum, float(has.sum()))])

    parts = pmap(one_chunk, problem_.query_chunks(problem.num_queries, chunk))
    p_sum, p_cnt, r_sum, r_cnt = torch.stack(parts).sum(0)
    precision = torch.where(p_cnt > 0, p_sum / p_cnt.clamp(min=1.0), torch.zeros_like(p_sum))
    return precision, r_sum / r_cnt.clamp(min=1.0)


def precision_at_n(query_codes, db_codes, query_labels, db_labels, n_values, ties: str = "stable",
                   chunk_size=None, db_packed: bool = False, workers=None) -> Tensor:
    """Mean precision of the first N items of the Hamming ranking, for each N in ``n_values``.

    Args:
        query_codes, db_codes, query_labels, db_labels: as in
            :func:`saatlib.metrics.mean_average_precision`.
        n_values: int or sequence of ints, each in [1, N_db].
        ties: ``"stable"`` (ties by database index) or ``"expected"`` (mean over tie orders).
        chunk_size: queries per chunk (``None``: automatic).
        db_packed: whether ``db_codes`` is bit-packed.
        workers: CPU threads running chunks in parallel (``None``: torch's thread count).

    Returns:
        (len(n_values),) float64 tensor: precision@N averaged over all queries.
    """
    if ties not in ("stable", "expected"):
        raise ValueError(f"ties must be 'stable' or 'expected', got {ties!r}")
    args = (query_codes, db_codes, query_labels, db_labels, n_values, ties, chunk_size, db_packed)
    return run(lambda pmap: _precision_at_n(pmap, *args), device_of(query_codes), workers)


def _precision_at_n(pmap, query_codes, db_codes, query_labels, db_labels, n_values, ties, chunk_size,
                    db_packed) -> Tensor:
    problem = problem_.prepare(query_codes, db_codes, query_labels, db_labels, db_packed)
    n_db = problem.table.n
    values = _check_n_values(n_values, n_db)
    depth = max(values)
    chunk = problem_.auto_chunk_size(n_db, depth, chunk_size)
    block_rows = problem_.block_rows_for(chunk)
    sample = sample_rows(problem.table, depth)
    cut = torch.tensor(values, dtype=torch.int64, device=problem.queries.device)

    def one_chunk(start: int, stop: int) -> Tensor:
        """(len(n_values),) sum over the chunk's queries of precision@N."""
        q_aug = problem.chunk(start, stop)
        q_words = problem.q_words[start:stop]
        if ties == "stable":
            rel = stable_topk_relevance(q_aug, q_words, problem.table, problem.db_words, depth, sample,
                                        block_rows)
            hits = rel.to(torch.float64).cumsum(1)
            return (hits[:, cut - 1] / cut.to(torch.float64)).sum(0)
        counts = group_counts(q_aug, q_words, problem.table, problem.db_words, depth, sample, block_rows)
        return expected_precision_at(*counts, values).sum(0)

    parts = pmap(one_chunk, problem_.query_chunks(problem.num_queries, chunk))
    return torch.stack(parts).sum(0) / problem.num_queries


def _check_n_values(n_values, n_db: int) -> list[int]:
    raw = [n_values] if not isinstance(n_values, (list, tuple, range, Tensor)) else list(n_values)
    try:
        values = [operator.index(v) if not isinstance(v, Tensor) else int(v) for v in raw]
    except TypeError as err:
        raise ValueError(f"n_values must be ints, got {n_values!r}") from err
    if not values or any(v < 1 or v > n_db for v in values):
        raise ValueError(f"n_values must be a non-empty list of ints in [1, {n_db}] (the database size), "
                         f"got {raw}")
    return values
