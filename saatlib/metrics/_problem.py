"""Validated inputs and chunk sizes of one metric call (internal).

Chunking: queries are processed ``chunk_size`` (Qc) at a time and, inside a chunk,
the database ``block_rows`` (B) codes at a time. The automatic sizes keep a chunk
near 2^21 candidate pairs (Qc a power of two <= 128, so the per-pair query index
is a bit mask) and a score block near 2^21 (row, query) pairs (4 MB of bfloat16).
"""
from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from ._scores import ScoreTable
from ._validate import check_pair
from .relevance import label_words

CANDIDATE_BUDGET = 1 << 21  # candidate pairs per chunk the automatic chunk size aims at
BLOCK_BUDGET = 1 << 21      # (block row, query) pairs per score block
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
    if query_labels is None or db_labels is None:
        raise ValueError("query_labels and db_labels are required: relevance is y_q . y_i > 0 "
                         "(for single-label data pass one-hot rows)")
    query_codes, db_codes, query_labels, db_labels = check_pair(
        query_codes, db_codes, query_labels, db_labels, db_packed=db_packed
    )
    table = ScoreTable(db_codes, query_codes.shape[1], packed=db_packed)
    return Problem(query_codes, table, label_words(query_labels), label_words(db_labels))


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
