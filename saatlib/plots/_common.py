"""Shared pieces of the plotting modules: figures, colours, tensor conversion."""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

BOOK_WIDTH = 7.0  # inches: the book's text column
RELEVANT = "#2ca02c"
IRRELEVANT = "#d62728"
QUERY = "#1f77b4"


def new_figure(height: float, width: float = BOOK_WIDTH, layout: str | None = "constrained") -> Figure:
    """A fresh figure (not registered with pyplot)."""
    return Figure(figsize=(width, height), layout=layout)


def to_numpy(x) -> np.ndarray:
    """Tensor, array or list -> numpy array (on CPU, detached)."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def as_panels(data) -> dict:
    """``{panel: {name: value}}`` from either that or a flat ``{name: value}``."""
    if data and all(isinstance(v, dict) for v in data.values()):
        return dict(data)
    return {"": dict(data)}


def frame(ax, color: str, width: float = 3.0) -> None:
    """Draw a coloured frame around an image axes (and hide its ticks)."""
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(True)
        spine.set_edgecolor(color)
        spine.set_linewidth(width)
