"""Input checks shared by the retrieval metrics.

Every public metric funnels its arguments through these helpers, so the error
messages are uniform and say what to do. Nothing here copies data to another
device: tensors stay where the caller put them.
"""
from __future__ import annotations

import operator

import torch
from torch import Tensor

__all__ = ["as_tensor", "check_codes", "check_labels", "check_pair", "check_same_device", "check_topk"]


def as_tensor(x, name: str) -> Tensor:
    """Return ``x`` as a tensor (NumPy arrays and nested lists are converted, tensors kept as is)."""
    if isinstance(x, Tensor):
        return x
    try:
        return torch.as_tensor(x)
    except Exception as err:  # pragma: no cover - message only
        raise ValueError(f"{name} must be a tensor or array-like, got {type(x).__name__}") from err


def check_codes(codes, name: str) -> Tensor:
    """Check that ``codes`` is a (rows, K) matrix of binary codes in {-1, +1}.

    Any real or integer dtype is accepted as long as every entry is exactly -1 or +1.
    Returns the tensor (unchanged dtype and device).
    """
    codes = as_tensor(codes, name)
    if codes.dim() != 2:
        raise ValueError(
            f"{name} must be a 2-D (num_items, num_bits) matrix of +-1 codes, got shape {tuple(codes.shape)}; "
            "use codes.view(1, -1) for a single code"
        )
    if codes.shape[1] == 0:
        raise ValueError(f"{name} has zero bits (shape {tuple(codes.shape)})")
    if codes.dtype == torch.bool or codes.is_complex():
        raise ValueError(f"{name} must hold -1/+1 numbers, got dtype {codes.dtype}; use 2 * bits.float() - 1")
    if codes.numel() and not _all_plus_minus_one(codes):
        bad = codes[(codes != 1) & (codes != -1)][:3].tolist()
        raise ValueError(
            f"{name} must contain only -1 and +1 (binary codes b = sign(h)), found values such as {bad}; "
            "binarise with torch.where(h >= 0, 1.0, -1.0), or map {0,1} bits with 2 * bits - 1"
        )
    return codes


_ROWS = 1 << 16  # rows checked at a time: bounded temporary memory for large databases


def _all_plus_minus_one(codes: Tensor) -> bool:
    """Whether every entry is -1 or +1: min |x| == max |x| == 1, checked in row blocks."""
    for start in range(0, codes.shape[0], _ROWS):
        lo, hi = torch.aminmax(codes[start:start + _ROWS].abs())
        if not (bool(lo == 1) and bool(hi == 1)):
            return False
    return True


def check_labels(labels, name: str, rows: int, rows_name: str) -> Tensor:
    """Check a (rows, C) multi-hot label matrix with non-negative entries.

    Relevance is ``y_q . y_i > 0``; with non-negative entries that is "share at least
    one label", which is how the metrics evaluate it. Returns the tensor unchanged.
    """
    labels = as_tensor(labels, name)
    if labels.dim() != 2:
        hint = (
            "; for integer class ids use torch.nn.functional.one_hot(labels, num_classes)"
            if labels.dim() == 1 else ""
        )
        raise ValueError(
            f"{name} must be a 2-D (num_items, num_classes) multi-hot matrix, got shape {tuple(labels.shape)}{hint}"
        )
    if labels.shape[0] != rows:
        raise ValueError(
            f"{name} has {labels.shape[0]} rows but {rows_name} has {rows}: give one label row per code row"
        )
    if labels.shape[1] == 0:
        raise ValueError(f"{name} has zero label columns")
    if labels.is_complex():
        raise ValueError(f"{name} must be real, got dtype {labels.dtype}")
    if labels.dtype != torch.bool and labels.numel() and bool((labels < 0).any()):
        raise ValueError(
            f"{name} has negative entries; labels must be multi-hot 0/1 (or non-negative weights) "
            "so that relevance y_q . y_i > 0 means 'share a label'"
        )
    return labels


def check_pair(query_codes, db_codes, query_labels=None, db_labels=None, *, db_packed: bool = False):
    """Validate a query/database pair and return the checked tensors.

    Checks: codes are (Q, K) and (N, K) in {-1, +1} (or, with ``db_packed``, the
    database is a (N, ceil(K/8)) uint8 matrix from :func:`saatlib.metrics.pack_codes`);
    labels, when given, are (Q, C) and (N, C) with the same C; all on one device.
    """
    query_codes = check_codes(query_codes, "query_codes")
    k = query_codes.shape[1]
    if db_packed:
        db_codes = as_tensor(db_codes, "db_codes")
        want = (k + 7) // 8
        if db_codes.dtype != torch.uint8 or db_codes.dim() != 2 or db_codes.shape[1] != want:
            raise ValueError(
                f"with db_packed=True db_codes must be a (N, {want}) uint8 matrix from pack_codes for "
                f"{k}-bit queries, got dtype {db_codes.dtype} and shape {tuple(db_codes.shape)}"
            )
    else:
        db_codes = check_codes(db_codes, "db_codes")
        if db_codes.shape[1] != k:
            raise ValueError(
                f"code lengths differ: query_codes has {k} bits, db_codes has {db_codes.shape[1]}; "
                "encode queries and database with the same model"
            )
    if db_codes.shape[0] == 0:
        raise ValueError("db_codes is empty: the database needs at least one item")
    if query_codes.shape[0] == 0:
        raise ValueError("query_codes is empty: give at least one query")
    tensors = [query_codes, db_codes]
    if query_labels is not None or db_labels is not None:
        if query_labels is None or db_labels is None:
            raise ValueError("give both query_labels and db_labels, or neither")
        query_labels = check_labels(query_labels, "query_labels", query_codes.shape[0], "query_codes")
        db_labels = check_labels(db_labels, "db_labels", db_codes.shape[0], "db_codes")
        if query_labels.shape[1] != db_labels.shape[1]:
            raise ValueError(
                f"label widths differ: query_labels has {query_labels.shape[1]} classes, db_labels has "
                f"{db_labels.shape[1]}; both must use the same class list (for t-MAP pass the target labels, "
                "encoded like the database labels)"
            )
        tensors += [query_labels, db_labels]
    check_same_device(tensors)
    return query_codes, db_codes, query_labels, db_labels


def check_same_device(tensors) -> None:
    """Raise a ValueError when the tensors do not all live on one device."""
    devices = {t.device for t in tensors}
    if len(devices) > 1:
        raise ValueError(
            f"inputs are on different devices {sorted(str(d) for d in devices)}; move them to one device "
            "with .to(device) first"
        )


def check_topk(topk, n: int) -> int:
    """Return the effective list depth ``min(topk, n)`` (``topk=None`` means the whole database)."""
    if topk is None:
        return n
    try:
        value = operator.index(topk)
    except TypeError:
        value = None
    if isinstance(topk, bool) or value is None or value < 1:
        raise ValueError(f"topk must be a positive int or None (whole database), got {topk!r}")
    return min(value, n)
