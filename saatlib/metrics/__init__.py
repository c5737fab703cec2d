"""Retrieval metrics for deep hashing: Hamming distance, MAP, PR curves, precision@N.

Conventions (the paper and the SAAT released code; details in each module):

- codes are in {-1, +1}^K; Hamming distance d = (K - b_q . b_i) / 2, integers in [0, K];
- an item is relevant to a query when they share a label, y_q . y_i > 0;
- MAP@topk follows DeepHash-pytorch ``CalcTopMap``: AP averages P@j over the
  relevant positions of the top-k list, a query without a relevant item in its
  top k has AP 0, MAP is the mean over all queries;
- ties (equal distances) are ordered by database index (``ties="stable"``) or
  averaged exactly over all tie orders (``ties="expected"``);
- t-MAP is MAP with the target labels passed as ``query_labels``.

Modules: :mod:`.hamming`, :mod:`.packing` (bit-packed codes), :mod:`.relevance`,
:mod:`.ranking` (MAP), :mod:`.tie_aware` (expectations over tie orders),
:mod:`.curves` (PR curve, precision@N), :mod:`.perceptibility`, :mod:`.diversity`
(collapsed models), :mod:`.retrieved` (the top k of a ranking, for figures); the private
``_problem``, ``_scores``, ``_candidates``, ``_select``, ``_stable``, ``_counts`` and
``_parallel`` modules hold the shared chunked engine.

Everything works on the device of the inputs (no transfers), is vectorised over
queries (chunks of queries, blocks of database codes, bounded memory) and never
sorts floating point: Hamming distances are small integers. The ranking metrics
accept a bit-packed database (``db_packed=True`` with :func:`pack_codes`, 8 bytes
per 64-bit code) and, on CPU, run their chunks on ``workers`` threads.
"""
from .curves import precision_at_n, precision_recall_curve
from .diversity import code_diversity, collapse_status, database_diversity
from .hamming import hamming_distance
from .packing import hamming_distance_packed, pack_codes, unpack_codes
from .perceptibility import perceptibility
from .ranking import average_precision, mean_average_precision
from .relevance import relevance_matrix
from .retrieved import relevant_to, top_retrievals

__all__ = [
    "hamming_distance",
    "pack_codes",
    "unpack_codes",
    "hamming_distance_packed",
    "relevance_matrix",
    "mean_average_precision",
    "average_precision",
    "precision_recall_curve",
    "precision_at_n",
    "perceptibility",
    "code_diversity",
    "collapse_status",
    "database_diversity",
    "top_retrievals",
    "relevant_to",
]
