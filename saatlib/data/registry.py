"""One entry point for every dataset: :func:`load_splits` and :func:`dataset_names`."""
from __future__ import annotations

import logging
from pathlib import Path

from saatlib.data.embedded import fashion_mnist_splits, mosaic_splits
from saatlib.data.errors import MissingDataError
from saatlib.data.listfile_splits import LIST_DATASETS, listfile_splits
from saatlib.data.paths import candidate_dirs, find_dataset_dir
from saatlib.data.splits import RetrievalSplits
from saatlib.data.transforms import REFERENCE_CROP

logger = logging.getLogger(__name__)

EMBEDDED = {"fashion-mnist": fashion_mnist_splits, "fashion-mnist-mosaics": mosaic_splits}
#: sides of the embedded datasets' own images
EMBEDDED_SIZES = {"fashion-mnist": 28, "fashion-mnist-mosaics": 56}


def dataset_names() -> list[str]:
    """Names :func:`load_splits` accepts: the embedded data, the paper's benchmarks, ``"listfile"``."""
    return [*EMBEDDED, *LIST_DATASETS, "listfile"]


def _canonical(dataset: str) -> str:
    by_lower = {n.lower(): n for n in dataset_names()}
    if not isinstance(dataset, str) or dataset.lower() not in by_lower:
        raise ValueError(f"unknown dataset {dataset!r}; known datasets: {dataset_names()}")
    return by_lower[dataset.lower()]


def _dataset_dir(name: str, data_dir: str | Path | None) -> Path:
    if data_dir is not None:
        return Path(data_dir)
    if name == "listfile":
        raise ValueError("dataset 'listfile' needs data_dir: the folder holding the list files")
    found = find_dataset_dir(name)
    if found is None:
        tried = ", ".join(str(p) for p in candidate_dirs(name))
        raise MissingDataError(f"no folder for dataset {name!r} (looked in {tried}); create one with the "
                               "list files, or point $SAAT_DATA or data_dir at it (see data/README.md)")
    return found


def load_splits(dataset: str, data_dir: str | Path | None = None, num_query: int | None = None,
                num_database: int | None = None, num_train: int | None = None, seed: int = 0,
                image_size: int | None = None) -> RetrievalSplits:
    """Query, database and training sets of ``dataset`` (names: :func:`dataset_names`, any case).

    Args:
        dataset: ``"fashion-mnist"``, ``"fashion-mnist-mosaics"``, a benchmark
            folder name (``"NUS-WIDE"``, ``"MS-COCO"``, ``"FLICKR-25K"``,
            ``"CIFAR-10"``, ``"ImageNet-100"``) or ``"listfile"``.
        data_dir: the dataset's folder; default ``$SAAT_DATA/<name>`` or
            ``data/<name>`` (see :mod:`saatlib.data.paths`). Required for
            ``"listfile"``. For Fashion-MNIST, the folder of its four files.
        num_query, num_database, num_train: sizes of the three roles; None keeps
            the defaults (see :mod:`saatlib.data.embedded`) or the whole split
            of a list-file dataset.
        seed: every random draw is a function of it.
        image_size: side of the square images; None = native (28 Fashion-MNIST,
            56 mosaics, 224 crops of list-file images).

    Raises:
        ValueError: unknown name (lists the known ones) or bad sizes.
        MissingDataError / DataError: files missing or malformed (names file and line).
    """
    name = _canonical(dataset)
    sizes = {"num_query": num_query, "num_database": num_database, "num_train": num_train}
    if name in EMBEDDED:
        splits = EMBEDDED[name](**sizes, seed=seed, image_size=image_size, data_dir=data_dir)
    else:
        splits = listfile_splits(_dataset_dir(name, data_dir), name, **sizes, seed=seed, image_size=image_size)
    logger.info("loaded %r", splits)
    return splits


def native_image_size(dataset: str, data_dir: str | Path | None = None) -> int | None:
    """The side of ``dataset``'s own images: 28 (Fashion-MNIST), 56 (mosaics), or for a
    list-file dataset the shorter side of its first training image (read from its header
    only). None when the dataset or its folder cannot be found (loading it then says why)."""
    try:
        name = _canonical(dataset)
    except ValueError:
        return None
    if name in EMBEDDED:
        return EMBEDDED_SIZES[name]
    try:
        from PIL import Image

        from saatlib.data.listfile import read_split
        split = read_split(_dataset_dir(name, data_dir), "train")
        with Image.open(split.root / split.paths[0]) as img:
            return int(min(img.size))
    except (OSError, ValueError):  # missing folder or file, malformed lists
        return None


def loader_image_size(dataset: str, data_dir: str | Path | None = None) -> int | None:
    """The side :func:`load_splits` gives images when no ``image_size`` is named: the
    embedded datasets' own, 224 centre crops for list-file datasets (None: unknown dataset)."""
    try:
        name = _canonical(dataset)
    except ValueError:
        return None
    return EMBEDDED_SIZES[name] if name in EMBEDDED else REFERENCE_CROP
