"""Datasets and the retrieval protocol.

Every image set yields ``(x, y, i)``: ``x`` float32 (C, H, W) in [0, 1] (no
normalisation), ``y`` float32 multi-hot (num_classes,), ``i`` the item's index.

- :func:`load_splits` -> :class:`RetrievalSplits` (train / query / database)
  for ``"fashion-mnist"``, ``"fashion-mnist-mosaics"``, the paper's list-file
  benchmarks and any ``"listfile"`` folder; :func:`dataset_names` lists them.
- :class:`ImageSet`, :class:`InMemoryImageSet`, :class:`ListFileImageSet`.
- :func:`make_protocol`: disjoint query / database, training inside the database.
- :func:`make_mosaics`: multi-label 2x2 garment mosaics.
- :func:`data_loader`: deterministic batches ``(x, y, idx)``.

Where the data live and how to add a benchmark: ``data/README.md``.
"""
from saatlib.data.embedded import fashion_mnist_splits, mosaic_splits
from saatlib.data.errors import DataError, MissingDataError
from saatlib.data.fashion_mnist import CLASS_NAMES as FASHION_MNIST_CLASSES
from saatlib.data.imagesets import ImageSet, SubsetImageSet
from saatlib.data.inmemory import InMemoryImageSet
from saatlib.data.listfile import detect_format, read_split
from saatlib.data.listfile_imageset import ListFileImageSet
from saatlib.data.listfile_splits import listfile_splits
from saatlib.data.loader import BatchLoader, data_loader
from saatlib.data.mosaics import Mosaics, make_mosaics
from saatlib.data.protocol import Protocol, make_protocol
from saatlib.data.registry import dataset_names, load_splits
from saatlib.data.splits import RetrievalSplits
from saatlib.data.transforms import reference_transform

__all__ = [
    "BatchLoader", "DataError", "FASHION_MNIST_CLASSES", "ImageSet", "InMemoryImageSet",
    "ListFileImageSet", "MissingDataError", "Mosaics", "Protocol", "RetrievalSplits",
    "SubsetImageSet", "data_loader", "dataset_names", "detect_format", "fashion_mnist_splits",
    "listfile_splits", "load_splits", "make_mosaics", "make_protocol", "mosaic_splits",
    "read_split", "reference_transform",
]
