"""Trained hash models and their retrieval scores, load-or-compute: what the chapters read.

- :class:`~saatlib.experiments.runs.HashRun` and :func:`~saatlib.experiments.runs.load_run` (defined in
  :mod:`saatlib.experiments.runs`, with :func:`~saatlib.experiments.runs.model_codes`): a trained (or
  loaded) hash model with the codes of its three sets;
- :func:`retrieval_scores`: MAP (stable and tie-aware), PR curve by Hamming
  radius, precision@N (cached, kind :data:`SCORES_KIND`);
- :func:`tie_order_maps`: MAP under random orders of tied items (cached);
- :func:`mainstay_scores`: retrieval with mainstay codes as queries (cached).

Two chapters asking for the same arguments share one model and one result.
"""
from __future__ import annotations

import torch

from saatlib.dmfl import mainstay_codes
from saatlib.experiments.runs import HashRun, load_run  # noqa: F401 (re-exported: where the chapters read them)
from saatlib.metrics import mean_average_precision, precision_at_n, precision_recall_curve
from saatlib.store import RunStore

#: run-store kind of the scores of this module
SCORES_KIND = "retrieval_scores"
SCORES_VERSION = 2  # 2: exact DMFL ties


def retrieval_scores(run: HashRun, topk: int | None, n_values=(10, 50, 100), store: RunStore | None = None) -> dict:
    """MAP@topk (stable and tie-aware), the precision-recall curve by Hamming
    radius and precision@N of ``run``'s queries against its database (cached).

    Returns:
        dict with ``map``, ``map_expected``, ``topk``, ``precision`` and
        ``recall`` (lists indexed by radius 0..K) and ``p_at_n`` ({N: value}).
    """
    store = store or RunStore()
    c = run.codes
    n_db = c["db_codes"].shape[0]
    n_values = [n for n in n_values if n <= n_db]
    key = {"model": run.config, "topk": topk, "n_values": n_values, "version": SCORES_VERSION}

    def compute() -> dict:
        args = (c["query_codes"], c["db_codes"], c["query_labels"], c["db_labels"])
        precision, recall = precision_recall_curve(*args)
        p_at = precision_at_n(*args, n_values) if n_values else []
        return {
            "map": mean_average_precision(*args, topk=topk),
            "map_expected": mean_average_precision(*args, topk=topk, ties="expected"),
            "topk": topk,
            "precision": precision.tolist(),
            "recall": recall.tolist(),
            "p_at_n": {str(n): float(v) for n, v in zip(n_values, p_at)},
        }

    result = store.cached_result(SCORES_KIND, key, compute)
    result["p_at_n"] = dict(sorted(result["p_at_n"].items(), key=lambda kv: int(kv[0])))  # JSON sorts "100" < "50"
    return result


def tie_order_maps(run: HashRun, topk: int | None, num_orders: int = 20, seed: int = 0,
                   store: RunStore | None = None) -> dict:
    """MAP@topk of ``run`` under different orders of tied database items (cached).

    The stable MAP ranks tied items by database index; permuting the database
    (codes and labels together) and taking the stable MAP again is the same as
    breaking the ties in a random order. ``num_orders`` random permutations
    (seeded) give the spread that an unstable sort, such as the quicksort
    of the released code, leaves to chance.

    Returns:
        dict with ``index_order`` (stable MAP of the database as stored),
        ``expected`` (tie-aware MAP), ``permuted`` (list of stable MAPs),
        ``min``, ``max``, ``topk``, ``num_orders``.
    """
    store = store or RunStore()
    key = {"model": run.config, "topk": topk, "num_orders": num_orders, "seed": seed,
           "what": "tie_order_maps", "version": SCORES_VERSION}

    def compute() -> dict:
        c = run.codes
        q, ql, db, dbl = c["query_codes"], c["query_labels"], c["db_codes"], c["db_labels"]
        g = torch.Generator().manual_seed(seed)
        permuted = []
        for _ in range(num_orders):
            perm = torch.randperm(db.shape[0], generator=g)
            permuted.append(mean_average_precision(q, db[perm], ql, dbl[perm], topk=topk))
        return {
            "index_order": mean_average_precision(q, db, ql, dbl, topk=topk),
            "expected": mean_average_precision(q, db, ql, dbl, topk=topk, ties="expected"),
            "permuted": permuted, "min": min(permuted), "max": max(permuted),
            "topk": topk, "num_orders": num_orders,
        }

    return store.cached_result(SCORES_KIND, key, compute)


def mainstay_scores(run: HashRun, topk: int | None, weighting: str = "cosine",
                    store: RunStore | None = None) -> dict:
    """Retrieval with each query's mainstay code as the query code (cached).

    The mainstay code of a query's own labels (:func:`saatlib.dmfl.mainstay_codes`,
    from the training codes and labels of ``run``) replaces the query's code;
    its MAP@topk says how well one code per label set retrieves that
    semantics, the target the SAAT attack pushes away from.

    Returns:
        dict with ``map`` and ``map_expected`` (mainstay codes as queries),
        ``benign_map`` (the queries' own codes), ``mean_bits_from_query``
        (mean Hamming distance between a query's code and its mainstay code),
        ``weighting``, ``topk``.
    """
    store = store or RunStore()
    key = {"model": run.config, "topk": topk, "weighting": weighting, "what": "mainstay_scores",
           "version": SCORES_VERSION}

    def compute() -> dict:
        c = run.codes
        ms = mainstay_codes(c["query_labels"], c["train_codes"], c["train_labels"], weighting=weighting)
        args = (c["db_codes"], c["query_labels"], c["db_labels"])
        return {
            "map": mean_average_precision(ms, *args, topk=topk),
            "map_expected": mean_average_precision(ms, *args, topk=topk, ties="expected"),
            "benign_map": mean_average_precision(c["query_codes"], *args, topk=topk),
            "mean_bits_from_query": float((ms != c["query_codes"]).float().sum(1).mean()),
            "weighting": weighting, "topk": topk,
        }

    return store.cached_result(SCORES_KIND, key, compute)
