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

Writes go through :mod:`saatlib.checkpoint` (the victim's training
checkpoints too): :func:`saatlib.atomic.atomic_torch_save` (temporary file,
fsync, rename), so an interruption during a save leaves the previous
checkpoint intact and never a partial file.
"""
from __future__ import annotations

from pathlib import Path

from saatlib.checkpoint import CHECKPOINT_NAME, read_checkpoint, rng_state, set_rng_state, write_checkpoint

__all__ = ["CHECKPOINT_FORMAT", "CHECKPOINT_NAME", "load_checkpoint", "rng_state", "save_checkpoint",
           "set_rng_state"]

CHECKPOINT_FORMAT = 1


def save_checkpoint(path: str | Path, *, epoch: int, step: int, defense: dict, history: list[dict],
                    device="cpu", extra: dict | None = None) -> None:
    """Write a checkpoint atomically (see the module docstring for the fields)."""
    fields = {"epoch": int(epoch), "step": int(step), "defense": defense, "history": list(history)}
    if extra:
        fields["extra"] = extra
    write_checkpoint(path, CHECKPOINT_FORMAT, device, **fields)


def load_checkpoint(path: str | Path) -> dict | None:
    """The checkpoint at ``path`` (tensors on CPU), or None when there is none.

    Raises:
        ValueError: the file exists but cannot be read (e.g. written by an
            incompatible version); delete it to restart training from scratch.
    """
    return read_checkpoint(path, CHECKPOINT_FORMAT, "training")
