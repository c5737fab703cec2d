"""Retrieval splits of the data that fit a CPU: Fashion-MNIST and its mosaics.

Both draw their query side from the official Fashion-MNIST test part (10,000
images) and their database side from the rest, so a query garment image never
appears in the database, and training items are a subset of the database.

Default sizes (when an argument is None):

- ``fashion-mnist``: 1,000 queries from the test part; database = all the
  other 69,000 images; 5,000 training images drawn from the database
  (the shape of the paper's CIFAR-10 protocol: 1,000 / 54,000 / 5,000).
- ``fashion-mnist-mosaics``: 1,000 query mosaics; 24,000 database mosaics
  (60,000 source garments / 2.5 garments per mosaic: each source garment used
  about once); 5,000 training mosaics drawn from the database.
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from saatlib.data import fashion_mnist as fm
from saatlib.data.inmemory import InMemoryImageSet
from saatlib.data.mosaics import make_mosaics
from saatlib.data.protocol import DEFAULT_NUM_QUERY, DEFAULT_NUM_TRAIN, check_size, make_protocol, positive_int
from saatlib.data.rng import torch_generator
from saatlib.data.splits import RetrievalSplits

#: Database mosaics drawn when ``num_database`` is None.
DEFAULT_NUM_DATABASE_MOSAICS = 24000


def fashion_mnist_splits(num_query: int | None = None, num_database: int | None = None,
                         num_train: int | None = None, seed: int = 0, image_size: int | None = None,
                         data_dir: str | Path | None = None, download: bool = True) -> RetrievalSplits:
    """Single-label Fashion-MNIST: (1, 28, 28) images (or image_size), one-hot labels over 10 classes."""
    pool = fm.load_pool(data_dir, download)
    num_items = pool.classes.shape[0]
    proto = make_protocol(num_items, num_query, num_database, num_train, seed,
                          query_pool=torch.arange(pool.num_train_part, num_items))
    labels = F.one_hot(pool.classes, len(fm.CLASS_NAMES)).to(torch.float32)
    sets = {role: InMemoryImageSet(pool.images[idx], labels[idx], image_size=image_size, source_ids=idx)
            for role, idx in proto._asdict().items()}
    info = {"dataset": "fashion-mnist", "seed": seed, "num_query": len(proto.query),
            "num_database": len(proto.database), "num_train": len(proto.train),
            "query_from": "official test part", "database_from": "all images that are not queries",
            "train_from": "database", "image_size": image_size}
    return RetrievalSplits("fashion-mnist", sets["train"], sets["query"], sets["database"],
                           num_classes=len(fm.CLASS_NAMES), image_shape=sets["query"].image_shape,
                           class_names=list(fm.CLASS_NAMES), protocol=info)


def mosaic_splits(num_query: int | None = None, num_database: int | None = None,
                  num_train: int | None = None, seed: int = 0, image_size: int | None = None,
                  data_dir: str | Path | None = None, download: bool = True) -> RetrievalSplits:
    """Multi-label 2x2 Fashion-MNIST mosaics: (1, 56, 56) images (or image_size), multi-hot labels.

    Query mosaics are tiled only from the test part, database mosaics only from
    the training part; ``source_ids`` (N, 4) of each set holds the pool index
    of every tile's garment (-1 for an empty tile).
    """
    pool = fm.load_pool(data_dir, download)
    num_query = DEFAULT_NUM_QUERY if num_query is None else positive_int("num_query", num_query)
    num_database = (DEFAULT_NUM_DATABASE_MOSAICS if num_database is None
                    else positive_int("num_database", num_database))
    num_train = check_size("num_train", min(DEFAULT_NUM_TRAIN, num_database) if num_train is None else num_train,
                           num_database, "database mosaics can be drawn for training")
    pools = {"query": torch.arange(pool.num_train_part, pool.classes.shape[0]),
             "database": torch.arange(pool.num_train_part)}
    sets = {}
    for role, count in (("query", num_query), ("database", num_database)):
        src = pools[role]
        mos = make_mosaics(pool.images[src], pool.classes[src], count,
                           torch_generator(seed, "mosaics", role), num_classes=len(fm.CLASS_NAMES))
        ids = torch.where(mos.tile_sources >= 0, src[mos.tile_sources.clamp(min=0)], -1)
        sets[role] = InMemoryImageSet(mos.images, mos.labels, image_size=image_size, source_ids=ids)
    train_idx = torch.randperm(num_database, generator=torch_generator(seed, "mosaics", "train"))[:num_train]
    sets["train"] = sets["database"].subset(train_idx.sort().values)
    info = {"dataset": "fashion-mnist-mosaics", "seed": seed, "num_query": num_query,
            "num_database": num_database, "num_train": num_train, "grid": "2x2", "garments": "1-4",
            "query_from": "mosaics of official test-part garments",
            "database_from": "mosaics of official training-part garments", "train_from": "database",
            "image_size": image_size}
    return RetrievalSplits("fashion-mnist-mosaics", sets["train"], sets["query"], sets["database"],
                           num_classes=len(fm.CLASS_NAMES), image_shape=sets["query"].image_shape,
                           class_names=list(fm.CLASS_NAMES), protocol=info)
