"""Interactive explorers for the book (ipywidgets).

Each builder takes runs that are already trained and encoded
(:func:`saatlib.book.load_run`, which reads the run store), so a change of a
control only ranks cached codes and draws one figure: it answers in well
under a second on a CPU. The figure is shown in an ``ipywidgets.Image`` (PNG
bytes), so the widget's stored state carries its current picture and the
static HTML book shows it without a kernel.

- :func:`query_browser`: pick a method and a query; see its top-k retrievals.
- :func:`label_picker`: pick labels; see their mainstay code (DMFL) and the
  database items nearest to it.
"""
from __future__ import annotations

import io
from typing import Sequence

import torch

from saatlib.book import HashRun, relevant_to, top_retrievals
from saatlib.dmfl import WEIGHTINGS, mainstay_codes
from saatlib.plots import code_neighbours, retrieved_grid

FIGURE_DPI = 100


def figure_png(fig, dpi: int = FIGURE_DPI) -> bytes:
    """PNG bytes of a matplotlib figure."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return buf.getvalue()


def images_of(imageset, indices) -> torch.Tensor:
    """Images ``indices`` of an image set as one (n, C, H, W) tensor."""
    idx = torch.as_tensor(indices, dtype=torch.int64).reshape(-1)
    if hasattr(imageset, "batch"):
        return imageset.batch(idx)[0]
    return torch.stack([imageset[int(i)][0] for i in idx]) if len(idx) else torch.empty(0)


def _image_widget():
    import ipywidgets as w

    return w.Image(format="png", layout=w.Layout(width="100%", max_width="760px", height="auto"))


def query_browser(runs: dict[str, HashRun] | HashRun, k: int = 10, initial_query: int = 0,
                  class_names: Sequence[str] | None = None):
    """A method drop-down and a query slider over the top-k retrievals.

    Args:
        runs: ``{name: HashRun}`` sharing one dataset (e.g. one per method), or one run.
        k: retrievals shown.
        initial_query: query index shown first.
    Returns:
        an ``ipywidgets.VBox``; ``box.update()`` redraws, ``box.controls`` holds
        the method drop-down and the query slider.
    """
    import ipywidgets as w

    if isinstance(runs, HashRun):
        runs = {runs.config["method"]: runs}
    if not runs:
        raise ValueError("query_browser needs at least one run")
    first = next(iter(runs.values()))
    names = class_names or first.splits.class_names
    n_query = int(first.codes["query_codes"].shape[0])
    method = w.Dropdown(options=list(runs), value=next(iter(runs)), description="method")
    query = w.IntSlider(value=min(max(initial_query, 0), n_query - 1), min=0, max=n_query - 1,
                        description="query", continuous_update=False)
    picture, caption = _image_widget(), w.HTML()

    def update(*_):
        run = runs[method.value]
        q = int(query.value)
        c = run.codes
        idx, dist = top_retrievals(c["query_codes"][q:q + 1], c["db_codes"], k)
        rel = relevant_to(c["query_labels"][q:q + 1], c["db_labels"][idx])
        fig = retrieved_grid(images_of(run.splits.query, [q]), c["query_labels"][q:q + 1],
                             images_of(run.splits.database, idx[0])[None], c["db_labels"][idx],
                             dist, names, title=f"{run.label}: query {q}")
        picture.value = figure_png(fig)
        caption.value = (f"<b>{method.value}</b>, query {q}: {int(rel.sum())} of the top {idx.shape[1]} "
                         f"are relevant (precision@{idx.shape[1]} = {float(rel.float().mean()):.2f})")

    method.observe(update, names="value")
    query.observe(update, names="value")
    update()
    box = w.VBox([w.HBox([method, query]), caption, picture])
    box.update, box.controls = update, (method, query)
    return box


def label_picker(run: HashRun, k: int = 10, initial_labels: Sequence[int] = (0,),
                 weighting: str = "cosine", class_names: Sequence[str] | None = None):
    """Check boxes of labels; shows their mainstay code and its nearest database items.

    The mainstay code of the picked label vector y is computed from the
    training codes and labels of ``run`` (:func:`saatlib.dmfl.mainstay_codes`),
    then the database is ranked by Hamming distance to it.

    Returns:
        an ``ipywidgets.VBox``; ``box.update()`` redraws, ``box.controls`` holds
        the check boxes and the weighting drop-down, ``box.state`` the last code
        and its neighbours.
    """
    import ipywidgets as w

    names = list(class_names or run.splits.class_names or [str(i) for i in range(run.splits.num_classes)])
    boxes = [w.Checkbox(value=i in initial_labels, description=n, indent=False,
                        layout=w.Layout(width="auto")) for i, n in enumerate(names)]
    weight = w.Dropdown(options=list(WEIGHTINGS), value=weighting, description="weighting")
    picture, caption = _image_widget(), w.HTML()
    state: dict = {}
    c = run.codes

    def update(*_):
        y = torch.tensor([[1.0 if b.value else 0.0 for b in boxes]])
        if not y.any():
            caption.value = "Pick at least one label."
            return
        code = mainstay_codes(y, c["train_codes"], c["train_labels"], weighting=weight.value)
        idx, dist = top_retrievals(code, c["db_codes"], k)
        rel = relevant_to(y, c["db_labels"][idx])
        picked = " + ".join(n for n, b in zip(names, boxes) if b.value)
        fig = code_neighbours(code[0], images_of(run.splits.database, idx[0]), c["db_labels"][idx[0]],
                              dist[0], y[0], names, title=f"mainstay code of {picked} ({weight.value} weighting)")
        picture.value = figure_png(fig)
        caption.value = (f"mainstay code of <b>{picked}</b>: {int(rel.sum())} of its {idx.shape[1]} nearest "
                         "database items share a picked label")
        state.update(code=code[0], indices=idx[0], distances=dist[0], relevant=rel[0])

    for b in boxes:
        b.observe(update, names="value")
    weight.observe(update, names="value")
    update()
    grid = w.GridBox(boxes, layout=w.Layout(grid_template_columns="repeat(5, auto)"))
    box = w.VBox([grid, weight, caption, picture])
    box.update, box.controls, box.state = update, (boxes, weight), state
    return box
