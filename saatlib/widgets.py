"""Interactive explorers for the book (ipywidgets).

Each builder takes runs that are already trained and encoded
(:func:`saatlib.book.load_run`, which reads the run store), so drawing a
state only ranks cached codes. Figures are shown in ``ipywidgets.Image``
widgets (PNG bytes), so the stored widget state carries every picture.

- :func:`query_browser`: pick a method and a query; see its top-k retrievals.
- :func:`label_picker`: pick one or two labels; see their mainstay code
  (DMFL) and the database items nearest to it.

Every explorer draws each state of a small grid while the chapter executes and
lets its controls switch between them in the browser
(:mod:`saatlib.precomputed`), so the static HTML book answers as a live kernel
does.
"""
from __future__ import annotations

import io
from typing import Sequence

import torch

from saatlib.book import HashRun, relevant_to, top_retrievals
from saatlib.dmfl import WEIGHTINGS, mainstay_codes
from saatlib.plots import code_neighbours, retrieved_grid

FIGURE_DPI = 100


#: colours of the palette PNGs of precomputed outputs: about 2.5x smaller than
#: full-colour PNGs of the same figures, with no visible change (grey images,
#: a few frame and text colours)
LEAF_COLORS = 256


def figure_png(fig, dpi: int = FIGURE_DPI, colors: int | None = None) -> bytes:
    """PNG bytes of a matplotlib figure; with ``colors``, a palette PNG of that many colours."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    if colors is None:
        return buf.getvalue()
    from PIL import Image

    out = io.BytesIO()
    Image.open(buf).convert("RGB").quantize(colors=colors).save(out, format="PNG", optimize=True)
    return out.getvalue()


def images_of(imageset, indices) -> torch.Tensor:
    """Images ``indices`` of an image set as one (n, C, H, W) tensor."""
    idx = torch.as_tensor(indices, dtype=torch.int64).reshape(-1)
    if hasattr(imageset, "batch"):
        return imageset.batch(idx)[0]
    return torch.stack([imageset[int(i)][0] for i in idx]) if len(idx) else torch.empty(0)


def _image_widget():
    import ipywidgets as w

    return w.Image(format="png", layout=w.Layout(width="100%", max_width="760px", height="auto"))


def figure_image(fig):
    """An ``ipywidgets.Image`` of a matplotlib figure (palette PNG, :data:`LEAF_COLORS`); closes the figure."""
    from matplotlib import pyplot as plt

    picture = _image_widget()
    picture.value = figure_png(fig, colors=LEAF_COLORS)
    plt.close(fig)
    return picture


def figure_leaf(caption: str, *figures, state: dict | None = None):
    """One precomputed output of an explorer: a caption (HTML) above pictures of ``figures``.

    ``figures`` are matplotlib figures (drawn by :func:`figure_image`) or
    ready widgets (e.g. a picture shared by several outputs); ``state`` (what
    the output shows, for code and tests) rides along as ``leaf.state``.
    """
    import ipywidgets as w

    pictures = [f if isinstance(f, w.Widget) else figure_image(f) for f in figures]
    leaf = w.VBox([w.HTML(caption), *pictures])
    leaf.state = dict(state or {})
    return leaf


def explorer_box(explorer, rows, extra=()):
    """The VBox a builder returns: control ``rows`` above ``explorer.view``, then ``extra``.

    ``box.explorer`` is the :class:`~saatlib.precomputed.PrecomputedExplorer`,
    ``box.controls`` its controls, ``box.shown()`` the output on view and
    ``box.state`` that output's state (kept in step with the controls).
    """
    import ipywidgets as w

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


def query_browser(runs: dict[str, HashRun] | HashRun, k: int = 10, initial_query: int = 0,
                  class_names: Sequence[str] | None = None, queries: Sequence[int] | None = None):
    """A method drop-down and a query slider over the top-k retrievals.

    Every (method, query) pair is drawn in advance
    (:class:`~saatlib.precomputed.PrecomputedExplorer`), so the controls also
    answer on the static page. In a live kernel "show query" adds any other
    query to the slider.

    Args:
        runs: ``{name: HashRun}`` sharing one dataset (e.g. one per method), or one run.
        k: retrievals shown.
        initial_query: query index shown first.
        queries: query indices on the slider (default: the first 8 and ``initial_query``).
    Returns:
        an ``ipywidgets.VBox`` (:func:`explorer_box`); ``box.controls`` holds
        the method drop-down and the query slider.
    """
    import ipywidgets as w

    from saatlib.precomputed import PrecomputedExplorer

    if isinstance(runs, HashRun):
        runs = {runs.config["method"]: runs}
    if not runs:
        raise ValueError("query_browser needs at least one run")
    first = next(iter(runs.values()))
    names = class_names or first.splits.class_names
    n_query = int(first.codes["query_codes"].shape[0])
    initial_query = min(max(initial_query, 0), n_query - 1)
    queries = sorted({int(q) for q in (range(min(8, n_query)) if queries is None else queries)} | {initial_query})
    if any(not 0 <= q < n_query for q in queries):
        raise ValueError(f"queries must lie in 0..{n_query - 1}, got {queries}")
    method = w.Dropdown(options=list(runs), value=next(iter(runs)), description="method")
    query = w.SelectionSlider(options=[(str(q), q) for q in queries], value=initial_query,
                              description="query", continuous_update=False)

    def render(name, q):
        run = runs[name]
        c = run.codes
        idx, dist = top_retrievals(c["query_codes"][q:q + 1], c["db_codes"], k)
        rel = relevant_to(c["query_labels"][q:q + 1], c["db_labels"][idx])
        fig = retrieved_grid(images_of(run.splits.query, [q]), c["query_labels"][q:q + 1],
                             images_of(run.splits.database, idx[0])[None], c["db_labels"][idx],
                             dist, names, title=f"{run.label}: query {q}")
        caption = (f"<b>{name}</b>, query {q}: {int(rel.sum())} of the top {idx.shape[1]} "
                   f"are relevant (precision@{idx.shape[1]} = {float(rel.float().mean()):.2f})")
        return figure_leaf(caption, fig, state={"method": name, "query": q, "indices": idx[0], "relevant": rel[0]})

    explorer = PrecomputedExplorer([method, query], render)
    other = w.BoundedIntText(value=initial_query, min=0, max=n_query - 1, description="any query",
                             layout=w.Layout(width="180px"))
    show = w.Button(description="show query", tooltip="needs a live kernel (make lab)")
    show.on_click(lambda _: explorer.add_option(1, str(int(other.value)), int(other.value)))
    live = w.HBox([other, show, w.HTML(f"<small>any of the {n_query} queries, in a live kernel "
                                       "(<code>make lab</code>)</small>")])
    return explorer_box(explorer, [w.HBox([method, query])], [live])


NO_LABEL = "(none)"


def label_sets(num_classes: int) -> list[tuple[int, ...]]:
    """The label sets :func:`label_picker` draws: none, each label, each pair (sorted)."""
    singles = [(i,) for i in range(num_classes)]
    pairs = [(i, j) for i in range(num_classes) for j in range(i + 1, num_classes)]
    return [(), *singles, *pairs]


def label_picker(run: HashRun, k: int = 10, initial_labels: Sequence[int] = (0,),
                 weighting: str = "cosine", class_names: Sequence[str] | None = None,
                 weightings: Sequence[str] | None = None):
    """Two label drop-downs; shows the mainstay code of the picked labels and its nearest database items.

    The mainstay code of the picked label vector y is computed from the
    training codes and labels of ``run`` (:func:`saatlib.dmfl.mainstay_codes`),
    then the database is ranked by Hamming distance to it. Every label set of
    at most two labels (:func:`label_sets`) is drawn in advance for each
    weighting, so the page answers without a kernel. With no label picked the
    output says so (and shows no figure): there is no mainstay code of an
    empty label set.

    Args:
        initial_labels: up to two labels shown first.
        weightings: weightings offered (default: :data:`saatlib.dmfl.WEIGHTINGS`).
    Returns:
        an ``ipywidgets.VBox`` (:func:`explorer_box`); ``box.controls`` holds
        the weighting and the two label drop-downs, ``box.state`` the shown
        ``labels``, ``code`` and its neighbours (``indices``, ``distances``,
        ``relevant``); empty labels and no code when none is picked.
    """
    import ipywidgets as w

    from saatlib.precomputed import PrecomputedExplorer

    names = list(class_names or run.splits.class_names or [str(i) for i in range(run.splits.num_classes)])
    initial = sorted({int(i) for i in initial_labels})
    if len(initial) > 2 or any(not 0 <= i < len(names) for i in initial):
        raise ValueError(f"initial_labels: at most two of 0..{len(names) - 1}, got {list(initial_labels)}")
    weightings = list(weightings or WEIGHTINGS)
    if weighting not in weightings:
        raise ValueError(f"weighting {weighting!r} is not among {weightings}")
    options = [(NO_LABEL, -1)] + [(n, i) for i, n in enumerate(names)]
    initial = initial + [-1] * (2 - len(initial))
    weight = w.Dropdown(options=weightings, value=weighting, description="weighting")
    first = w.Dropdown(options=options, value=initial[0], description="label")
    second = w.Dropdown(options=options, value=initial[1], description="and")
    c = run.codes

    def picked(_, a, b):
        return tuple(sorted({a, b} - {-1}))

    def render(wt, a, b):
        labels = picked(wt, a, b)
        if not labels:
            return figure_leaf("<b>No label picked.</b> Pick at least one label to see its mainstay code "
                               "(an empty label set has none).", state={"labels": ()})
        y = torch.zeros(1, len(names))
        y[0, list(labels)] = 1.0
        code = mainstay_codes(y, c["train_codes"], c["train_labels"], weighting=wt)
        idx, dist = top_retrievals(code, c["db_codes"], k)
        rel = relevant_to(y, c["db_labels"][idx])
        text = " + ".join(names[i] for i in labels)
        fig = code_neighbours(code[0], images_of(run.splits.database, idx[0]), c["db_labels"][idx[0]],
                              dist[0], y[0], names, title=f"mainstay code of {text} ({wt} weighting)")
        caption = (f"mainstay code of <b>{text}</b> ({wt} weighting): {int(rel.sum())} of its "
                   f"{idx.shape[1]} nearest database items share a picked label")
        return figure_leaf(caption, fig, state={"labels": labels, "code": code[0], "indices": idx[0],
                                                "distances": dist[0], "relevant": rel[0]})

    def key(wt, a, b):
        labels = picked(wt, a, b)
        return (wt, labels) if labels else ()

    explorer = PrecomputedExplorer([weight, first, second], render, key)
    return explorer_box(explorer, [w.HBox([first, second]), weight])
