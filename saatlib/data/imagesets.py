"""The dataset interface every stage of saatlib reads: :class:`ImageSet`.

An item is ``(x, y, i)``:

- ``x``: float32 tensor (C, H, W), pixel values in [0, 1] (no normalisation;
  models normalise inside);
- ``y``: float32 tensor (num_classes,), multi-hot in {0, 1} (one-hot for
  single-label data);
- ``i``: int, the item's index in this set (training code uses it to update
  per-item buffers such as the code matrix U).
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch.utils.data import Dataset


def as_index_tensor(indices: Sequence[int] | torch.Tensor, size: int) -> torch.Tensor:
    """Check ``indices`` against a set of ``size`` items; return them as 1-D int64.

    Raises:
        IndexError: an index is outside ``[0, size)`` (negative indices are refused).
        TypeError: ``indices`` are not integers.
    """
    idx = torch.as_tensor(indices)
    if idx.dtype == torch.bool or idx.is_floating_point() or idx.is_complex():
        raise TypeError(f"indices must be integers, got dtype {idx.dtype}")
    idx = idx.to(torch.int64).reshape(-1)
    if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= size):
        bad = idx[(idx < 0) | (idx >= size)][0].item()
        raise IndexError(f"index {bad} is out of range for a set of {size} items (valid: 0..{size - 1})")
    return idx


def check_labels(labels: torch.Tensor, num_items: int | None = None) -> torch.Tensor:
    """Return ``labels`` as a float32 (N, C) tensor after checking it holds only 0 and 1."""
    labels = torch.as_tensor(labels)
    if labels.dim() != 2:
        raise ValueError(
            f"labels must be a 2-D (num_items, num_classes) multi-hot tensor, got shape "
            f"{tuple(labels.shape)}; for class ids use torch.nn.functional.one_hot(ids, num_classes)")
    labels = labels.to(torch.float32)
    if not bool(((labels == 0) | (labels == 1)).all()):
        raise ValueError("labels must contain only 0 and 1 (multi-hot vectors)")
    if num_items is not None and labels.shape[0] != num_items:
        raise ValueError(f"{labels.shape[0]} label rows for {num_items} images; they must match")
    return labels


class ImageSet(Dataset):
    """Base class: labelled images addressed by index ``0..len-1``.

    Subclasses set ``self.labels`` (float32 (N, num_classes), values in {0, 1})
    and implement :meth:`load_image` and :attr:`image_shape`.
    """

    labels: torch.Tensor

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def num_classes(self) -> int:
        """Width of the label vectors."""
        return int(self.labels.shape[1])

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of every image ``x``."""
        raise NotImplementedError

    def load_image(self, index: int) -> torch.Tensor:
        """Image ``index`` as float32 (C, H, W) in [0, 1]; ``index`` is already checked."""
        raise NotImplementedError

    def _check_index(self, index: int) -> int:
        index = int(index)
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} is out of range for a set of {len(self)} items")
        return index

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, int]:
        index = self._check_index(index)
        return self.load_image(index), self.labels[index], index

    def subset(self, indices: Sequence[int] | torch.Tensor) -> "ImageSet":
        """The items at ``indices`` (into this set), re-indexed ``0..len(indices)-1``."""
        return SubsetImageSet(self, as_index_tensor(indices, len(self)))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(len={len(self)}, num_classes={self.num_classes}, image_shape={self.image_shape})"


class SubsetImageSet(ImageSet):
    """A view of ``parent`` holding the items ``indices`` (1-D int64), re-indexed from 0."""

    def __init__(self, parent: ImageSet, indices: torch.Tensor):
        self.parent = parent
        self.indices = as_index_tensor(indices, len(parent))
        self.labels = parent.labels[self.indices]

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return self.parent.image_shape

    def load_image(self, index: int) -> torch.Tensor:
        return self.parent[int(self.indices[index])][0]

    def subset(self, indices: Sequence[int] | torch.Tensor) -> ImageSet:
        return SubsetImageSet(self.parent, self.indices[as_index_tensor(indices, len(self))])
