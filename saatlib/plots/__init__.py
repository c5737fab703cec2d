"""Figures for the book, one module per topic.

Every function builds a fresh :class:`matplotlib.figure.Figure` (not through
``pyplot``, so nothing accumulates in a global figure list and a notebook
shows each figure once) and returns it, with titled panels and labelled axes.
Sizes default to the book's column, 7 inches wide.

- :mod:`.images`: image grids with label captions (:func:`image_grid`;
  multi-label captions as two-letter class codes with their key,
  :func:`label_captions`).
- :mod:`.retrieval`: precision-recall curves, MAP bars, retrieved examples
  (:func:`show_retrievals` for trained runs), a code's nearest database
  items, MAP spread over tie orders.
- :mod:`.codes`: code balance per bit, bit correlations, Hamming-distance
  histograms, codes drawn as rows of bits.
- :mod:`.training`: loss curves of hashing and of adversarial training.
"""
from saatlib.plots._common import BOOK_WIDTH, new_figure
from saatlib.plots.codes import bit_balance, bit_correlation, code_matrix, hamming_histogram
from saatlib.plots.images import image_grid, label_captions, label_text, short_name
from saatlib.plots.retrieval import code_neighbours, map_bars, pr_curves, retrieved_grid, show_retrievals, tie_spread
from saatlib.plots.training import defense_curves, loss_curves

__all__ = [
    "BOOK_WIDTH", "bit_balance", "bit_correlation", "code_matrix", "code_neighbours", "defense_curves",
    "hamming_histogram", "image_grid", "label_captions", "label_text", "loss_curves", "map_bars", "new_figure",
    "pr_curves", "retrieved_grid", "short_name", "show_retrievals", "tie_spread",
]
