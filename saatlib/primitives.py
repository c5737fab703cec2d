"""The small operations every layer shares, written once (no saatlib imports here).

- :func:`binarize`: sign with sign(0) = +1, so codes are strictly in {-1, 1};
- :func:`shares_label`: relevance of two sets of multi-hot label vectors;
- :func:`eval_mode`: a model in eval mode for a block, every submodule's mode restored;
- :func:`eval_codes`: the codes sign(f(x)) of one batch, the model in :func:`eval_mode`, no gradients;
- :func:`project_linf`: onto the l_inf ball around x, then into the pixel box [0, 1];
- :func:`check_budget`, :func:`check_positive`, :func:`check_reference_batch`:
  validated attack hyper-parameters with messages that say what to pass;
- :func:`check_number`, :func:`check_int`, :func:`check_choice`, :func:`check_bool`: the field
  checks of the hashing and defense hyper-parameters (a bad value refused naming the field).
"""
from __future__ import annotations

import contextlib
import math
import numbers
from typing import Any, Iterator

import torch

#: batch size of the released attack scripts (``attack.py``, ``adv_attack.py``: ``--batch_size 128``)
RELEASED_ATTACK_BATCH = 128


def binarize(h: torch.Tensor) -> torch.Tensor:
    """sign(h) with sign(0) = +1, so codes are strictly in {-1, 1} (same shape and dtype)."""
    return torch.where(h >= 0, torch.ones_like(h), -torch.ones_like(h))


def shares_label(labels_a: torch.Tensor, labels_b: torch.Tensor) -> torch.Tensor:
    """(A, C), (N, C) multi-hot labels -> (A, N) bool: a and b share at least one label
    (the retrieval relevance of the paper; on one-hot labels, the same class)."""
    if labels_a.dim() != 2 or labels_b.dim() != 2 or labels_a.shape[1] != labels_b.shape[1]:
        raise ValueError(f"labels {tuple(labels_a.shape)} and {tuple(labels_b.shape)} must be (A, C) and (N, C) "
                         "with the same number of classes C")
    return (labels_a.float() @ labels_b.float().to(labels_a.device).t()) > 0


@contextlib.contextmanager
def eval_mode(model: torch.nn.Module) -> Iterator[None]:
    """Put ``model`` in eval mode for the block; restore its mode after.

    Every submodule gets its own mode back, so a mixed state (e.g. a model in
    train mode with frozen BatchNorm layers in eval mode) survives the block.
    """
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for m, mode in modes:
            m.training = mode


@torch.no_grad()
def eval_codes(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Codes of one batch: :func:`binarize` of ``model(x)`` with the model in :func:`eval_mode` (every
    submodule's mode restored), without gradients; on the device of the model's output."""
    with eval_mode(model):
        return binarize(model(x))


def project_linf(x_adv: torch.Tensor, x: torch.Tensor, eps: float) -> torch.Tensor:
    """Onto the eps-ball around x (l_inf), then into [0, 1]."""
    return torch.min(torch.max(x_adv, x - eps), x + eps).clamp(0, 1)


def check_budget(eps: float, steps: int) -> tuple[float, int]:
    """Validated (eps, steps) of an attack."""
    if not (isinstance(eps, (int, float)) and math.isfinite(eps) and eps >= 0):
        raise ValueError(f"eps must be a finite number >= 0 (pixels in [0, 1]; 8/255 = {8 / 255:.4f}), got {eps!r}")
    if isinstance(steps, bool) or int(steps) != steps or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
    return float(eps), int(steps)


def check_positive(value: float, what: str) -> float:
    """A finite number > 0."""
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise ValueError(f"{what} must be a finite number > 0, got {value!r}")
    return float(value)


def check_reference_batch(value: int) -> int:
    """A positive integer batch size."""
    if isinstance(value, bool) or int(value) != value or value < 1:
        raise ValueError(f"reference_batch must be a positive integer (released: {RELEASED_ATTACK_BATCH}), "
                         f"got {value!r}")
    return int(value)


def check_number(value: Any, name: str, low: float = 0.0, *, strict: bool = False, high: float | None = None,
                 hint: str = "") -> None:
    """``value`` is a finite real number >= ``low`` (> with ``strict``; < ``high`` if given), not a bool."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value > low if strict else value >= low) and (high is None or value < high)
    if not ok:
        bound = f"{'>' if strict else '>='} {low:g}" + (f" and < {high:g}" if high is not None else "")
        raise ValueError(f"{name} must be a finite number {bound}{hint}, got {value!r}")


def check_int(value: Any, name: str, low: int, hint: str = "") -> None:
    """``value`` is an integer >= ``low`` (not a bool, not a float)."""
    if not (isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= low):
        what = "a positive integer" if low == 1 else f"an integer >= {low}"
        raise ValueError(f"{name} must be {what}{hint}, got {value!r}")


def check_choice(value: Any, name: str, choices, hint: str = "") -> None:
    """``value`` is one of ``choices``."""
    if value not in tuple(choices):
        raise ValueError(f"{name} must be one of {list(choices)}{hint}, got {value!r}")


def check_bool(value: Any, name: str, hint: str = "") -> None:
    """``value`` is True or False."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False{hint}, got {value!r}")
