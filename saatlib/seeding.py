"""Repeatable runs: seeds that leave the caller's RNG state alone, and the thread count
(float results depend on it: a model trained with 1 torch thread differs from one with 2)."""
from __future__ import annotations

import contextlib
from typing import Iterator

import torch


@contextlib.contextmanager
def seeded(seed: int, device: torch.device | str = "cpu") -> Iterator[None]:
    """Run the block with torch's RNGs seeded with ``seed``; restore them after.

    Covers the CPU generator and, when ``device`` is CUDA, the CUDA generators.
    """
    device = torch.device(device)
    cuda_devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda_devices):
        torch.manual_seed(seed)
        yield


def generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A fresh ``torch.Generator`` on ``device`` seeded with ``seed``."""
    return torch.Generator(device=device).manual_seed(seed)


def set_threads(num_threads: int | None) -> None:
    """Limit torch's intra-op threads (None: leave torch's default)."""
    if num_threads:
        torch.set_num_threads(num_threads)
