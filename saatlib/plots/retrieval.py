"""Retrieval figures: precision-recall curves, MAP bars, retrieved examples, tie spread."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import torch
from matplotlib.colors import ListedColormap

from saatlib.metrics import top_retrievals
from saatlib.plots._common import IRRELEVANT, QUERY, RELEVANT, as_panels, new_figure, to_numpy
from saatlib.plots.images import (chars_per_line, class_codes, class_key, label_text, line_height, show_image,
                                  wrap_caption)


def pr_curves(curves: dict, title: str | None = "Precision-recall by Hamming radius", height: float = 3.4):
    """Precision against recall, one line per method, one panel per dataset.

    Args:
        curves: ``{method: (precision, recall)}`` for one panel, or
            ``{dataset: {method: (precision, recall)}}`` for one panel each;
            precision and recall are sequences indexed by Hamming radius 0..K
            (:func:`saatlib.metrics.precision_recall_curve`).
    One legend under the panels (the same names in each panel get the same colour,
    in the order of the first panel), so no legend covers a curve.
    """
    panels = as_panels(curves)
    fig = new_figure(height)
    axes = np.atleast_1d(fig.subplots(1, len(panels), sharey=True))
    colours: dict = {}
    for ax, (panel, lines) in zip(axes, panels.items()):
        for name, (precision, recall) in lines.items():
            p, r = to_numpy(precision), to_numpy(recall)
            ax.plot(r, p, marker=".", ms=3, lw=1.2, label=name, color=colours.setdefault(name, f"C{len(colours)}"))
        ax.set_xlabel("recall")
        ax.set_xlim(0, 1.02)
        ax.set_ylim(0, 1.02)
        if panel:
            ax.set_title(panel)
    entries: dict = {}  # one legend under the panels: it never covers a curve
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            entries.setdefault(label, handle)
    if entries:
        fig.legend(list(entries.values()), list(entries), loc="outside lower center", ncols=min(len(entries), 6))
    axes[0].set_ylabel("precision")
    if title:
        fig.suptitle(title)
    return fig


def map_bars(table, title: str | None = "MAP by method", ylabel: str = "MAP", height: float = 3.0,
             annotate: bool = True, fmt: str = "{:.2f}"):
    """Grouped bars: one group per method, one bar per column (e.g. dataset).

    Args:
        table: a pandas DataFrame (rows: methods, columns: groups such as
            datasets) or ``{column: {method: value}}``. Missing values draw no bar.
        fmt: format of the value labels (``"{:.0f}"`` for values in %).

    The legend sits under the axes (it never covers bars). Value labels are
    written horizontally at 8 pt where they fit the bar's width, upright
    (rotated) only where they do not.
    """
    df = table if isinstance(table, pd.DataFrame) else pd.DataFrame(table)
    fig = new_figure(height)
    ax = fig.subplots()
    n_rows, n_cols = df.shape
    width = 0.8 / max(n_cols, 1)
    x = np.arange(n_rows)
    fontsize = 8.0
    bar_inches = (fig.get_figwidth() - 0.8) * width / max(n_rows, 1)
    values = df.to_numpy(dtype=float)
    chars = max((len(fmt.format(v)) for v in values.ravel() if not np.isnan(v)), default=4)
    label_inches = chars * fontsize * 0.62 / 72  # the widest label, e.g. "0.24"
    upright = label_inches > bar_inches * 1.05
    for j, col in enumerate(df.columns):
        vals = df[col].to_numpy(dtype=float)
        bars = ax.bar(x + (j - (n_cols - 1) / 2) * width, vals, width=width * 0.95, label=str(col))
        if annotate:
            ax.bar_label(bars, labels=["" if np.isnan(v) else fmt.format(v) for v in vals],
                         fontsize=fontsize if not upright else 7, padding=2, rotation=90 if upright else 0)
    ax.set_xticks(x)
    ax.set_xticklabels([str(i) for i in df.index], fontsize=9.5)
    ax.set_xlabel(df.index.name or "method")
    ax.set_ylabel(ylabel)
    top = np.nanmax(df.to_numpy(dtype=float)) if df.size and not df.isna().all().all() else 1.0
    ax.set_ylim(0, max(1.0, float(top)) * (1.22 if upright else 1.1))
    if n_cols > 1:
        fig.legend(loc="outside lower center", ncols=min(n_cols, 3 if n_cols > 4 else n_cols), fontsize=9)
    if title:
        ax.set_title(title)
    return fig


def retrieved_grid(query_images, query_labels, retrieved_images, retrieved_labels, distances=None,
                   class_names: Sequence[str] | None = None, row_titles: Sequence[str] | None = None,
                   title: str | None = None, width: float = 7.0):
    """Queries and their top-k retrievals, one row per query.

    The query (blue frame, its labels above) is followed by its k nearest
    database items in Hamming ranking order, framed green when relevant
    (sharing a label with the query) and red when not, with their Hamming
    distance and labels underneath.

    Args:
        query_images: (Q, C, H, W) in [0, 1]; query_labels: (Q, L) multi-hot.
        retrieved_images: (Q, k, C, H, W); retrieved_labels: (Q, k, L).
        distances: (Q, k) Hamming distances, or None.
        row_titles: Q strings shown left of each row (e.g. the method).
    """
    qi, ql = to_numpy(query_images), to_numpy(query_labels)
    ri, rl = to_numpy(retrieved_images), to_numpy(retrieved_labels)
    if ri.ndim != 5 or rl.ndim != 3 or ri.shape[:2] != rl.shape[:2] or len(qi) != len(ri):
        raise ValueError("retrieved_images must be (Q, k, C, H, W) and retrieved_labels (Q, k, L), "
                         f"got {ri.shape} and {rl.shape} for {len(qi)} queries")
    d = None if distances is None else to_numpy(distances)
    nq, k = rl.shape[:2]
    relevant = (ql[:, None, :] * rl).sum(-1) > 0
    ncols = k + 1
    cell = width / (ncols + 0.3)
    fs_top, fs_below = 8.0, 8.0  # readable at the book's width
    # multi-label captions: two-letter class codes and a key in the title, not several lines of names
    multi = class_names is not None and max((ql > 0).sum(-1).max(), (rl > 0).sum(-1).max()) > 1
    names = class_codes(class_names) if multi else class_names
    sep = " " if multi else "+"

    def caption(label) -> str:
        return label_text(label, names, short=not multi, sep=sep)

    # multi-label codes wrap two to a line, leaving a gap between the captions of neighbouring items
    width_in = cell * (0.85 if multi else 1.05)
    wrap_top, wrap_below = chars_per_line(width_in, fs_top), chars_per_line(width_in, fs_below)
    tops = [wrap_caption("query\n" + caption(ql[q]), wrap_top, sep=sep) for q in range(nq)]
    below = [[wrap_caption(caption(rl[q, j]), wrap_below, sep=sep) for j in range(k)] for q in range(nq)]
    n_top = max(max(t.count("\n") + 1 for t in tops), 2 if d is not None else 1)
    n_below = max(b.count("\n") + 1 for row in below for b in row)
    row = cell * 0.95 + n_top * line_height(fs_top) + n_below * line_height(fs_below) + 0.1
    head = (title + "\n" if title else "") + "frame: blue = query, green = relevant (shares a label), red = not relevant"
    if multi:
        head += "\n" + class_key(class_names, names)
    fig = new_figure(height=nq * row + 0.2 + 0.17 * (head.count("\n") + 1), width=width)
    grid = fig.add_gridspec(nq, ncols + 1, width_ratios=[0.3] + [1.0] * ncols)
    for q in range(nq):
        label_ax = fig.add_subplot(grid[q, 0])
        label_ax.set_axis_off()
        if row_titles is not None:
            label_ax.text(0.5, 0.5, row_titles[q], rotation=90, ha="center", va="center", fontsize=9,
                          transform=label_ax.transAxes)
        ax = fig.add_subplot(grid[q, 1])
        show_image(ax, qi[q], border=QUERY)
        ax.set_title(tops[q], fontsize=fs_top, pad=2)
        for j in range(k):
            ax = fig.add_subplot(grid[q, j + 2])
            show_image(ax, ri[q, j], border=RELEVANT if relevant[q, j] else IRRELEVANT)
            ax.set_xlabel(below[q][j], fontsize=fs_below, labelpad=1)
            rank = f"#{j + 1}" if q == 0 else ""
            dist = f"d={int(d[q, j])}" if d is not None else ""
            ax.set_title("\n".join(t for t in (rank, dist) if t), fontsize=fs_top, pad=2)
    fig.suptitle(head, fontsize=9)
    return fig


def tie_spread(stable_maps, expected: float, index_order: float | None = None, title: str | None = None,
               xlabel: str = "MAP (stable order of a permuted database)", height: float = 2.4):
    """How MAP moves with the order of tied items.

    Args:
        stable_maps: MAP values, each with ties broken by a different random
            order (e.g. stable MAP of a randomly permuted database).
        expected: the tie-aware MAP (expectation over all tie orders).
        index_order: the stable MAP in the database's own index order.
    """
    vals = to_numpy(stable_maps).astype(float)
    fig = new_figure(height)
    ax = fig.subplots()
    bins = min(20, max(5, len(vals) // 2))
    ax.hist(vals, bins=bins, color="#9bb8d8", edgecolor="white", label=f"{len(vals)} random tie orders")
    ax.axvline(expected, color="k", lw=1.5, label=f"tie-aware (expected) = {expected:.4f}")
    if index_order is not None:
        ax.axvline(index_order, color=IRRELEVANT, lw=1.2, ls="--", label=f"index order = {index_order:.4f}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("number of orders")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title(title or f"MAP ranges over [{vals.min():.4f}, {vals.max():.4f}] with the tie order")
    return fig


def code_neighbours(code, images, labels, distances, picked, class_names: Sequence[str] | None = None,
                    title: str | None = None, width: float = 7.0, ncols: int = 5):
    """A code drawn as a strip of bits above its nearest database items.

    The items are drawn ``ncols`` to a row (large enough to see the garments),
    the Hamming distance above each and its labels below at 8 pt; multi-label
    captions use two-letter class codes with a key under the figure's title.

    Args:
        code: (K,) code in {-1, 1} (e.g. the mainstay code of the picked labels).
        images: (k, C, H, W) nearest database images; labels: (k, L); distances: (k,).
        picked: (L,) multi-hot labels that define relevance (green / red frames).
    """
    c = to_numpy(code).reshape(1, -1)
    imgs, labs, d = to_numpy(images), to_numpy(labels), to_numpy(distances)
    k = len(imgs)
    relevant = (labs * to_numpy(picked)[None, :]).sum(-1) > 0
    ncols = max(1, min(ncols, k))
    nrows = -(-k // ncols) if k else 1
    fs = 8.0
    multi = class_names is not None and k > 0 and (labs > 0).sum(-1).max() > 1
    names = class_codes(class_names) if multi else class_names
    sep = " " if multi else "+"
    cell = width / (ncols + 0.6)
    captions = [wrap_caption(label_text(labs[j], names, short=not multi, sep=sep), chars_per_line(cell, fs), sep=sep)
                for j in range(k)]
    lines = max((t.count("\n") + 1 for t in captions), default=1)
    row = cell * 0.9 + (lines + 1) * line_height(fs) + 0.08
    head = title or "code"
    if multi:
        head += "\n" + class_key(class_names, names)
    fig = new_figure(height=0.75 + 0.17 * (head.count("\n") + 1) + nrows * row, width=width)
    grid = fig.add_gridspec(1 + nrows, ncols, height_ratios=[0.45] + [row] * nrows)
    ax = fig.add_subplot(grid[0, :])
    ax.imshow(c > 0, cmap=ListedColormap(["#222222", "#f2f2f2"]), vmin=0, vmax=1, aspect="auto",
              interpolation="nearest")
    ax.set_yticks([])
    ax.set_xticks(np.arange(-0.5, c.shape[1], 1), minor=True)
    ax.grid(which="minor", color="#8c8c8c", lw=0.5)
    ax.tick_params(which="minor", length=0)
    ax.set_xticks(range(0, c.shape[1], 4))
    ax.set_xlabel("bit (white = +1, black = -1)", fontsize=8, labelpad=1)
    ax.set_title(head, fontsize=9)
    for j in range(k):
        ax = fig.add_subplot(grid[1 + j // ncols, j % ncols])
        show_image(ax, imgs[j], border=RELEVANT if relevant[j] else IRRELEVANT)
        ax.set_title(f"#{j + 1}  d={int(d[j])}", fontsize=fs, pad=2)
        ax.set_xlabel(captions[j], fontsize=fs, labelpad=1)
    return fig


def show_retrievals(runs, queries=(0, 1, 2), k: int = 10, title: str | None = None):
    """Figure of queries and their top-k retrievals (:func:`retrieved_grid`) for trained runs.

    Args:
        runs: one run (a :class:`saatlib.experiments.retrieval.HashRun`: its
            ``codes``, ``splits`` and ``config``) or ``{name: run}`` (runs on
            the same dataset, e.g. one per method).
        queries: query indices.
        k: retrievals per query, ranked by :func:`saatlib.metrics.top_retrievals`.

    With one run, one row per query; with several, one row per run and query,
    so the methods can be compared on the same query.
    """
    if not isinstance(runs, dict):
        runs = {runs.config["method"]: runs}
    rows = [(name, run, int(q)) for q in queries for name, run in runs.items()]
    q_img, q_lab, r_img, r_lab, dist, titles = [], [], [], [], [], []
    for name, run, q in rows:
        c, s = run.codes, run.splits
        idx, d = top_retrievals(c["query_codes"][q:q + 1], c["db_codes"], k)
        q_img.append(s.query.batch([q])[0][0] if hasattr(s.query, "batch") else s.query[q][0])
        q_lab.append(c["query_labels"][q])
        r_img.append(s.database.batch(idx[0])[0] if hasattr(s.database, "batch")
                     else torch.stack([s.database[int(i)][0] for i in idx[0]]))
        r_lab.append(c["db_labels"][idx[0]])
        dist.append(d[0])
        titles.append(name if len(runs) > 1 and len(queries) == 1 else
                      f"{name}, query {q}" if len(runs) > 1 else f"query {q}")
    first = next(iter(runs.values()))
    return retrieved_grid(torch.stack(q_img), torch.stack(q_lab), torch.stack(r_img), torch.stack(r_lab),
                          torch.stack(dist), first.splits.class_names, row_titles=titles, title=title)
