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


def collapse_status(diversity: dict, bits: int, num_label_sets: int) -> str:
    """``"collapsed"`` (one code), ``"near-collapsed"`` (fewer distinct codes than
    distinct label vectors, so some label sets cannot be told apart, or more than
    half of the ``bits`` constant) or ``"ok"``."""
    if diversity["distinct"] <= 1:
        return "collapsed"
    if diversity["distinct"] < min(num_label_sets, diversity["num_codes"]) or diversity["constant_bits"] > bits / 2:
        return "near-collapsed"
    return "ok"


def database_diversity(db_codes: torch.Tensor, db_labels: torch.Tensor) -> dict:
    """:func:`code_diversity` of the database codes plus their ``status``
    (:func:`collapse_status` against the number of distinct database label vectors)."""
    d = code_diversity(db_codes)
    label_sets = int(torch.unique(db_labels.detach().cpu(), dim=0).shape[0])
    return dict(d, label_sets=label_sets, status=collapse_status(d, db_codes.shape[1], label_sets))


def worst_status(statuses) -> str:
    """The worst of several statuses (``"ok"`` for none)."""
    given = [s for s in statuses if s is not None]
    return min(given, key=STATUSES.index) if given else "ok"
