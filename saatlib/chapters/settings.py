"""A chapter's first cell: profile, device, seeds, logs and the book's figure style;
and how its tables show missing values.

A chapter's first code cell after its ``parameters`` cell calls :func:`setup`.
"""
from __future__ import annotations

import logging
import random

import matplotlib as mpl
import numpy as np
import seaborn as sns
import torch

from saatlib.plots import BOOK_WIDTH
from saatlib.profiles import get_profile

try:  # figures built with matplotlib.figure.Figure display as PNG in a kernel
    from IPython import get_ipython
    from matplotlib_inline.backend_inline import set_matplotlib_formats
except ImportError:  # pragma: no cover - outside Jupyter
    get_ipython = None

#: How a table of the book shows a value that does not exist (e.g. a paper
#: value the paper does not report), instead of pandas' "NaN".
MISSING = "–"


def setup(profile: str = "default", device: str = "cpu", seed: int = 0) -> dict:
    """First cell of a chapter: check the parameters, quiet the logs, seed the
    RNGs and size matplotlib figures for the book's column.

    Returns:
        the profile's settings (:func:`saatlib.profiles.get_profile`), e.g.
        ``prof["eval"]["topk"]``.
    Raises:
        ValueError: unknown profile or device.
    """
    prof = get_profile(profile)
    try:
        torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"unknown device {device!r}: use 'cpu', 'cuda' or 'cuda:N'") from err
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} asked for, but CUDA is not available here; use device='cpu'")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("saatlib").setLevel(logging.WARNING)
    random.seed(seed)
    torch.manual_seed(seed)
    np.random.seed(seed)
    style_figures()
    return prof


def style_figures() -> None:
    """The book's matplotlib style: seaborn's white grid, figures the width of the
    text column (:data:`saatlib.plots.BOOK_WIDTH`), small fonts; PNG output in a kernel."""
    sns.set_theme(style="whitegrid", context="notebook")
    mpl.rcParams.update({
        "figure.figsize": (BOOK_WIDTH, 3.0),
        "figure.dpi": 110,
        "savefig.dpi": 110,
        "font.size": 9,
        "axes.titlesize": 10,
        "axes.labelsize": 9,
        "xtick.labelsize": 8,
        "ytick.labelsize": 8,
        "legend.fontsize": 8,
        "figure.titlesize": 11,
    })
    if get_ipython is not None and get_ipython() is not None:
        set_matplotlib_formats("png")


def dash_missing(table, digits: int | None = 2):
    """``table`` (a pandas DataFrame) for display: numbers rounded to ``digits``
    (None: as they are), missing values (NaN, None) shown as :data:`MISSING`.

    Returns a new DataFrame of objects; the argument is not changed.
    """
    shown = table.round(digits) if digits is not None else table.copy()
    return shown.astype(object).where(shown.notna(), MISSING)
