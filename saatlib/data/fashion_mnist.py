"""Fashion-MNIST (Xiao et al. 2017): 70,000 grey 28x28 garments in 10 classes.

The files are found, in order, in:

1. ``data_dir`` when given, else ``$SAAT_DATA/fashion-mnist``, ``data/fashion-mnist``
   (see :mod:`saatlib.data.paths`);
2. ``/usr/share/datasets/fashion-mnist/`` (Debian/Ubuntu package ``dataset-fashion-mnist``);
3. a torchvision download into the first folder of step 1 (needs internet).

Each folder may hold the four IDX files gzipped or not, directly or under
``FashionMNIST/raw/`` (torchvision's layout). Decoded arrays are cached in
memory, so repeated loads cost nothing.
"""
from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from saatlib.data.errors import DataError, MissingDataError
from saatlib.data.idx import read_idx
from saatlib.data.paths import candidate_dirs, default_dataset_dir

logger = logging.getLogger(__name__)

NAME = "fashion-mnist"
CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")
FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
HOW_TO_GET = (
    "Install the Debian/Ubuntu package (`apt-get install dataset-fashion-mnist`, files in "
    f"{SYSTEM_DIR}) or put the four files {', '.join(f + '.gz' for f in FILES)} "
    "(from https://github.com/zalandoresearch/fashion-mnist) in data/fashion-mnist/ "
    "or $SAAT_DATA/fashion-mnist/."
)


@dataclass(frozen=True)
class FashionMNISTPool:
    """All 70,000 images: the official training part first, then the test part.

    ``images``: uint8 (70000, 1, 28, 28) in 0..255; ``classes``: int64 (70000,)
    in 0..9; items ``num_train_part`` (60,000) onwards are the official test part.
    The tensors are shared by every caller (cached): index them, do not modify them.
    """

    images: torch.Tensor
    classes: torch.Tensor
    num_train_part: int
    folder: str


def find_files(folder: Path) -> tuple[Path, ...] | None:
    """Paths of the four IDX files in ``folder`` (any supported layout), or None."""
    for sub in (folder, folder / "FashionMNIST" / "raw"):
        found = []
        for stem in FILES:
            hit = next((p for p in (sub / f"{stem}.gz", sub / stem) if p.is_file()), None)
            found.append(hit)
        if all(found):
            return tuple(found)  # type: ignore[arg-type]
    return None


def _download(folder: Path) -> tuple[Path, ...] | None:
    from torchvision.datasets import FashionMNIST  # only on this fallback: torchvision's datasets load slowly

    logger.info("downloading Fashion-MNIST into %s", folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        FashionMNIST(root=str(folder), train=True, download=True)
    except (OSError, RuntimeError, ValueError) as err:
        logger.warning("Fashion-MNIST download into %s failed: %s", folder, err)
        return None
    return find_files(folder)


def locate(data_dir: str | Path | None = None, download: bool = True) -> tuple[Path, ...]:
    """The four IDX files, searched as the module docstring says.

    Raises:
        MissingDataError: nowhere to be found and no download possible; the
            message lists the folders tried and how to get the data.
    """
    folders = [Path(data_dir)] if data_dir is not None else candidate_dirs(NAME)
    for folder in [*folders, SYSTEM_DIR]:
        files = find_files(folder)
        if files is not None:
            return files
    if download:
        target = Path(data_dir) if data_dir is not None else default_dataset_dir(NAME)
        files = _download(target)
        if files is not None:
            return files
    tried = ", ".join(str(f) for f in [*folders, SYSTEM_DIR])
    raise MissingDataError(f"Fashion-MNIST not found (looked in {tried}"
                           f"{'; download failed' if download else ''}). {HOW_TO_GET}")


@functools.lru_cache(maxsize=4)
def _decode(files: tuple[Path, ...]) -> tuple[torch.Tensor, torch.Tensor, int]:
    arrays = [read_idx(f) for f in files]
    tr_x, tr_y, te_x, te_y = arrays
    for x, y, fx in ((tr_x, tr_y, files[0]), (te_x, te_y, files[2])):
        if x.ndim != 3 or x.shape[1:] != (28, 28) or y.shape != (x.shape[0],) or int(y.max()) > 9:
            raise DataError(f"{fx} and its labels file do not hold 28x28 images with labels 0..9; "
                            "they are not Fashion-MNIST files, fetch them again")
    images = torch.from_numpy(np.concatenate([tr_x, te_x])).unsqueeze(1)
    classes = torch.from_numpy(np.concatenate([tr_y, te_y]).astype(np.int64))
    logger.info("decoded Fashion-MNIST from %s: %d images", files[0].parent, images.shape[0])
    return images, classes, int(tr_x.shape[0])


def load_pool(data_dir: str | Path | None = None, download: bool = True) -> FashionMNISTPool:
    """All Fashion-MNIST images and classes (cached after the first call)."""
    files = locate(data_dir, download)
    images, classes, num_train_part = _decode(files)
    return FashionMNISTPool(images, classes, num_train_part, folder=str(files[0].parent))
