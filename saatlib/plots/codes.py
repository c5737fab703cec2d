"""Figures about the binary codes themselves: balance, correlation, distances."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import seaborn as sns
from matplotlib.colors import ListedColormap

from saatlib.plots._common import IRRELEVANT, QUERY, RELEVANT, new_figure, to_numpy


def _code_panels(codes) -> dict:
    """``{name: (N, K) array}`` from a tensor or a dict of tensors."""
    if isinstance(codes, dict):
        return {name: to_numpy(c) for name, c in codes.items()}
    return {"": to_numpy(codes)}


def bit_balance(codes, title: str | None = "Code balance: fraction of +1 per bit", height: float = 2.4):
    """One bar per bit: the fraction of items whose bit is +1.

    A balanced bit splits the data in half (0.5, the dashed line); a bit
    stuck at +1 or -1 carries no information.

    Args:
        codes: (N, K) codes in {-1, 1}, or ``{name: codes}`` for one panel each.
    """
    panels = _code_panels(codes)
    fig = new_figure(height)
    axes = np.atleast_1d(fig.subplots(1, len(panels), sharey=True))
    for ax, (name, c) in zip(axes, panels.items()):
        frac = (c > 0).mean(axis=0)
        bits = np.arange(c.shape[1])
        ax.bar(bits, frac, width=0.8, color="#4c72b0")
        ax.axhline(0.5, color="k", ls="--", lw=0.8)
        ax.set_ylim(0, 1)
        ax.set_xlabel("bit")
        head = f"{name}\n" if name else ""
        ax.set_title(f"{head}mean |p - 0.5| = {np.abs(frac - 0.5).mean():.2f}", fontsize=8)
    axes[0].set_ylabel("fraction of +1")
    if title:
        fig.suptitle(title)
    return fig


def bit_correlation(codes, title: str | None = "Correlation between bits", height: float | None = None):
    """Heatmap of the correlation matrix between bits (K x K), one panel per code set.

    Independent bits give a diagonal matrix; strongly correlated bits waste
    code length. Panel titles give the mean absolute off-diagonal correlation.
    More than two panels are laid out two to a row, so that each stays large
    enough to read; one colour bar serves them all.
    """
    panels = _code_panels(codes)
    n = len(panels)
    ncols = n if n <= 2 else 2
    nrows = -(-n // ncols)
    width = 7.0
    fig = new_figure(height or nrows * (width / ncols * 0.82) + 0.5, width)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    mesh = None
    for i, (ax, (name, c)) in enumerate(zip(axes, panels.items())):
        c = c.astype(np.float64)
        std = c.std(axis=0)
        corr = np.corrcoef(c, rowvar=False) if (std > 0).all() else _safe_corr(c, std)
        off = corr[~np.eye(len(corr), dtype=bool)]
        sns.heatmap(corr, ax=ax, vmin=-1, vmax=1, cmap="vlag", square=True, xticklabels=8, yticklabels=8,
                    cbar=False)
        mesh = ax.collections[0]
        ax.tick_params(labelsize=9)
        ax.set_xlabel("bit" if i >= n - ncols else "")
        ax.set_ylabel("bit" if i % ncols == 0 else "")
        head = f"{name}: " if name else ""
        ax.set_title(f"{head}mean |corr| = {np.abs(off).mean():.2f}", fontsize=10)
    for ax in axes[n:]:
        ax.set_axis_off()
    if mesh is not None:
        fig.colorbar(mesh, ax=list(axes[:n]), shrink=0.6, label="correlation")
    if title:
        fig.suptitle(title)
    return fig


def _safe_corr(c: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Correlation matrix where constant bits get correlation 0 (1 on the diagonal)."""
    z = np.zeros_like(c)
    ok = std > 0
    z[:, ok] = (c[:, ok] - c[:, ok].mean(0)) / std[ok]
    corr = z.T @ z / len(c)
    np.fill_diagonal(corr, 1.0)
    return corr


