"""Run store: trained models and results cached under a key of their full config.

Layout: ``<root>/<kind>/<key>/`` holding ``config.json`` (the full config, written
last: its presence marks a complete entry), and any of ``model.pt`` (a
``state_dict``), ``tensors.pt`` (named tensors) and ``result.json``.
``key`` is a SHA-256 of the canonical JSON of the config, so asking again for
the same config loads instead of recomputing, and changing any field (data,
protocol, method, bits, backbone, seed, hyper-parameters) makes a new entry.

Writes are atomic (temporary file, then rename); tensor files are loaded with
``weights_only=True``. The root is ``$SAAT_RUNS`` or ``runs/`` at the top of the
repository.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from pathlib import Path
from typing import Callable

import torch

from saatlib.atomic import atomic_torch_save, atomic_write_json

log = logging.getLogger(__name__)


class CorruptRunError(RuntimeError):
    """A run-store entry exists but cannot be read."""


def canonical_json(config: dict) -> str:
    """Deterministic JSON text of ``config`` (sorted keys, no spaces)."""
    return json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)


def config_key(config: dict) -> str:
    """First 16 hex digits of the SHA-256 of the canonical JSON of ``config``."""
    return hashlib.sha256(canonical_json(config).encode()).hexdigest()[:16]


def default_root() -> Path:
    """``$SAAT_RUNS`` if set, else ``runs/`` beside the saatlib package."""
    env = os.environ.get("SAAT_RUNS")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "runs"


class RunStore:
    """A folder of cached runs. ``kind`` groups entries ('hash_model', 'attack', ...)."""

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root) if root is not None else default_root()

    def path(self, kind: str, config: dict) -> Path:
        return self.root / kind / config_key(config)

    def has(self, kind: str, config: dict) -> bool:
        """True when a complete entry exists for ``config``."""
        return (self.path(kind, config) / "config.json").exists()

    def save(
        self,
        kind: str,
        config: dict,
        state_dict: dict | None = None,
        tensors: dict[str, torch.Tensor] | None = None,
        result: dict | None = None,
    ) -> Path:
        """Write an entry atomically; ``config.json`` goes last."""
        d = self.path(kind, config)
        d.mkdir(parents=True, exist_ok=True)
        (d / "config.json").unlink(missing_ok=True)
        if state_dict is not None:
            atomic_torch_save(d / "model.pt", {k: v.detach().cpu() for k, v in state_dict.items()})
        if tensors is not None:
            atomic_torch_save(d / "tensors.pt", {k: v.detach().cpu() for k, v in tensors.items()})
        if result is not None:
            atomic_write_json(d / "result.json", result)
        atomic_write_json(d / "config.json", config)
        log.info("saved %s run %s", kind, d)
        return d

    def _check(self, kind: str, config: dict) -> Path:
        d = self.path(kind, config)
        if not (d / "config.json").exists():
            raise KeyError(f"no {kind} run for this config in {self.root}")
        try:
            stored = json.loads((d / "config.json").read_text())
        except (OSError, ValueError) as err:
            raise self._corrupt(d, err) from err
        if canonical_json(stored) != canonical_json(json.loads(canonical_json(config))):
            raise self._corrupt(d, ValueError("stored config differs from the requested one"))
        return d

    @staticmethod
    def _corrupt(d: Path, err: BaseException) -> CorruptRunError:
        first_line = (str(err).strip().splitlines() or [""])[0]
        return CorruptRunError(
            f"run-store entry {d} is unreadable ({type(err).__name__}: {first_line}). "
            "Delete that folder, or ask again with recompute=True (CLI: --recompute) to rebuild it."
        )

    def _load_pt(self, kind: str, config: dict, name: str) -> dict:
        d = self._check(kind, config)
        try:
            return torch.load(d / name, map_location="cpu", weights_only=True)
        except Exception as err:  # truncated zip, unpickling error, missing file
            raise self._corrupt(d, err) from err

    def load_state_dict(self, kind: str, config: dict) -> dict:
        """The stored ``state_dict`` (on CPU)."""
        return self._load_pt(kind, config, "model.pt")

    def load_tensors(self, kind: str, config: dict) -> dict[str, torch.Tensor]:
        """The stored named tensors (on CPU)."""
        return self._load_pt(kind, config, "tensors.pt")

    def load_result(self, kind: str, config: dict) -> dict:
        """The stored JSON result."""
        d = self._check(kind, config)
        try:
            return json.loads((d / "result.json").read_text())
        except (OSError, ValueError) as err:
            raise self._corrupt(d, err) from err

    def delete(self, kind: str, config: dict) -> None:
        """Remove the entry of ``config`` if present."""
        shutil.rmtree(self.path(kind, config), ignore_errors=True)

    def cached_result(self, kind: str, config: dict, compute: Callable[[], dict], recompute: bool = False) -> dict:
        """The stored result of ``config``, or ``compute()`` saved under it."""
        if recompute:
            self.delete(kind, config)
        if self.has(kind, config):
            return self.load_result(kind, config)
        result = compute()
        self.save(kind, config, result=result)
        return result

    def entries(self, kind: str) -> list[dict]:
        """Configs of all complete entries of ``kind``."""
        out = []
        for p in sorted((self.root / kind).glob("*/config.json")):
            try:
                out.append(json.loads(p.read_text()))
            except (OSError, ValueError):
                log.warning("skipping unreadable %s", p)
        return out
