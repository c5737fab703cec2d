"""Batches of ``(x, y, idx)`` from any :class:`~saatlib.data.ImageSet`."""
from __future__ import annotations

from typing import Iterator

import torch
from torch.utils.data import DataLoader

from saatlib.data.imagesets import ImageSet
from saatlib.data.inmemory import InMemoryImageSet
from saatlib.data.protocol import positive_int
from saatlib.data.rng import torch_generator

Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


class BatchLoader:
    """Iterable of batches ``(x, y, idx)``: x float32 (B, C, H, W) in [0, 1],
    y float32 (B, num_classes), idx int64 (B,) indices into the image set.

    Each pass visits every index once (the last batch may be short unless
    ``drop_last``). With ``shuffle``, the order of a pass is a function of
    ``(seed, epoch)`` only; the epoch advances by one after every pass and
    :meth:`set_epoch` pins it. :class:`InMemoryImageSet` is batched by tensor
    indexing (no per-item Python); other sets go through ``torch.utils.data.DataLoader``.
    """

    def __init__(self, imageset: ImageSet, batch_size: int, shuffle: bool = False, seed: int = 0,
                 drop_last: bool = False, epoch: int = 0, num_workers: int = 0):
        if not isinstance(imageset, ImageSet):
            raise TypeError(f"expected a saatlib.data.ImageSet, got {type(imageset).__name__}")
        self.imageset = imageset
        self.batch_size = positive_int("batch_size", batch_size)
        self.shuffle, self.seed, self.drop_last = bool(shuffle), seed, bool(drop_last)
        self.epoch, self.num_workers = int(epoch), int(num_workers)

    def set_epoch(self, epoch: int) -> None:
        """Make the next pass use the order of ``epoch``."""
        self.epoch = int(epoch)

    def order(self, epoch: int | None = None) -> torch.Tensor:
        """int64 (N,): the visiting order of ``epoch`` (default: the next pass's)."""
        n = len(self.imageset)
        if not self.shuffle:
            return torch.arange(n)
        epoch = self.epoch if epoch is None else epoch
        return torch.randperm(n, generator=torch_generator(self.seed, "loader", epoch))

    def __len__(self) -> int:
        n = len(self.imageset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[Batch]:
        order = self.order()
        self.epoch += 1
        if isinstance(self.imageset, InMemoryImageSet):
            return self._in_memory(order)
        loader = DataLoader(self.imageset, batch_size=self.batch_size, sampler=order.tolist(),
                            drop_last=self.drop_last, num_workers=self.num_workers)
        return ((x, y, idx.to(torch.int64)) for x, y, idx in loader)

    def _in_memory(self, order: torch.Tensor) -> Iterator[Batch]:
        for b in range(len(self)):
            idx = order[b * self.batch_size:(b + 1) * self.batch_size]
            x, y = self.imageset.batch(idx)  # type: ignore[union-attr]
            yield x, y, idx


def data_loader(imageset: ImageSet, batch_size: int, shuffle: bool = False, seed: int = 0,
                drop_last: bool = False, epoch: int = 0, num_workers: int = 0) -> BatchLoader:
    """A :class:`BatchLoader` over ``imageset`` (see there for the batch format and the shuffling rule)."""
    return BatchLoader(imageset, batch_size, shuffle, seed, drop_last, epoch, num_workers)
