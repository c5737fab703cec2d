"""The book's interactive explorers (ipywidgets), answering on the static pages too.

Every explorer draws each state of a small grid while the chapter executes and
lets its controls switch between the drawings in the browser, so the static
HTML book answers as a live kernel does. The explorers only draw: what they
show is computed (or loaded) by the experiments layer (:mod:`saatlib.experiments`).

- :mod:`~saatlib.widgets.precomputed`  :class:`PrecomputedExplorer`: controls linked in the
  browser to nested stacks of outputs rendered in advance
- :mod:`~saatlib.widgets.controls`     shared pieces: pictures of figures, an output (leaf),
  the box holding controls and outputs, images of an image set
- :mod:`~saatlib.widgets.retrieval`    :func:`query_browser` (chapter 2), :func:`label_picker` (chapter 3)
- :mod:`~saatlib.widgets.attacks`      :func:`attack_explorer` over :func:`explorer_grid` (chapter 4)
- :mod:`~saatlib.widgets.defenses`     :func:`lambda_mu_explorer` over :func:`lambda_mu_grid` (chapter 5)
"""
from saatlib.widgets.attacks import (attack_explorer, explorer_figure, explorer_grid, explorer_state,
                                     perturbation_strip, retrieval_rows)
from saatlib.widgets.controls import (FIGURE_DPI, LEAF_COLORS, explorer_box, figure_image, figure_leaf, figure_png,
                                      image_widget, images_of)
from saatlib.widgets.defenses import lambda_mu_explorer, lambda_mu_figure, lambda_mu_grid
from saatlib.widgets.precomputed import PrecomputedExplorer, option_values
from saatlib.widgets.retrieval import NO_LABEL, label_picker, label_sets, query_browser

__all__ = [
    "FIGURE_DPI", "LEAF_COLORS", "NO_LABEL", "PrecomputedExplorer", "attack_explorer", "explorer_box",
    "explorer_figure", "explorer_grid", "explorer_state", "figure_image", "figure_leaf", "figure_png",
    "image_widget", "images_of", "label_picker", "label_sets", "lambda_mu_explorer", "lambda_mu_figure",
    "lambda_mu_grid", "option_values", "perturbation_strip", "query_browser", "retrieval_rows",
]
