"""Read and check the two list-file formats of deep hashing benchmarks.

For each split in ``train``, ``test`` (the queries) and ``database``:

- ``"saat"`` (the released SAAT code): ``<split>_img.txt`` holds one image path
  a line, relative to the dataset folder; ``<split>_label.txt`` holds the
  matching space-separated 0/1 label vector a line.
- ``"deephash"`` (DeepHash-pytorch): ``<split>.txt`` holds the path followed by
  the label vector on each line, e.g. ``images/0001.jpg 0 1 0 1``.

Every problem is reported as :class:`~saatlib.data.errors.DataError` (or
:class:`~saatlib.data.errors.MissingDataError`) naming the file and line.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from saatlib.data.errors import DataError, MissingDataError

logger = logging.getLogger(__name__)

SPLITS = ("train", "test", "database")
FORMATS = ("saat", "deephash")
LAYOUT_HELP = (
    "Expected, in the dataset folder, either the 'saat' layout "
    "{train,test,database}_img.txt (an image path a line) + {train,test,database}_label.txt "
    "(a space-separated 0/1 vector a line), or the 'deephash' layout {train,test,database}.txt "
    "('path 0 1 0 ...' a line); see data/README.md."
)


@dataclass(frozen=True)
class ListSplit:
    """One parsed split: ``paths[i]`` has labels ``labels[i]`` (float32 (N, C) in {0, 1})."""

    split: str
    fmt: str
    root: Path
    paths: list[str]
    labels: torch.Tensor
    image_list: Path
    label_list: Path

    def where(self, i: int) -> str:
        """Where item ``i`` is listed, e.g. ``'/data/X/train_img.txt line 5'``."""
        return f"{self.image_list} line {i + 1}"


def list_files(root: Path, split: str, fmt: str) -> tuple[Path, Path]:
    """(file with the image paths, file with the labels) of ``split`` in format ``fmt``."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {SPLITS}")
    if fmt == "saat":
        return root / f"{split}_img.txt", root / f"{split}_label.txt"
    if fmt == "deephash":
        return root / f"{split}.txt", root / f"{split}.txt"
    raise ValueError(f"unknown list format {fmt!r}; choose one of {FORMATS} or 'auto'")


def detect_format(root: str | Path) -> str:
    """``'saat'`` or ``'deephash'``, from which list files exist in ``root``."""
    root = Path(root)
    if not root.is_dir():
        raise MissingDataError(f"dataset folder {root} does not exist. {LAYOUT_HELP}")
    found = [fmt for fmt in FORMATS if any(list_files(root, s, fmt)[0].is_file() for s in SPLITS)]
    if not found:
        present = sorted(p.name for p in root.iterdir())[:10]
        raise MissingDataError(f"no list files in {root} (it holds {present}). {LAYOUT_HELP}")
    if len(found) > 1:
        logger.warning("%s holds both list formats; reading the 'saat' one", root)
    return found[0]


def _read_lines(path: Path, split: str, fmt: str) -> list[str]:
    if not path.is_file():
        raise MissingDataError(f"missing list file {path} for split {split!r} (format {fmt!r}). {LAYOUT_HELP}")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"cannot read list file {path}: {err}; it must be UTF-8 text") from err
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise DataError(f"list file {path} is empty: split {split!r} needs at least one line")
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            raise DataError(f"{path} line {n} is blank; remove blank lines (lines are matched by position)")
    return lines


def _parse_labels(rows: list[list[str]], path: Path) -> torch.Tensor:
    """Rows of '0'/'1' tokens (one row a line of ``path``) -> float32 (N, C)."""
    width = len(rows[0])
    for n, row in enumerate(rows, start=1):
        if len(row) != width or not row:
            raise DataError(
                f"{path} line {n} has {len(row)} label values but line 1 has {width}; "
                "every line needs the same number of 0/1 values (one per class)")
    tokens = np.array(rows, dtype=str)
    ok = (tokens == "0") | (tokens == "1")
    if not ok.all():
        n, col = (int(v) for v in np.argwhere(~ok)[0])
        raise DataError(f"{path} line {n + 1}, value {col + 1} is {tokens[n, col]!r}; labels must be 0 or 1")
    return torch.from_numpy(tokens == "1").to(torch.float32)


def read_split(root: str | Path, split: str, fmt: str = "auto") -> ListSplit:
    """Parse and check split ``split`` of the dataset folder ``root``."""
    root = Path(root)
    fmt = detect_format(root) if fmt == "auto" else fmt
    image_list, label_list = list_files(root, split, fmt)
    if fmt == "saat":
        paths = [line.strip() for line in _read_lines(image_list, split, fmt)]
        rows = [line.split() for line in _read_lines(label_list, split, fmt)]
        if len(paths) != len(rows):
            raise DataError(
                f"{image_list} lists {len(paths)} images but {label_list} has {len(rows)} label lines; "
                f"line {min(len(paths), len(rows)) + 1} has no partner. Both files must have one line per image")
    else:
        parts = [line.split() for line in _read_lines(image_list, split, fmt)]
        for n, row in enumerate(parts, start=1):
            if len(row) < 2:
                raise DataError(f"{image_list} line {n} has no label values; expected 'path 0 1 0 ...'")
        paths = [row[0] for row in parts]
        rows = [row[1:] for row in parts]
    labels = _parse_labels(rows, label_list)
    logger.info("read %d items with %d labels from %s", len(paths), labels.shape[1], image_list)
    return ListSplit(split, fmt, root, paths, labels, image_list, label_list)
