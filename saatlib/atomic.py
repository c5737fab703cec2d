"""Atomic file writes: a temporary file beside the target, flushed, then renamed onto it,
so an interruption never leaves a half-written file (the run store and the
defense checkpoints both write this way)."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

import torch


def atomic_write_bytes(path: Path, write: Callable[[Any], None]) -> None:
    """Call ``write(fileobj)`` on a temporary file beside ``path``, then rename it
    onto ``path``; an interruption never leaves a half-written ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_json(path: Path, obj: Any) -> None:
    """``obj`` as indented JSON with sorted keys (``str`` for anything JSON cannot hold)."""
    atomic_write_bytes(path, lambda f: f.write(json.dumps(obj, indent=1, sort_keys=True, default=str).encode()))


def atomic_torch_save(path: Path, obj: Any) -> None:
    """``torch.save(obj)``; load it back with ``weights_only=True``."""
    atomic_write_bytes(path, lambda f: torch.save(obj, f))
