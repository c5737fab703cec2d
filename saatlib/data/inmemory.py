"""Image sets held in one tensor: Fashion-MNIST, mosaics, adversarial batches."""
from __future__ import annotations

from typing import Sequence

import torch

from saatlib.data.imagesets import ImageSet, as_index_tensor, check_labels
from saatlib.data.transforms import resize_batch


class InMemoryImageSet(ImageSet):
    """Images and labels in memory, with a fast batched :meth:`batch`.

    Args:
        images: (N, C, H, W) tensor; uint8 in 0..255 (stored as is, divided by
            255 on access) or floating point in [0, 1] (stored as float32).
        labels: (N, num_classes) multi-hot in {0, 1}; stored as float32.
        image_size: if given, images are resized (bilinear, antialiased) to
            (image_size, image_size) when accessed; storage stays small.
        source_ids: optional int64 tensor whose first dimension is N: where each
            item came from (e.g. its index in the Fashion-MNIST pool, or the
            four tile sources of a mosaic, -1 for an empty tile). Kept aligned
            by :meth:`subset`.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, *, image_size: int | None = None,
                 source_ids: torch.Tensor | None = None):
        images = torch.as_tensor(images)
        if images.dim() != 4:
            raise ValueError(f"images must be (N, C, H, W), got shape {tuple(images.shape)}")
        if images.dtype != torch.uint8:
            if not images.is_floating_point():
                raise TypeError(f"images must be uint8 or floating point, got {images.dtype}")
            images = images.to(torch.float32)
            if images.numel() and (float(images.min()) < 0.0 or float(images.max()) > 1.0):
                raise ValueError("float images must lie in [0, 1]; divide uint8 pixels by 255 first")
        self.images = images.cpu()
        self.labels = check_labels(labels, images.shape[0]).cpu()
        if image_size is not None and (isinstance(image_size, bool) or int(image_size) < 1):
            raise ValueError(f"image_size must be a positive int or None, got {image_size!r}")
        self.image_size = None if image_size is None else int(image_size)
        if source_ids is not None:
            source_ids = torch.as_tensor(source_ids, dtype=torch.int64).cpu()
            if source_ids.shape[:1] != images.shape[:1]:
                raise ValueError(f"source_ids has {source_ids.shape[0]} rows for {images.shape[0]} images")
        self.source_ids = source_ids

    @property
    def image_shape(self) -> tuple[int, int, int]:
        c, h, w = self.images.shape[1:]
        if self.image_size is not None:
            h = w = self.image_size
        return int(c), int(h), int(w)

    def _to_float(self, raw: torch.Tensor) -> torch.Tensor:
        x = raw.to(torch.float32) / 255.0 if raw.dtype == torch.uint8 else raw.clone()
        return x if self.image_size is None else resize_batch(x, self.image_size)

    def load_image(self, index: int) -> torch.Tensor:
        return self._to_float(self.images[index : index + 1])[0]

    def batch(self, indices: Sequence[int] | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Items ``indices`` at once: x float32 (B, C, H, W) in [0, 1], y float32 (B, num_classes)."""
        idx = as_index_tensor(indices, len(self))
        return self._to_float(self.images[idx]), self.labels[idx]

    def all(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Every item: x float32 (N, C, H, W) in [0, 1], y float32 (N, num_classes)."""
        return self._to_float(self.images), self.labels.clone()

    def subset(self, indices: Sequence[int] | torch.Tensor) -> "InMemoryImageSet":
        idx = as_index_tensor(indices, len(self))
        sources = None if self.source_ids is None else self.source_ids[idx]
        return InMemoryImageSet(self.images[idx], self.labels[idx], image_size=self.image_size, source_ids=sources)