def hamming_histogram(distances, relevant, bits: int, title: str | None = None, ax=None, height: float = 2.6):
    """Distribution of Hamming distances, relevant and irrelevant pairs apart.

    Args:
        distances: int distances, any shape (e.g. (Q, N) query x database).
        relevant: bool, same shape: whether the pair shares a label.
        bits: code length K (distances lie in 0..K).
        ax: draw into this axes (else a new figure).
    Each group is normalised to sum to 1, so the two shapes compare even when
    relevant pairs are few.
    """
    d = to_numpy(distances).reshape(-1).astype(np.int64)
    r = to_numpy(relevant).reshape(-1).astype(bool)
    if d.shape != r.shape:
        raise ValueError(f"distances {d.shape} and relevant {r.shape} differ in size")
    if ax is None:
        fig = new_figure(height)
        ax = fig.subplots()
    else:
        fig = ax.figure
    x = np.arange(bits + 1)
    for mask, name, color, shift in ((r, "relevant", RELEVANT, -0.2), (~r, "not relevant", IRRELEVANT, 0.2)):
        counts = np.bincount(d[mask], minlength=bits + 1)[: bits + 1]
        share = counts / max(counts.sum(), 1)
        ax.bar(x + shift, share, width=0.4, color=color, label=f"{name} ({mask.sum():,} pairs)")
    ax.set_xlabel("Hamming distance")
    ax.set_ylabel("share of pairs")
    ax.set_xlim(-0.8, bits + 0.8)
    ax.legend(loc="upper right")
    ax.set_title(title or "Hamming distances to the database")
    return fig


def code_matrix(codes, row_labels: Sequence[str] | None = None, title: str | None = None,
                row_title: str = "class", height: float | None = None, mark_constant: bool = True):
    """Codes drawn as rows of black (-1) and white (+1) cells, one panel per code set.

    Thin grey lines separate the cells, a thicker blue line separates groups
    of rows with different labels (e.g. the queries of two classes), and with
    ``mark_constant`` a small triangle above a column marks a bit that has the
    same value in every row of its panel (such a bit does not tell the rows apart).

    Args:
        codes: (R, K) codes, or ``{name: (R, K) codes}`` with the same rows
            (e.g. mainstay codes, class centres, CSQ centres of each class).
        row_labels: R names (e.g. class names).
        row_title: label of the vertical axis.
        mark_constant: mark the bits that are equal in every row.
    """
    panels = _code_panels(codes) if isinstance(codes, dict) else {"": to_numpy(codes)}
    rows = next(iter(panels.values())).shape[0]
    n = len(panels)
    fig = new_figure(height or 1.1 + 0.24 * rows + (0.35 if n > 1 else 0.0))
    axes = np.atleast_1d(fig.subplots(1, n, sharey=True))
    cmap = ListedColormap(["#222222", "#f2f2f2"])
    labels = list(row_labels) if row_labels is not None else [str(j) for j in range(rows)]
    for i, (ax, (name, c)) in enumerate(zip(axes, panels.items())):
        k = c.shape[1]
        ax.imshow(c > 0, cmap=cmap, vmin=0, vmax=1, aspect="auto", interpolation="nearest")
        ax.grid(False)
        ax.set_xticks(np.arange(-0.5, k, 1), minor=True)
        ax.set_yticks(np.arange(-0.5, rows, 1), minor=True)
        ax.grid(which="minor", color="#8c8c8c", lw=0.5)
        ax.tick_params(which="minor", length=0)
        ax.set_xticks(range(0, k, 4 if k <= 32 and n == 1 else 8))
        for r in range(1, rows):
            if labels[r] != labels[r - 1] and len(set(labels)) < rows:
                ax.axhline(r - 0.5, color=QUERY, lw=1.8)
        if mark_constant and rows > 1:
            same = np.flatnonzero((c == c[:1]).all(axis=0))
            if same.size:
                ax.plot(same, np.full(len(same), -0.85), "v", color="#dd8452", ms=4, clip_on=False)
        ax.set_xlim(-0.5, k - 0.5)
        ax.set_ylim(rows - 0.5, -0.5)
        ax.set_xlabel("bit")
        ax.set_yticks(range(rows))
        ax.set_yticklabels(labels, fontsize=8.5)
        if name:
            ax.set_title(name, fontsize=10, pad=10 if mark_constant else 4)
    axes[0].set_ylabel(row_title)
    if mark_constant and rows > 1:
        fig.supxlabel("\u25bc: a bit with the same value in every row", fontsize=8.5)
    if title:
        fig.suptitle(title)
    return fig
