"""Local random generators derived from one integer seed.

Nothing here touches torch's or numpy's global RNG. Independent streams (the
query draw, the database draw, the shuffle of epoch 3, ...) come from
``numpy.random.SeedSequence(seed, spawn_key=keys)``, so changing one size or one
stream never shifts the numbers drawn by another, and seed 0 at epoch 1 is not
seed 1 at epoch 0.
"""
from __future__ import annotations

import zlib

import numpy as np
import torch


def _key(part: int | str) -> int:
    """Map a stream key to a non-negative int (strings via CRC-32, stable across runs)."""
    if isinstance(part, str):
        return zlib.crc32(part.encode("utf-8"))
    if isinstance(part, (bool, float)) or int(part) < 0:
        raise ValueError(f"stream keys must be non-negative ints or strings, got {part!r}")
    return int(part)


def derive_seed(seed: int, *keys: int | str) -> int:
    """A 63-bit seed for the stream ``keys`` of ``seed`` (deterministic, platform-independent)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    seq = np.random.SeedSequence(int(seed), spawn_key=tuple(_key(k) for k in keys))
    return int(seq.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def torch_generator(seed: int, *keys: int | str) -> torch.Generator:
    """A fresh CPU ``torch.Generator`` for the stream ``keys`` of ``seed``."""
    return torch.Generator().manual_seed(derive_seed(seed, *keys))
