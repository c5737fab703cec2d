"""Mean average precision (MAP@topk) of Hamming ranking, with explicit tie handling.

Definition (DeepHash-pytorch ``CalcTopMap`` and ``cal_map`` of the SAAT released
code). For a query q, rank the database by Hamming distance ascending and keep
the first k = min(topk, N) items (topk=None: the whole database). With rel_j = 1
when the j-th item shares a label with q (y_q . y_i > 0), M = sum_{j<=k} rel_j and
P@j = (1/j) sum_{l<=j} rel_l:

    AP(q) = (1/M) sum_{j<=k} rel_j * P@j          (AP(q) = 0 when M = 0),
    MAP   = mean of AP(q) over all queries (those with M = 0 included, as 0).

Note that AP@k is normalised by the relevant items found in the top k, not by all
relevant items of the database; for topk=None the two agree.

Ties. Hamming distances take only K + 1 values, so ties are massive and the
ranking inside a group of equal distance decides the score. The released code
uses ``np.argsort`` (an unstable quicksort), so its MAP depends on an arbitrary
tie order. Here:

- ``ties="stable"``: ties ordered by database index, exactly what a per-query
  loop with a *stable* argsort gives (deterministic, reproducible);
- ``ties="expected"``: the exact expectation of AP over uniformly random orders
  inside every tie group (see :mod:`.tie_aware`); for topk=None it is McSherry &
  Najork's tie-aware AP (ECIR 2008).

t-MAP (targeted attacks): the same call with the *target* labels as
``query_labels``; relevance then means "shares a label with the target".

Implementation: queries are processed in chunks and the database in blocks with
bounded memory (see :mod:`._engine`); no Python loop runs per query and nothing
is sorted as floating point. The stable order comes from one integer sort of the
candidate pairs by (query, distance) -- a stable sort keeps index order inside a
group -- and only items within each query's top-k distance groups are candidates.
"""
from __future__ import annotations

import logging

import torch
from torch import Tensor

from . import _engine as engine
from ._validate import check_topk
from .relevance import relevant
from .tie_aware import expected_average_precision

logger = logging.getLogger(__name__)

__all__ = ["mean_average_precision", "average_precision", "ap_from_relevance"]

TIES = ("stable", "expected")


def ap_from_relevance(rel: Tensor) -> Tensor:
    """AP of ranked lists given their relevance.

    Args:
        rel: (Q, k) bool/0-1 tensor, ``rel[q, j]`` = relevance of the (j+1)-th item.

    Returns:
        (Q,) float64 AP: ``sum_j rel_j * P@j / sum_j rel_j``, 0 for rows without a relevant item.
    """
    relf = rel.to(torch.float64)
    hits = relf.cumsum(1)
    pos = torch.arange(1, rel.shape[1] + 1, dtype=torch.float64, device=rel.device)
    total = (relf * hits / pos).sum(1)
    found = relf.sum(1)
    return torch.where(found > 0, total / found.clamp(min=1.0), torch.zeros_like(total))


def average_precision(query_codes, db_codes, query_labels, db_labels, topk=None, ties: str = "stable",
                      chunk_size=None, db_packed: bool = False) -> Tensor:
    """Per-query AP@topk of Hamming ranking (see the module docstring for the definition).

    Args:
        query_codes: (Q, K) query codes in {-1, +1} (any real/integer dtype).
        db_codes: (N, K) database codes in {-1, +1}, or, with ``db_packed=True``, the
            (N, ceil(K/8)) uint8 output of :func:`saatlib.metrics.pack_codes`.
        query_labels: (Q, C) multi-hot labels of the queries (target labels for t-MAP).
        db_labels: (N, C) multi-hot labels of the database.
        topk: list depth k (``None``: whole database; values above N mean N).
        ties: ``"stable"`` (index order) or ``"expected"`` (expectation over tie orders).
        chunk_size: queries per chunk (``None``: automatic, about 2 M candidate pairs
            per chunk; at most 256 queries).
        db_packed: whether ``db_codes`` is bit-packed (8x less memory than int8, 32x
            less than float32; blocks are unpacked on the fly).

    Returns:
        (Q,) float64 tensor of AP values in [0, 1], on the queries' device.
    """
    if ties not in TIES:
        raise ValueError(f"ties must be one of {TIES}, got {ties!r}")
    problem = engine.prepare(query_codes, db_codes, query_labels, db_labels, db_packed)
    n = problem.table.n
    depth = check_topk(topk, n)
    chunk = engine.auto_chunk_size(n, depth, chunk_size)
    block_rows = engine.block_rows_for(chunk)
    sample = engine.sample_rows(problem.table, depth)
    out = torch.empty(problem.num_queries, dtype=torch.float64, device=problem.queries.device)
    logger.debug("AP: Q=%d N=%d K=%d depth=%d ties=%s chunk=%d block=%d", len(out), n, problem.bits,
                 depth, ties, chunk, block_rows)
    for start, stop in engine.query_chunks(len(out), chunk):
        q_t = problem.chunk(start, stop)
        q_words = problem.q_words[start:stop]
        if ties == "expected" and depth == n:
            counts = engine.dense_group_counts(q_t, q_words, problem.table, problem.db_words, block_rows)
            out[start:stop] = expected_average_precision(*counts, depth)
            continue
        cand = engine.candidates(q_t, problem.table, depth, sample, block_rows)
        if ties == "stable":
            items = engine.stable_topk_items(cand, depth)
            words = problem.db_words.index_select(0, items.view(-1)).view(*items.shape, -1)
            out[start:stop] = ap_from_relevance(relevant(q_words[:, None, :], words))
        else:
            rel = engine.candidate_relevance(cand, q_words, problem.db_words)
            out[start:stop] = expected_average_precision(*engine.group_counts(cand, rel), depth)
    return out


def mean_average_precision(query_codes, db_codes, query_labels, db_labels, topk=None, ties: str = "stable",
                           chunk_size=None, db_packed: bool = False) -> float:
    """MAP@topk of Hamming ranking: the mean of :func:`average_precision` over all queries.

    Same arguments as :func:`average_precision`. Queries with no relevant item in their
    top-k count as AP = 0. For t-MAP pass the target labels as ``query_labels``.

    ``ties="stable"`` equals, to rounding (float64 accumulation), a per-query loop
    that computes the distances, takes a stable argsort, keeps the top k and averages
    P@j over the relevant positions. ``ties="expected"`` is the exact expectation of
    that AP over uniformly random tie orders (equal to the stable value when no two
    database items share a distance).

    Returns:
        MAP as a Python float in [0, 1].
    """
    ap = average_precision(query_codes, db_codes, query_labels, db_labels, topk=topk, ties=ties,
                           chunk_size=chunk_size, db_packed=db_packed)
    return float(ap.mean())
