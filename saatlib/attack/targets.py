"""Target labels for targeted attacks (reference section 3).

For every query, a label vector drawn uniformly from the database's unique label
vectors among those sharing no label with the query. Drawn once per (dataset,
protocol, seed) and kept in the run store
(:func:`saatlib.experiments.attacks.target_labels_for`), so every targeted method
attacks the same targets.
"""
from __future__ import annotations

import logging

import torch

log = logging.getLogger(__name__)


def draw_target_labels(query_labels: torch.Tensor, db_labels: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """(Q, C) query labels, (N, C) database labels -> (Q, C) target labels.

    Vectorised: random scores over the unique database label vectors, masked to
    those disjoint from each query, argmax. A query disjoint from no label
    vector (it carries every label) gets the vector of least overlap, with a
    warning.
    """
    if query_labels.shape[1] != db_labels.shape[1]:
        raise ValueError(f"query labels have {query_labels.shape[1]} classes, database labels {db_labels.shape[1]}")
    unique = torch.unique(db_labels.float().cpu(), dim=0)
    unique = unique[unique.sum(1) > 0]
    overlap = query_labels.float().cpu() @ unique.t()  # (Q, M)
    g = torch.Generator().manual_seed(seed)
    scores = torch.rand(overlap.shape, generator=g)
    allowed = overlap == 0
    stuck = ~allowed.any(1)
    if stuck.any():
        log.warning("%d queries share a label with every database label vector; using least overlap", int(stuck.sum()))
        allowed[stuck] = overlap[stuck] == overlap[stuck].min(1, keepdim=True).values
    pick = torch.where(allowed, scores, torch.full_like(scores, -1.0)).argmax(1)
    return unique[pick]

