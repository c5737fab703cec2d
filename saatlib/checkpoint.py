"""Per-epoch training checkpoints, for exact resumption after any interruption (kill -9 included).

Both long training loops write one through here after every epoch: the victim's
hashing training (:func:`saatlib.hashing.train.train_hashing`) and adversarial
training (:func:`saatlib.defense.common.adversarial_training`). A checkpoint is
one file of plain data (tensors, dicts, lists, numbers, strings), so it loads
with ``torch.load(weights_only=True)``; it is written with
:func:`saatlib.atomic.atomic_torch_save` (temporary file, fsync, rename), so a
crash during a save leaves the previous checkpoint intact, never a partial file.

Every checkpoint carries ``format`` (its writer's version), the global torch
RNG states (:func:`rng_state`: dropout draws from them) and whatever fields the
loop passes (``epoch``, ``step``, model and optimiser states, ``history``...).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from saatlib.atomic import atomic_torch_save

#: file name of a training checkpoint inside its run-store entry folder
CHECKPOINT_NAME = "checkpoint.pt"


def rng_state(device="cpu") -> dict[str, Any]:
    """The global torch RNG states (CPU; CUDA as a list when ``device`` is CUDA)."""
    state: dict[str, Any] = {"torch_cpu": torch.get_rng_state()}
    if torch.device(device).type == "cuda" and torch.cuda.is_available():
        state["torch_cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` returned."""
    torch.set_rng_state(state["torch_cpu"])
    if "torch_cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["torch_cuda"])


def cpu_copy(obj: Any) -> Any:
    """Deep copy of a nest of dicts/lists/tuples with every tensor detached on CPU."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu().clone()
    if isinstance(obj, dict):
        return {k: cpu_copy(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(cpu_copy(v) for v in obj)
    return obj


def write_checkpoint(path: str | Path, fmt: int, device="cpu", **fields) -> None:
    """Write ``fields`` (tensors copied to CPU), ``format = fmt`` and the RNG states atomically to ``path``."""
    atomic_torch_save(Path(path), {"format": int(fmt), "rng": rng_state(device), **cpu_copy(fields)})


def read_checkpoint(path: str | Path, fmt: int, what: str = "training") -> dict | None:
    """The checkpoint at ``path`` (tensors on CPU), or None when there is none.

    Raises:
        ValueError: the file exists but cannot be read, or has another ``format``
            than ``fmt``; the message says to delete it to restart from scratch.
    """
    path = Path(path)
    if not path.exists():
        return None
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated zip, unpickling error
        raise ValueError(f"unreadable {what} checkpoint {path} ({type(err).__name__}: {err}); "
                         "delete it to restart this training from scratch") from err
    if not isinstance(obj, dict) or obj.get("format") != fmt:
        raise ValueError(f"{what} checkpoint {path} has an unknown format; delete it to restart from scratch")
    return obj
