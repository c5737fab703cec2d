"""The pieces every explorer of the book shares: pictures of figures, precomputed
outputs (leaves) and the box that holds the controls above them.

Figures are shown in ``ipywidgets.Image`` widgets (PNG bytes), so the stored
widget state carries every picture.
"""
from __future__ import annotations

import io

import ipywidgets as w
import torch
from matplotlib import pyplot as plt
from PIL import Image

FIGURE_DPI = 100

#: colours of the palette PNGs of precomputed outputs: about 2.5x smaller than
#: full-colour PNGs of the same figures, with no visible change (grey images,
#: a few frame and text colours)
LEAF_COLORS = 256


def figure_png(fig, dpi: int = FIGURE_DPI, colors: int | None = None) -> bytes:
    """PNG bytes of a matplotlib figure; with ``colors``, a palette PNG of that many colours.

    The book's figures lay themselves out (constrained layout, :func:`saatlib.plots._common.new_figure`),
    so the whole figure is saved as drawn, without ``bbox_inches="tight"``'s second drawing pass (a
    quarter of an explorer's drawing time)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    if colors is None:
        return buf.getvalue()
    out = io.BytesIO()
    Image.open(buf).convert("RGB").quantize(colors=colors).save(out, format="PNG", optimize=True)
    return out.getvalue()


def images_of(imageset, indices) -> torch.Tensor:
    """Images ``indices`` of an image set as one (n, C, H, W) tensor."""
    idx = torch.as_tensor(indices, dtype=torch.int64).reshape(-1)
    if hasattr(imageset, "batch"):
        return imageset.batch(idx)[0]
    return torch.stack([imageset[int(i)][0] for i in idx]) if len(idx) else torch.empty(0)


def image_widget() -> w.Image:
    """An empty ``ipywidgets.Image`` (PNG) as wide as the book's column at most."""
    return w.Image(format="png", layout=w.Layout(width="100%", max_width="760px", height="auto"))


def figure_image(fig) -> w.Image:
    """An ``ipywidgets.Image`` of a matplotlib figure (palette PNG, :data:`LEAF_COLORS`); closes the figure."""
    picture = image_widget()
    picture.value = figure_png(fig, colors=LEAF_COLORS)
    plt.close(fig)
    return picture


def figure_leaf(caption: str, *figures, state: dict | None = None) -> w.VBox:
    """One precomputed output of an explorer: a caption (HTML) above pictures of ``figures``.

    ``figures`` are matplotlib figures (drawn by :func:`figure_image`) or
    ready widgets (e.g. a picture shared by several outputs); ``state`` (what
    the output shows, for code and tests) rides along as ``leaf.state``.
    """
    pictures = [f if isinstance(f, w.Widget) else figure_image(f) for f in figures]
    leaf = w.VBox([w.HTML(caption), *pictures])
    leaf.state = dict(state or {})
    return leaf


def explorer_box(explorer, rows, extra=()) -> w.VBox:
    """The VBox a builder returns: control ``rows`` above ``explorer.view``, then ``extra``.

    ``box.explorer`` is the :class:`~saatlib.widgets.precomputed.PrecomputedExplorer`,
    ``box.controls`` its controls, ``box.shown()`` the output on view and
    ``box.state`` that output's state (kept in step with the controls).
    """
    box = w.VBox([*rows, explorer.view, *extra])
    box.add_class("saat-explorer")  # handles for the browser tests and the book's CSS
    explorer.view.add_class("saat-explorer-output")
    box.explorer, box.controls, box.shown = explorer, tuple(explorer.controls), explorer.shown
    box.state = {}

    def sync(*_):
        if explorer.quiet:
            return
        box.state.clear()
        box.state.update(getattr(explorer.shown(), "state", {}))

    for c in explorer.controls:
        c.observe(sync, names="index")
    explorer.on_rebuild = sync
    sync()
    return box
