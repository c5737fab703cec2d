"""Per-epoch checkpoints of adversarial training, for exact resumption.

A checkpoint is one file (``checkpoint.pt`` in the run-store entry folder of
the defended model) holding plain data only (tensors, dicts, lists, numbers,
strings), so it loads with ``torch.load(weights_only=True)``:

- ``epoch``: the number of finished epochs (the next epoch to run);
- ``step``: the number of finished optimiser steps (drives the lr schedule);
- ``defense``: the defense's state — model ``state_dict``, optimiser
  ``state_dict``\\ s (the learning-rate schedule is a pure function of ``step``,
  so there is no scheduler object to store), the code buffers (U_ben, labels),
  the hash loss buffers, a PrototypeNet where the method has one, and the states
  of the defense's own ``torch.Generator``\\ s (random starts, target draws);
- ``rng``: the global torch RNG states (CPU, and CUDA when used), which
  dropout layers draw from;
- ``history``: the per-epoch loss records so far.

Writes go through :func:`saatlib.atomic.atomic_torch_save` (temporary file,
fsync, rename), so an interruption during a save leaves the previous
checkpoint intact and never a partial file.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from saatlib.atomic import atomic_torch_save

CHECKPOINT_NAME = "checkpoint.pt"
CHECKPOINT_FORMAT = 1


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


def _cpu(obj: Any) -> Any:
    """Deep copy of a nest of dicts/lists/tuples with every tensor detached on CPU."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu().clone()
    if isinstance(obj, dict):
        return {k: _cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_cpu(v) for v in obj)
    return obj


def save_checkpoint(path: str | Path, *, epoch: int, step: int, defense: dict, history: list[dict],
                    device="cpu", extra: dict | None = None) -> None:
    """Write a checkpoint atomically (see the module docstring for the fields)."""
    obj = {"format": CHECKPOINT_FORMAT, "epoch": int(epoch), "step": int(step), "defense": _cpu(defense),
           "rng": rng_state(device), "history": list(history)}
    if extra:
        obj["extra"] = _cpu(extra)
    atomic_torch_save(Path(path), obj)


def load_checkpoint(path: str | Path) -> dict | None:
    """The checkpoint at ``path`` (tensors on CPU), or None when there is none.

    Raises:
        RuntimeError: the file exists but cannot be read (e.g. written by an
            incompatible version); delete it to restart training from scratch.
    """
    path = Path(path)
    if not path.exists():
        return None
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated zip, unpickling error
        raise ValueError(f"unreadable training checkpoint {path} ({type(err).__name__}: {err}); "
                           "delete it to restart this training from scratch") from err
    if not isinstance(obj, dict) or obj.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"training checkpoint {path} has an unknown format; delete it to restart from scratch")
    return obj
