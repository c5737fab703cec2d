"""Chunked retrieval engine shared by the ranking metrics (internal).

Work is split into query chunks (``chunk_size`` queries, Qc) and, inside a chunk,
database blocks (``block_rows`` codes, B). For one chunk the engine

1. estimates, from a fixed random sample of the database (4096 codes, seed 0),
   a distance ``d_hi[q]`` per query such that at least ``depth`` database items
   lie within distance ``d_hi[q]`` (a conservative sample quantile);
2. streams the database block by block: exact scores by one matrix product
   (see :mod:`._scores`), then keeps the pairs with ``d <= d_hi[q]`` by an integer
   compare and a compaction (``nonzero``);
3. checks the guarantee exactly (count per query >= depth); a query whose sample
   estimate was too tight is recollected with ``d_hi = K`` (everything), so the
   result never depends on the sample, only the speed does.

The result, :class:`Candidates`, holds every item within ``d_hi`` of every query
of the chunk, in database-index order: in particular every item of every
distance group that the top-``depth`` list touches, including the whole boundary
group. Stable ranking is then one integer sort by (query, distance): the sort is
stable, so index order survives inside each tie group. Tie-aware metrics only
need per-group counts (one ``bincount``).

Memory per chunk (Qc queries, B block rows, L candidate pairs): ``3 B Qc`` bytes
for the score and mask buffers, about ``20 L`` bytes for the candidate arrays and
their sort, ``24 Qc depth`` bytes for the top-k index lists, plus the database in
the compute dtype (``2 N (K+1)`` bytes; only ``2 B (K+1)`` with a packed database).
With the automatic sizes (Qc <= 128, B Qc ~ 2^21, Qc * 2 depth ~ 2^21) this is
tens of MB; L is near ``Qc * 1.5 depth`` for spread-out codes but can reach
``Qc * N`` when the boundary distance group is huge (collapsed codes).
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import torch
from torch import Tensor

from ._scores import ScoreTable
from ._validate import check_pair
from .relevance import label_words, relevant

logger = logging.getLogger(__name__)

CANDIDATE_BUDGET = 1 << 21  # candidate pairs per chunk the automatic chunk size aims at
BLOCK_BUDGET = 1 << 21      # (block row, query) pairs per score block
SAMPLE_SIZE = 4096
SAMPLE_SEED = 0
MAX_CHUNK = 128


@dataclass
class Problem:
    """Validated inputs of one metric call.

    Attributes:
        queries: (Q, K) query codes (as given, validated).
        table: database scores table.
        q_words / db_words: (Q, W) / (N, W) int64 label bit masks (see :mod:`.relevance`).
    """

    queries: Tensor
    table: ScoreTable
    q_words: Tensor
    db_words: Tensor

    @property
    def bits(self) -> int:
        return self.table.bits

    @property
    def num_queries(self) -> int:
        return self.queries.shape[0]

    def chunk(self, start: int, stop: int) -> Tensor:
        """(K + 1, stop - start) augmented query matrix of one chunk."""
        return self.table.queries(self.queries[start:stop])


def prepare(query_codes, db_codes, query_labels, db_labels, db_packed: bool = False) -> Problem:
    """Validate the inputs (see :func:`._validate.check_pair`) and build a :class:`Problem`."""
    query_codes, db_codes, query_labels, db_labels = check_pair(
        query_codes, db_codes, query_labels, db_labels, db_packed=db_packed
    )
    table = ScoreTable(db_codes, query_codes.shape[1], packed=db_packed)
    return Problem(query_codes, table, label_words(query_labels), label_words(db_labels))


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

    def query(self) -> Tensor:
        """(L,) int64 local query index."""
        return self.flat % self.num_queries

    def item(self, flat: Tensor | None = None) -> Tensor:
        """(L,) int64 database index (of ``flat``, default all pairs)."""
        return torch.div(self.flat if flat is None else flat, self.num_queries, rounding_mode="floor")

    def dist(self) -> Tensor:
        """(L,) int64 Hamming distance."""
        return (2 * self.bits + 1 - self.score.to(torch.int64)) // 2

    def sort_key(self) -> Tensor:
        """``query * (2K + 2) - score``: orders pairs by (query, distance); smallest int dtype.

        Values lie in [-(2K + 1), Qc (2K + 2) - 1]; ``key + 2K + 1 = query * (2K + 2) + 2 d``.
        """
        span = self.num_queries * (2 * self.bits + 2)
        dtype = torch.int16 if span < 2**15 else torch.int32 if span < 2**31 else torch.int64
        qc = self.num_queries
        q = (self.flat & (qc - 1)) if qc & (qc - 1) == 0 else self.query()
        return q.to(dtype) * (2 * self.bits + 2) - self.score.to(dtype)


def auto_chunk_size(num_db: int, depth: int, chunk_size=None) -> int:
    """Queries per chunk: ``chunk_size`` if given, else a power of two sized to the candidate budget."""
    if chunk_size is not None:
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive int (queries per chunk) or None, got {chunk_size!r}")
        return chunk_size
    per_query = num_db if depth >= num_db else min(num_db, 2 * depth)
    chunk = max(1, min(MAX_CHUNK, CANDIDATE_BUDGET // max(1, per_query)))
    return 1 << (chunk.bit_length() - 1)


def block_rows_for(chunk: int) -> int:
    """Database rows per score block for a query chunk of ``chunk`` queries."""
    return max(1024, BLOCK_BUDGET // max(1, chunk))


def query_chunks(num_queries: int, chunk: int):
    """Yield ``(start, stop)`` of consecutive query chunks."""
    for start in range(0, num_queries, chunk):
        yield start, min(start + chunk, num_queries)


def sample_rows(table: ScoreTable, depth: int) -> Tensor | None:
    """A fixed random sample of augmented database rows for threshold estimates (None if not worth it)."""
    n = table.n
    if n <= 4 * SAMPLE_SIZE or depth * 4 >= n:
        return None
    gen = torch.Generator().manual_seed(SAMPLE_SEED)
    index = torch.randperm(n, generator=gen)[:SAMPLE_SIZE].sort().values.to(table.device)
    return table.rows(index)


def thresholds(q_aug: Tensor, sample: Tensor | None, depth: int, n: int, bits: int) -> Tensor:
    """(Qc,) int64 distance bounds ``d_hi``, expected to hold at least ``depth`` items each.

    The bound is the smallest distance whose sample count exceeds the expected
    ``depth * S / N`` by three standard deviations plus three items.
    """
    qc = q_aug.shape[1]
    if sample is None:
        return torch.full((qc,), bits, dtype=torch.int64, device=q_aug.device)
    s = sample.shape[0]
    score = torch.mm(sample, q_aug).to(torch.int64)  # (S, Qc), odd values in [1, 2K + 1]
    key = torch.arange(qc, device=q_aug.device) * (2 * bits + 2) + (2 * bits + 1 - score)  # q (2K+2) + 2d
    hist = torch.bincount(key.view(-1), minlength=qc * (2 * bits + 2)).view(qc, 2 * bits + 2)[:, ::2]
    expect = depth * s / n
    target = expect + 3.0 * math.sqrt(expect) + 3.0
    return (hist.cumsum(1) < target).sum(1).clamp_(max=bits)


def collect(q_aug: Tensor, table: ScoreTable, d_hi: Tensor, block_rows: int) -> Candidates:
    """All pairs with ``d <= d_hi[query]`` for the augmented query chunk ``q_aug`` (K + 1, Qc)."""
    qc = q_aug.shape[1]
    k = table.bits
    full = bool((d_hi >= k).all())
    thr = table.score_bits(d_hi)  # (Qc,) bit patterns of the smallest admitted score
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
            m = torch.ge(bits, thr, out=mask[: stop - start])
            flat = m.view(-1).nonzero().squeeze(1)
            scores.append(bits.view(-1).index_select(0, flat))
            flats.append(flat.add_(start * qc))
    score_bits = torch.cat(scores)
    score = score_bits.view(table.dtype).to(table.int_dtype)  # exact small integers
    return Candidates(torch.cat(flats), score, qc, k)


def candidates(q_aug: Tensor, table: ScoreTable, depth: int, sample: Tensor | None, block_rows: int) -> Candidates:
    """Candidate pairs covering each query's top-``depth`` list and its whole distance groups.

    Guarantee: for every query, all items at distance <= t are included, where t is the
    distance of the depth-th item of that query's ranking.
    """
    k, qc = table.bits, q_aug.shape[1]
    d_hi = thresholds(q_aug, sample, depth, table.n, k)
    cand = collect(q_aug, table, d_hi, block_rows)
    if depth < table.n:
        count = torch.bincount(cand.query(), minlength=qc)
        short = count < depth
        if bool(short.any()):
            cand = _recollect(cand, q_aug, table, short, block_rows)
    return cand


def _recollect(cand: Candidates, q_aug: Tensor, table: ScoreTable, short: Tensor, block_rows: int) -> Candidates:
    """Replace the candidates of the ``short`` queries by all their pairs (index order kept)."""
    qc, k = cand.num_queries, table.bits
    which = short.nonzero().squeeze(1)
    logger.debug("sample bound too tight for %d of %d queries; recollecting them", len(which), qc)
    keep = ~short[cand.query()]
    extra = collect(q_aug.index_select(1, which).contiguous(), table,
                    torch.full((len(which),), k, dtype=torch.int64, device=q_aug.device), block_rows)
    local = which[extra.flat % len(which)]
    flat = torch.cat([cand.flat[keep], extra.item() * qc + local])
    score = torch.cat([cand.score[keep], extra.score])
    return Candidates(flat, score, qc, k)


def stable_topk_items(cand: Candidates, depth: int) -> Tensor:
    """(Qc, depth) int64 database indices of each query's top ``depth`` list.

    Order: Hamming distance ascending, ties by database index ascending (what a stable
    argsort of the distances gives). Requires at least ``depth`` candidates per query.
    """
    qc, k = cand.num_queries, cand.bits
    key = cand.sort_key()
    sorted_key, order = torch.sort(key, stable=True)
    first = torch.arange(qc, device=key.device, dtype=key.dtype) * (2 * k + 2) - (2 * k + 1)
    start = torch.searchsorted(sorted_key, first)  # where each query's run begins
    pos = (start.unsqueeze(1) + torch.arange(depth, device=key.device)).view(-1)
    flat = cand.flat.index_select(0, order.index_select(0, pos))
    return cand.item(flat).view(qc, depth)


def group_counts(cand: Candidates, rel: Tensor) -> tuple[Tensor, Tensor]:
    """Per (query, distance) counts of candidates and of relevant candidates.

    Args:
        cand: candidates of a chunk.
        rel: (L,) bool relevance of each candidate pair.

    Returns:
        (n, r): two (Qc, K + 1) float64 tensors; n[q, v] items at distance v, r[q, v]
        the relevant ones (exact for every v <= d_hi[q]).
    """
    qc, k = cand.num_queries, cand.bits
    key = cand.sort_key().to(torch.int64) + (2 * k + 1)  # query * (2K + 2) + 2 d
    width = qc * (2 * k + 2)
    n = torch.bincount(key, minlength=width).view(qc, 2 * k + 2)[:, ::2]
    r = torch.bincount(key[rel], minlength=width).view(qc, 2 * k + 2)[:, ::2]
    return n.to(torch.float64), r.to(torch.float64)


def candidate_relevance(cand: Candidates, q_words: Tensor, db_words: Tensor) -> Tensor:
    """(L,) bool relevance of every candidate pair (``q_words`` local to the chunk)."""
    return relevant(q_words.index_select(0, cand.query()), db_words.index_select(0, cand.item()))


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
    offset = torch.arange(qc, device=q_aug.device) * (2 * k + 2) + (2 * k + 1)
    for start in range(0, table.n, block_rows):
        stop = min(start + block_rows, table.n)
        score = torch.mm(table.block(start, stop), q_aug).to(torch.int64)  # (B, Qc)
        key = offset - score  # query * (2K + 2) + 2 d
        rel = relevant(db_words[start:stop, None, :], q_words[None, :, :])
        n += torch.bincount(key.view(-1), minlength=width)
        r += torch.bincount(key[rel], minlength=width)
    as_qv = lambda x: x.view(qc, 2 * k + 2)[:, ::2].to(torch.float64)  # noqa: E731
    return as_qv(n), as_qv(r)
