"""The first items of each query's Hamming ranking and their relevance, for figures and explorers.

Small problems only (the full (Q, N) distance matrix is built); the ranking
metrics (:mod:`.ranking`, :mod:`.curves`) never do that.
"""
from __future__ import annotations

import torch
from torch import Tensor

from saatlib.primitives import shares_label

from .hamming import hamming_distance

__all__ = ["relevant_to", "top_retrievals"]


def top_retrievals(query_codes: Tensor, db_codes: Tensor, k: int = 10) -> tuple[Tensor, Tensor]:
    """The first ``k`` database items of the Hamming ranking of each query.

    Ties are ordered by database index (a stable sort), as ``ties="stable"``
    in :mod:`saatlib.metrics`.

    Returns:
        (indices, distances): two int64 tensors (Q, k).
    """
    d = hamming_distance(query_codes, db_codes)
    k = min(k, d.shape[1])
    order = torch.sort(d, dim=1, stable=True).indices[:, :k]
    return order, d.gather(1, order)


def relevant_to(query_labels: Tensor, item_labels: Tensor) -> Tensor:
    """Relevance of each query's own items (:func:`saatlib.primitives.shares_label`, row by row):
    (Q, C) query labels and (Q, k, C) item labels -> (Q, k) bool."""
    if query_labels.shape[0] == 0:
        return torch.zeros(item_labels.shape[:2], dtype=torch.bool, device=item_labels.device)
    return torch.stack([shares_label(q[None], items)[0] for q, items in zip(query_labels, item_labels)])
