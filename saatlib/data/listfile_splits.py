"""Retrieval splits of a list-file dataset folder (train / test = query / database)."""
from __future__ import annotations

import logging
from pathlib import Path

from saatlib.data.errors import DataError
from saatlib.data.listfile import detect_format
from saatlib.data.listfile_imageset import ListFileImageSet
from saatlib.data.protocol import subsample
from saatlib.data.splits import RetrievalSplits
from saatlib.data.transforms import REFERENCE_CROP

logger = logging.getLogger(__name__)

#: Label widths of the paper's benchmarks (the released code's class counts).
LIST_DATASETS = {"NUS-WIDE": 21, "MS-COCO": 80, "FLICKR-25K": 38, "CIFAR-10": 10, "ImageNet-100": 100}
#: Optional file in the dataset folder: one class name a line, in label-column order.
CLASS_NAMES_FILE = "classes.txt"
#: Role -> split file it is read from.
ROLE_SPLITS = {"train": "train", "query": "test", "database": "database"}


def _class_names(root: Path, width: int) -> list[str] | None:
    path = root / CLASS_NAMES_FILE
    if not path.is_file():
        return None
    names = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if len(names) != width:
        raise DataError(f"{path} names {len(names)} classes but the label files have {width} columns; "
                        "write one name a line, in label-column order, or delete the file")
    return names


def _check_widths(sets: dict[str, ListFileImageSet]) -> int:
    first = sets["train"]
    for other in sets.values():
        if other.num_classes != first.num_classes:
            raise DataError(
                f"label widths differ between splits: {first.source.label_list} line 1 has "
                f"{first.num_classes} values but {other.source.label_list} line 1 has {other.num_classes}; "
                "every split must use the same label columns")
    return first.num_classes


def listfile_splits(root: str | Path, name: str = "listfile", num_query: int | None = None,
                    num_database: int | None = None, num_train: int | None = None, seed: int = 0,
                    image_size: int | None = None, fmt: str = "auto") -> RetrievalSplits:
    """Read the three splits of the dataset folder ``root``.

    The roles come from the files: train = ``train``, query = ``test``,
    database = ``database``. A size that is given subsamples that role
    deterministically from ``seed`` (a size above the split's length keeps the
    whole split, with a warning). Images are RGB, centre-cropped to
    ``image_size`` (default 224), in [0, 1].
    """
    root = Path(root)
    fmt = detect_format(root) if fmt == "auto" else fmt
    size = REFERENCE_CROP if image_size is None else image_size
    full = {role: ListFileImageSet(root, split, fmt, image_size=size) for role, split in ROLE_SPLITS.items()}
    width = _check_widths(full)
    expected = LIST_DATASETS.get(name)
    if expected is not None and expected != width:
        logger.warning("%s: label files have %d columns, the paper's %s has %d", root, width, name, expected)
    wanted = {"train": num_train, "query": num_query, "database": num_database}
    sets = {role: s.subset(subsample(len(s), wanted[role], seed, f"{name}/{role}")) for role, s in full.items()}
    info = {"dataset": name, "seed": seed, "format": fmt, "image_size": size,
            **{f"num_{role}": len(s) for role, s in sets.items()},
            **{f"{role}_from": f"{ROLE_SPLITS[role]} list ({len(full[role])} items)" for role in full}}
    return RetrievalSplits(name, sets["train"], sets["query"], sets["database"], num_classes=width,
                           image_shape=sets["query"].image_shape, class_names=_class_names(root, width),
                           protocol=info)
