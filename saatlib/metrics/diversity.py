"""How varied a set of binary codes is: the guard against a collapsed model.

A hash model that maps every image to one code (or to a handful) ranks the
database in index order for every query: its MAP under attack equals its benign
MAP, and a table would show it as perfectly robust. Every evaluation records
:func:`code_diversity` of the codes it scored and :func:`collapse_status` says
whether they can be trusted.
"""
from __future__ import annotations

import torch

#: collapse_status values, worst first
STATUSES = ("collapsed", "near-collapsed", "ok")


def code_diversity(codes: torch.Tensor) -> dict:
    """Diversity of codes (N, K) in {-1, 1}.

    Returns:
        ``num_codes`` N; ``distinct`` (number of distinct codes, 1..N);
        ``constant_bits`` (bits equal on all N codes); ``bit_balance`` (mean over
        bits of |mean over codes of b_k|, in [0, 1]: 0 = every bit split half and
        half, 1 = every bit constant).
    """
    if codes.dim() != 2 or codes.shape[0] == 0:
        raise ValueError(f"codes must be (N, K) with N >= 1, got {tuple(codes.shape)}")
    c = codes.detach().cpu()
    means = c.float().mean(0)
    return {"num_codes": int(c.shape[0]), "distinct": int(torch.unique(c, dim=0).shape[0]),
            "constant_bits": int((means.abs() == 1).sum()), "bit_balance": float(means.abs().mean())}


def collapse_status(diversity: dict, bits: int, num_classes: int) -> str:
    """``"collapsed"`` (one code), ``"near-collapsed"`` (fewer distinct codes than
    classes, so some class cannot have a code of its own, or more than half of the
    ``bits`` constant) or ``"ok"``. (Not fewer codes than *label sets*: on
    multi-label data a good model may share codes between overlapping label sets.)"""
    if diversity["distinct"] <= 1:
        return "collapsed"
    if diversity["distinct"] < min(num_classes, diversity["num_codes"]) or diversity["constant_bits"] > bits / 2:
        return "near-collapsed"
    return "ok"


def database_diversity(db_codes: torch.Tensor, db_labels: torch.Tensor) -> dict:
    """:func:`code_diversity` of the database codes plus ``classes`` (C), ``label_sets``
    (distinct database label vectors) and their ``status`` (:func:`collapse_status`)."""
    d = code_diversity(db_codes)
    label_sets = int(torch.unique(db_labels.detach().cpu(), dim=0).shape[0])
    classes = int(db_labels.shape[1])
    return dict(d, classes=classes, label_sets=label_sets, status=collapse_status(d, db_codes.shape[1], classes))


def worst_status(statuses) -> str:
    """The worst of several statuses (``"ok"`` for none)."""
    given = [s for s in statuses if s is not None]
    return min(given, key=STATUSES.index) if given else "ok"
