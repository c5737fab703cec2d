"""Reference implementations (plain loops) and data makers for the metrics tests.

Nothing here is a test; the test_metrics_* modules import these helpers.
"""
from __future__ import annotations

import numpy as np
import torch


def random_codes(rows: int, bits: int, gen: torch.Generator) -> torch.Tensor:
    return torch.randint(0, 2, (rows, bits), generator=gen).float() * 2 - 1


def random_labels(rows: int, classes: int, gen: torch.Generator, multi: bool = True, p: float = 0.3) -> torch.Tensor:
    """Multi-hot labels (each class with probability p, possibly none) or one-hot labels."""
    if multi:
        return (torch.rand(rows, classes, generator=gen) < p).float()
    return torch.nn.functional.one_hot(torch.randint(0, classes, (rows,), generator=gen), classes).float()


def ref_distances(qb, db) -> np.ndarray:
    qb, db = np.asarray(qb, dtype=np.int64), np.asarray(db, dtype=np.int64)
    return (qb[:, None, :] != db[None, :, :]).sum(2)


def ref_relevance(ql, dl) -> np.ndarray:
    return (np.asarray(ql, dtype=np.float64) @ np.asarray(dl, dtype=np.float64).T) > 0


def ap_of_order(rel_sorted: np.ndarray, topk: int) -> float:
    """DeepHash-pytorch AP of one ranked relevance list, cut at topk."""
    top = rel_sorted[:topk].astype(np.float64)
    found = int(top.sum())
    if found == 0:
        return 0.0
    count = np.linspace(1, found, found)
    where = np.flatnonzero(top == 1) + 1.0
    return float(np.mean(count / where))


def ref_ap_stable(qb, db, ql, dl, topk=None) -> np.ndarray:
    """Per-query loop: distances, stable argsort (ties by index), top k, AP."""
    dist, rel = ref_distances(qb, db), ref_relevance(ql, dl)
    k = dist.shape[1] if topk is None else min(topk, dist.shape[1])
    return np.array([ap_of_order(rel[i][np.argsort(dist[i], kind="stable")], k) for i in range(len(dist))])


def ref_ap_tiebreak(dist_row, rel_row, tiebreak, topk) -> float:
    """AP when ties are ordered by ``tiebreak`` (a rank per database item)."""
    order = np.lexsort((tiebreak, dist_row))
    return ap_of_order(rel_row[order], topk)


def ref_precision_at(qb, db, ql, dl, n_values) -> np.ndarray:
    dist, rel = ref_distances(qb, db), ref_relevance(ql, dl)
    out = np.zeros(len(n_values))
    for i in range(len(dist)):
        hits = np.cumsum(rel[i][np.argsort(dist[i], kind="stable")])
        out += np.array([hits[n - 1] / n for n in n_values])
    return out / len(dist)


def ref_pr_curve(qb, db, ql, dl, empty="skip"):
    """Loop version of the radius PR curve (precision skips queries retrieving nothing)."""
    dist, rel = ref_distances(qb, db), ref_relevance(ql, dl)
    bits = np.asarray(qb).shape[1]
    p_sum, p_cnt = np.zeros(bits + 1), np.zeros(bits + 1)
    r_sum, r_cnt = np.zeros(bits + 1), 0
    for i in range(len(dist)):
        total = rel[i].sum()
        for r in range(bits + 1):
            got = dist[i] <= r
            hit = (got & rel[i]).sum()
            if got.sum() > 0:
                p_sum[r] += hit / got.sum()
                p_cnt[r] += 1
            elif empty == "zero":
                p_cnt[r] += 1
            if total > 0:
                r_sum[r] += hit / total
        r_cnt += total > 0
    precision = np.where(p_cnt > 0, p_sum / np.maximum(p_cnt, 1), 0.0)
    return precision, r_sum / max(r_cnt, 1)
