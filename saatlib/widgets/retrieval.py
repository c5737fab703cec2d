"""Retrieval explorers of the book: ranked retrievals of a query, mainstay codes of picked labels.

Each builder takes runs that are already trained and encoded
(:func:`saatlib.experiments.load_run`, which reads the run store), so drawing a
state only ranks cached codes.

- :func:`query_browser`: pick a method and a query; see its top-k retrievals.
- :func:`label_picker`: pick one or two labels; see their mainstay code
  (DMFL) and the database items nearest to it.

Every explorer draws each state of a small grid while the chapter executes and
lets its controls switch between them in the browser
(:mod:`saatlib.widgets.precomputed`), so the static HTML book answers as a live
kernel does.
"""
from __future__ import annotations

from typing import Sequence

import ipywidgets as w
import torch

from saatlib.dmfl import WEIGHTINGS, mainstay_codes
from saatlib.experiments.retrieval import HashRun
from saatlib.metrics import relevant_to, top_retrievals
from saatlib.plots import code_neighbours, retrieved_grid
from saatlib.widgets.controls import explorer_box, figure_leaf, images_of
from saatlib.widgets.precomputed import PrecomputedExplorer


def query_browser(runs: dict[str, HashRun] | HashRun, k: int = 10, initial_query: int = 0,
                  class_names: Sequence[str] | None = None, queries: Sequence[int] | None = None):
    """A method drop-down and a query slider over the top-k retrievals.

    Every (method, query) pair is drawn in advance
    (:class:`~saatlib.widgets.precomputed.PrecomputedExplorer`), so the controls also
    answer on the static page. In a live kernel "show query" adds any other
    query to the slider.

    Args:
        runs: ``{name: HashRun}`` sharing one dataset (e.g. one per method), or one run.
        k: retrievals shown.
        initial_query: query index shown first.
        queries: query indices on the slider (default: the first 8 and ``initial_query``).
    Returns:
        an ``ipywidgets.VBox`` (:func:`~saatlib.widgets.controls.explorer_box`); ``box.controls`` holds
        the method drop-down and the query slider.
    """
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
        an ``ipywidgets.VBox`` (:func:`~saatlib.widgets.controls.explorer_box`); ``box.controls`` holds
        the weighting and the two label drop-downs, ``box.state`` the shown
        ``labels``, ``code`` and its neighbours (``indices``, ``distances``,
        ``relevant``); empty labels and no code when none is picked.
    """
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
