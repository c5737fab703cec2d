"""Image sets described by list files (NUS-WIDE, MS-COCO, FLICKR-25K, ...)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import torch
from PIL import Image, UnidentifiedImageError

from saatlib.data.errors import DataError, MissingDataError
from saatlib.data.imagesets import ImageSet, as_index_tensor
from saatlib.data.listfile import ListSplit, read_split
from saatlib.data.transforms import REFERENCE_CROP, reference_transform


class ListFileImageSet(ImageSet):
    """One split of a list-file dataset; images are read lazily with PIL as RGB.

    Args:
        root: the dataset folder; relative image paths are resolved against it.
        split: ``"train"``, ``"test"`` (queries) or ``"database"``.
        fmt: ``"saat"``, ``"deephash"`` or ``"auto"`` (see :mod:`saatlib.data.listfile`).
        transform: PIL RGB image -> float32 (C, H, W) in [0, 1]; default
            :func:`~saatlib.data.transforms.reference_transform` of ``image_size``.
        image_size: side of the centre crop of the default transform (224 as in
            the paper; tests use tiny sizes). Ignored when ``transform`` is given.
        check_files: if True, check now that every listed image file exists
            (one stat per file) instead of failing at the first missing one later.

    Items are ``(x, y, i)`` as for every :class:`ImageSet`. A missing or
    unreadable image raises :class:`DataError` with its path and list line.
    """

    def __init__(self, root: str | Path, split: str, fmt: str = "auto",
                 transform: Callable[[Image.Image], torch.Tensor] | None = None,
                 image_size: int = REFERENCE_CROP, check_files: bool = False):
        source = read_split(root, split, fmt)
        self._init_from(source, torch.arange(len(source.paths)), transform, image_size)
        if check_files:
            self.check_files()

    def _init_from(self, source: ListSplit, rows: torch.Tensor, transform, image_size: int) -> None:
        self.source = source
        self._rows = rows
        self.labels = source.labels[rows]
        self.image_size = image_size
        self.transform = transform if transform is not None else reference_transform(image_size)
        self._custom_transform = transform is not None
        self._shape: tuple[int, int, int] | None = None

    @property
    def split(self) -> str:
        return self.source.split

    @property
    def fmt(self) -> str:
        return self.source.fmt

    @property
    def root(self) -> Path:
        return self.source.root

    @property
    def paths(self) -> list[str]:
        """Image paths as written in the list file, in item order."""
        return [self.source.paths[r] for r in self._rows.tolist()]

    def image_path(self, index: int) -> Path:
        """Resolved path of item ``index`` (relative paths are under :attr:`root`)."""
        return self.root / self.source.paths[int(self._rows[index])]

    @property
    def image_shape(self) -> tuple[int, int, int]:
        if self._shape is None:
            if self._custom_transform:
                self._shape = tuple(self.load_image(0).shape)  # type: ignore[assignment]
            else:
                self._shape = (3, self.image_size, self.image_size)
        return self._shape

    def load_image(self, index: int) -> torch.Tensor:
        row = int(self._rows[index])
        path = self.root / self.source.paths[row]
        where = self.source.where(row)
        try:
            with Image.open(path) as img:
                rgb = img.convert("RGB")
        except FileNotFoundError as err:
            raise MissingDataError(
                f"image {path} listed at {where} does not exist; fix the path (relative to {self.root}) "
                "or put the image there") from err
        except (OSError, UnidentifiedImageError, ValueError) as err:
            raise DataError(f"cannot read image {path} listed at {where}: {err}; replace the file "
                            "with a valid image or remove its line from the list and label files") from err
        return self.transform(rgb)

    def check_files(self) -> None:
        """Raise :class:`MissingDataError` naming the first listed image file that does not exist."""
        for row in self._rows.tolist():
            path = self.root / self.source.paths[row]
            if not path.is_file():
                raise MissingDataError(f"image {path} listed at {self.source.where(row)} does not exist; "
                                       f"fix the path (relative to {self.root}) or put the image there")

    def subset(self, indices: Sequence[int] | torch.Tensor) -> "ListFileImageSet":
        new = object.__new__(ListFileImageSet)
        rows = self._rows[as_index_tensor(indices, len(self))]
        new._init_from(self.source, rows, self.transform if self._custom_transform else None, self.image_size)
        return new
