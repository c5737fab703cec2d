"""The three roles of a retrieval experiment, bundled: :class:`RetrievalSplits`."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from saatlib.data.imagesets import ImageSet


@dataclass
class RetrievalSplits:
    """Query, database and training sets of one dataset under one protocol.

    Attributes:
        name: dataset name as given to :func:`~saatlib.data.load_splits`.
        train: training set (for the embedded data, a subset of the database).
        query: query (test) set, disjoint from the database.
        database: retrieval set.
        num_classes: label width shared by all three sets.
        image_shape: (C, H, W) of every image.
        class_names: a name per label column, or None when unknown.
        protocol: JSON-friendly description: sizes, seed, where each role was
            drawn from. Equal dicts mean equal splits (same data files).
    """

    name: str
    train: ImageSet
    query: ImageSet
    database: ImageSet
    num_classes: int
    image_shape: tuple[int, int, int]
    class_names: list[str] | None = None
    protocol: dict[str, Any] = field(default_factory=dict)

    @property
    def multi_label(self) -> bool:
        """True when some item of some role carries more than one label."""
        return any(bool((s.labels.sum(dim=1) > 1).any()) for s in (self.train, self.query, self.database))

    def sizes(self) -> dict[str, int]:
        """Number of items per role."""
        return {"train": len(self.train), "query": len(self.query), "database": len(self.database)}

    def __repr__(self) -> str:
        return (f"RetrievalSplits({self.name!r}, {self.sizes()}, num_classes={self.num_classes}, "
                f"image_shape={self.image_shape})")
