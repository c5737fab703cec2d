"""Candidate pairs of a query chunk: every item within a per-query distance bound (internal).

For one chunk of Qc queries (all steps vectorised over the chunk):

1. :func:`thresholds` estimates, from a fixed random sample of the database
   (min(4096, N/4) codes, seed 0), a distance ``d_hi[q]`` per query such that about
   ``depth`` database items lie within it (the sample quantile, rounded up to a
   whole distance group);
2. :func:`collect` streams the database block by block: exact scores by one matrix
   product (:mod:`._scores`), then the pairs with ``d <= d_hi[q]`` by an integer
   compare and a compaction (:mod:`._select`);
3. the consumers check the guarantee exactly (at least ``depth`` items per query)
   and :func:`widen` adds the next distance groups (1, 2, 4, ... more) for the rare
   query whose estimate was too tight, so results never depend on the sample, only
   the speed does.

The pairs (:class:`Candidates`) come in database-index order and include every
item of every distance group that a top-``depth`` list touches, the whole boundary
group included. Memory: ``3 B Qc`` bytes of score and mask buffers and 10 bytes
per pair held (index and score; about 50 with the temporaries of ranking them), for
L pairs: near ``1.2 Qc depth`` for spread-out codes, up to ``Qc N`` when the boundary
group is huge (e.g. collapsed codes).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import torch
from torch import Tensor

from ._scores import ScoreTable
from ._select import select
from .relevance import relevant

logger = logging.getLogger(__name__)

SAMPLE_SIZE = 4096
MIN_SAMPLE = 256
SAMPLE_SEED = 0


@dataclass
class Candidates:
    """Pairs (query, item) of one query chunk, in (item, query) order.

    Attributes:
        flat: (L,) int64 ``item * num_queries + query`` (query local to the chunk).
        score: (L,) integer score ``2K + 1 - 2 d`` (int16 or int32).
        num_queries: Qc.
        bits: K.
    """

    flat: Tensor
    score: Tensor
    num_queries: int
    bits: int

    def _pow2(self) -> bool:
        return self.num_queries & (self.num_queries - 1) == 0

    def query(self) -> Tensor:
        """(L,) int64 local query index."""
        if self._pow2():
            return self.flat & (self.num_queries - 1)
        return self.flat % self.num_queries

    def item(self) -> Tensor:
        """(L,) int64 database index."""
        if self._pow2():
            return self.flat >> (self.num_queries.bit_length() - 1)
        return torch.div(self.flat, self.num_queries, rounding_mode="floor")

    def relevance(self, q_words: Tensor, db_words: Tensor) -> Tensor:
        """(L,) bool: does the pair share a label (``q_words``: (Qc, W) words of these queries)."""
        if q_words.shape[1] == 1:  # up to 32 classes: 1-D gathers are much faster
            q_words, db_words = q_words.view(-1), db_words.view(-1)
            return torch.bitwise_and(q_words.index_select(0, self.query()),
                                     db_words.index_select(0, self.item())) != 0
        return relevant(q_words.index_select(0, self.query()), db_words.index_select(0, self.item()))

    def sort_key(self) -> Tensor:
        """``query * (2K + 2) - score``: orders pairs by (query, distance); smallest int dtype.

        Values lie in [-(2K + 1), Qc (2K + 2) - 1]; ``key + 2K + 1 = query * (2K + 2) + 2 d``.
        """
        span = self.num_queries * (2 * self.bits + 2)
        dtype = torch.int16 if span < 2**15 else torch.int32 if span < 2**31 else torch.int64
        return self.query().to(dtype) * (2 * self.bits + 2) - self.score.to(dtype)


def sample_rows(table: ScoreTable, depth: int) -> Tensor | None:
    """A fixed random sample of augmented database rows for threshold estimates (None if not worth it)."""
    n = table.n
    size = min(SAMPLE_SIZE, n // 4)
    if size < MIN_SAMPLE or depth * 2 >= n:
        return None
    gen = torch.Generator().manual_seed(SAMPLE_SEED)
    index = torch.randperm(n, generator=gen)[:size].sort().values.to(table.device)
    return table.rows(index)


def key_dtype(qc: int, bits: int) -> torch.dtype:
    """int32 when the keys ``query * (2K + 2) + 2 d`` of a chunk fit, else int64."""
    return torch.int32 if qc * (2 * bits + 2) < 2**31 else torch.int64


def group_offsets(qc: int, bits: int, like: Tensor) -> Tensor:
    """(Qc,) ``query * (2K + 2) + 2K + 1``; minus a score it gives ``query * (2K + 2) + 2 d``."""
    return torch.arange(qc, dtype=like.dtype, device=like.device) * (2 * bits + 2) + (2 * bits + 1)


def thresholds(q_aug: Tensor, sample: Tensor | None, depth: int, n: int, bits: int) -> Tensor:
    """(Qc,) int64 distance bounds ``d_hi``, expected to hold at least ``depth`` items each.

    The bound is the smallest distance whose sample count reaches the expected
    ``depth * S / N``. Whole distance groups make it hold for almost every query; the
    few that fall short are extended by :func:`widen`.
    """
    qc = q_aug.shape[1]
    if sample is None:
        return torch.full((qc,), bits, dtype=torch.int64, device=q_aug.device)
    score = torch.mm(sample, q_aug).to(key_dtype(qc, bits))  # (S, Qc), odd values in [1, 2K + 1]
    key = group_offsets(qc, bits, score) - score  # query * (2K + 2) + 2 d
    hist = torch.bincount(key.view(-1), minlength=qc * (2 * bits + 2)).view(qc, 2 * bits + 2)[:, ::2]
    target = depth * sample.shape[0] / n
    return (hist.cumsum(1) < target).sum(1).clamp_(max=bits)


def collect(q_aug: Tensor, table: ScoreTable, d_hi: Tensor, block_rows: int,
            d_lo: Tensor | None = None) -> Candidates:
    """All pairs with ``d_lo[query] < d <= d_hi[query]`` for the query chunk ``q_aug`` (K + 1, Qc).

    ``d_lo=None`` means no lower bound. Pairs come out in (item, query) order.
    """
    qc = q_aug.shape[1]
    k = table.bits
    full = d_lo is None and bool((d_hi >= k).all())
    hi = table.score_bits(d_hi)  # bit patterns of the smallest admitted score
    lo = None if d_lo is None else table.score_bits(d_lo)
    rows = min(block_rows, table.n)
    buf = torch.empty(rows, qc, dtype=table.dtype, device=q_aug.device)
    mask = torch.empty(rows, qc, dtype=torch.bool, device=q_aug.device)
    flats, scores = [], []
    for start in range(0, table.n, block_rows):
        stop = min(start + block_rows, table.n)
        bits = torch.mm(table.block(start, stop), q_aug, out=buf[: stop - start]).view(table.int_dtype)
        if full:
            flats.append(torch.arange(start * qc, stop * qc, device=q_aug.device))
            scores.append(bits.reshape(-1).clone())
        else:
            flat = select(bits, hi, lo, mask[: stop - start])
            scores.append(bits.view(-1).index_select(0, flat))
            flats.append(flat.add_(start * qc))
    score = torch.cat(scores).view(table.dtype).to(table.int_dtype)  # exact small integers
    return Candidates(torch.cat(flats), score, qc, k)


def widen(q_aug: Tensor, table: ScoreTable, short: Tensor, d_hi: Tensor, step: int, block_rows: int):
    """Pairs with ``d_hi < d <= d_hi + step`` for the ``short`` queries.

    Returns (which, extra, d_hi): the short query indices, their new pairs (a
    :class:`Candidates` whose queries are numbered 0..len(which)-1), the updated bounds.
    """
    which = short.nonzero().squeeze(1)
    logger.debug("sample bound too tight for %d of %d queries; widening by %d", len(which), len(short), step)
    old = d_hi.index_select(0, which)
    new = (old + step).clamp(max=table.bits)
    extra = collect(q_aug.index_select(1, which).contiguous(), table, new, block_rows, d_lo=old)
    return which, extra, d_hi.index_put((which,), new)
