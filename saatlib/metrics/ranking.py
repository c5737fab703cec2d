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
bounded memory (see :mod:`._candidates`); no Python loop runs per query and nothing
is sorted as floating point. The stable order comes from one integer sort of the
candidate pairs by (query, distance) -- a stable sort keeps index order inside a
group -- and only items within each query's top-k distance groups are candidates.
"""
from __future__ import annotations

import logging

import torch
from torch import Tensor

from . import _problem as problem_
from ._candidates import sample_rows
from ._counts import dense_group_counts, group_counts
from ._parallel import device_of, run
from ._stable import stable_topk_relevance
from ._validate import check_topk
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
    inv_pos = 1.0 / torch.arange(1, rel.shape[1] + 1, dtype=torch.float64, device=rel.device)
    total = (hits * relf) @ inv_pos
    found = hits[:, -1]
    return torch.where(found > 0, total / found.clamp(min=1.0), torch.zeros_like(total))


def average_precision(query_codes, db_codes, query_labels, db_labels, topk=None, ties: str = "stable",
                      chunk_size=None, db_packed: bool = False, workers=None) -> Tensor:
    """Per-query AP@topk of Hamming ranking (see the module docstring for the definition).

    Args:
        query_codes: (Q, K) query codes in {-1, +1} (any real/integer dtype).
        db_codes: (N, K) database codes in {-1, +1}, or, with ``db_packed=True``, the
            (N, ceil(K/8)) uint8 output of :func:`saatlib.metrics.pack_codes`.
        query_labels: (Q, C) multi-hot labels of the queries (target labels for t-MAP).
        db_labels: (N, C) multi-hot labels of the database.
        topk: list depth k (``None``: whole database; values above N mean N).
        ties: ``"stable"`` (index order) or ``"expected"`` (expectation over tie orders).
        chunk_size: queries per chunk (``None``: automatic, a power of two <= 128 sized
            so that a chunk holds about 2 M candidate pairs).
        db_packed: whether ``db_codes`` is bit-packed (8x less memory than int8, 32x
            less than float32; blocks are unpacked on the fly).
        workers: CPU threads running chunks in parallel (``None``: torch's thread
            count; see :mod:`._parallel`). Ignored on other devices.

    Returns:
        (Q,) float64 tensor of AP values in [0, 1], on the queries' device.

    Memory (bounded, independent of Q): per chunk in flight, 6 MB of score and mask
    buffers plus about 50 bytes per candidate pair (~1.2 topk pairs per query for
    spread-out codes; topk=None: N per query, so chunks shrink to ~2 M pairs), plus the
    database in the compute dtype (2 (K+1) bytes per code, only one block of it when
    packed) and 8 bytes of label mask per code; see :mod:`._candidates`. Measured peak
    RSS increase of one CPU call at Q=2000, K=64, topk=5000: N=100,000: about 105 MB
    with one worker, 165 MB with two; N=1,000,000 (two workers): 340 MB, 235 MB packed.
    """
    if ties not in TIES:
        raise ValueError(f"ties must be one of {TIES}, got {ties!r}")
    args = (query_codes, db_codes, query_labels, db_labels, topk, ties, chunk_size, db_packed)
    return run(lambda pmap: _average_precision(pmap, *args), device_of(query_codes), workers)


def _average_precision(pmap, query_codes, db_codes, query_labels, db_labels, topk, ties, chunk_size,
                       db_packed) -> Tensor:
    problem = problem_.prepare(query_codes, db_codes, query_labels, db_labels, db_packed)
    n = problem.table.n
    depth = check_topk(topk, n)
    chunk = problem_.auto_chunk_size(n, depth, chunk_size)
    block_rows = problem_.block_rows_for(chunk)
    sample = sample_rows(problem.table, depth)
    logger.debug("AP: Q=%d N=%d K=%d depth=%d ties=%s chunk=%d block=%d", problem.num_queries, n,
                 problem.bits, depth, ties, chunk, block_rows)

    def one_chunk(start: int, stop: int) -> Tensor:
        q_aug = problem.chunk(start, stop)
        q_words = problem.q_words[start:stop]
        if ties == "stable":
            rel = stable_topk_relevance(q_aug, q_words, problem.table, problem.db_words, depth, sample,
                                        block_rows)
            return ap_from_relevance(rel)
        if depth == n:
            counts = dense_group_counts(q_aug, q_words, problem.table, problem.db_words, block_rows)
        else:
            counts = group_counts(q_aug, q_words, problem.table, problem.db_words, depth, sample, block_rows)
        return expected_average_precision(*counts, depth)

    return torch.cat(pmap(one_chunk, problem_.query_chunks(problem.num_queries, chunk)))


def mean_average_precision(query_codes, db_codes, query_labels, db_labels, topk=None, ties: str = "stable",
                           chunk_size=None, db_packed: bool = False, workers=None) -> float:
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
                           chunk_size=chunk_size, db_packed=db_packed, workers=workers)
    return float(ap.mean())
