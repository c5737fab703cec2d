"""A small multi-label list-file dataset written for tests (the released SAAT 'saat' layout)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def make_multilabel_listfile(root: Path, n: int = 64, size: int = 16, classes: int = 3, queries: int = 8,
                             train: int = 40, seed: int = 0, width: int | None = None, density: float = 0.5) -> Path:
    """n RGB PNGs of ``size`` rows x ``width`` (default ``size``) columns, multi-label over
    ``classes`` classes (class c brightens the image's channel c % 3 in stripe c), every image
    labelled (each label with probability ``density``, at least one); lists: the first ``queries`` images are the test split, the others the
    database, the first ``train`` of those also the training split."""
    rng = np.random.default_rng(seed)
    width = size if width is None else width
    labels = (rng.random((n, classes)) < density).astype(int)
    labels[labels.sum(1) == 0, rng.integers(0, classes)] = 1
    (root / "images").mkdir(parents=True)
    stripe = max(1, size // classes)
    for i, y in enumerate(labels):
        img = rng.integers(0, 60, (size, width, 3))
        for c in np.flatnonzero(y):
            img[c * stripe % size:(c * stripe % size) + stripe, :, c % 3] += 150
        Image.fromarray(img.clip(0, 255).astype(np.uint8)).save(root / "images" / f"{i:04d}.png")
    splits = {"test": range(queries), "database": range(queries, n), "train": range(queries, queries + train)}
    for split, idx in splits.items():
        (root / f"{split}_img.txt").write_text("".join(f"images/{i:04d}.png\n" for i in idx))
        (root / f"{split}_label.txt").write_text("".join(" ".join(map(str, labels[i])) + "\n" for i in idx))
    return root
