"""Attack figures: adversarial galleries, retrievals before and after an
attack, and MAP against the budget (eps) or the number of iterations.

Like the other plotting modules, every function builds a fresh
:class:`matplotlib.figure.Figure` and returns it. Images are tensors or arrays
(N, C, H, W) with pixels in [0, 1], the raw pixel space the attacks work in.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from saatlib.plots._common import BOOK_WIDTH, as_panels, new_figure, to_numpy
from saatlib.plots.images import chars_per_line, label_captions, line_height, show_image, wrap_caption
from saatlib.plots.retrieval import retrieved_grid


def amplified(delta, amplify: float) -> np.ndarray:
    """A perturbation shown as an image: ``0.5 + amplify * delta``, clipped to [0, 1].

    Mid grey is no change, lighter pixels were brightened, darker ones darkened.
    """
    return np.clip(0.5 + amplify * to_numpy(delta).astype(np.float32), 0.0, 1.0)


def default_amplification(deltas) -> float:
    """The factor that maps the largest absolute change in ``deltas`` to +-0.5 (1 when all are zero)."""
    peak = max((float(np.abs(to_numpy(d)).max()) if np.size(to_numpy(d)) else 0.0) for d in deltas)
    return 0.5 / peak if peak > 0 else 1.0


def adversarial_gallery(benign, adversarial, captions: Sequence[str] | None = None, amplify: float | None = None,
                        title: str | None = None, width: float = BOOK_WIDTH, fontsize: float = 8,
                        benign_row: bool = True, labels=None, class_names: Sequence[str] | None = None):
    """Benign images, their adversarial versions and the amplified perturbations.

    One column per image. The first row holds the benign images; then, for
    each attack, a row of adversarial images and a row of perturbations
    ``x_adv - x`` drawn as :func:`amplified` (mid grey = unchanged).

    Args:
        benign: (N, C, H, W) in [0, 1].
        adversarial: (N, C, H, W) for one attack, or ``{attack name: (N, C, H, W)}``.
        captions: N strings shown above the benign images (e.g. labels).
        amplify: perturbation factor (default: the largest change maps to +-0.5,
            the same factor for every attack so their rows compare).
        benign_row: show the benign images (False, e.g., when every column
            holds the same image under a different setting; the captions
            then go above the first adversarial row).
        labels, class_names: (N, L) multi-hot labels and the class names, to
            caption the images by :func:`~saatlib.plots.images.label_captions`
            instead of ``captions`` (two-letter class codes with their key
            under the title when an image has several labels).
    Returns:
        the Figure.
    Raises:
        ValueError: shapes differ, or no image.
    """
    x = to_numpy(benign).astype(np.float32)
    adv = adversarial if isinstance(adversarial, dict) else {"adversarial": adversarial}
    adv = {name: to_numpy(a).astype(np.float32) for name, a in adv.items()}
    if x.ndim != 4 or len(x) == 0:
        raise ValueError(f"benign must be a non-empty (N, C, H, W) batch, got shape {x.shape}")
    for name, a in adv.items():
        if a.shape != x.shape:
            raise ValueError(f"adversarial images of {name!r} have shape {a.shape}, the benign ones {x.shape}")
    deltas = {name: a - x for name, a in adv.items()}
    factor = default_amplification(list(deltas.values())) if amplify is None else float(amplify)
    first = 1 if benign_row else 0
    n, rows = len(x), first + 2 * len(adv)
    label_w = 0.9
    cell = (width - label_w) / n
    caps, key = None, None
    if labels is not None:
        captions, key = label_captions(labels, class_names)
    if captions is not None:
        caps = [wrap_caption(str(c), chars_per_line(cell * 0.95, fontsize), sep=" " if key else "+")
                for c in captions]
    cap_lines = max((c.count("\n") + 1 for c in caps), default=0) if caps else 0
    heights = [cell + cap_lines * line_height(fontsize)] + [cell] * (rows - 1)
    head = ((title + "\n" if title else "")
            + "perturbations amplified: mid grey = unchanged, light = brighter, dark = darker")
    if key:
        head += "\n" + key
    fig = new_figure(height=sum(heights) + 0.2 + 0.17 * (head.count("\n") + 1) + 0.1, width=width)
    grid = fig.add_gridspec(rows, n + 1, width_ratios=[label_w / cell] + [1.0] * n, height_ratios=heights)
    row_names = ["benign"] if benign_row else []
    for name in adv:
        row_names += [name, f"x_adv - x (x{factor:.0f})" if factor >= 10 else f"x_adv - x (x{factor:.1f})"]
    for r, row_name in enumerate(row_names):
        ax = fig.add_subplot(grid[r, 0])
        ax.set_axis_off()
        ax.text(0.98, 0.5, row_name, ha="right", va="center", fontsize=fontsize, transform=ax.transAxes,
                wrap=True)
    for j in range(n):
        cap = caps[j] if caps else None
        if benign_row:
            show_image(fig.add_subplot(grid[0, j + 1]), x[j], cap, fontsize=fontsize)
        for a_i, name in enumerate(adv):
            show_image(fig.add_subplot(grid[first + 2 * a_i, j + 1]), adv[name][j],
                       None if benign_row or a_i else cap, fontsize=fontsize)
            show_image(fig.add_subplot(grid[first + 1 + 2 * a_i, j + 1]), amplified(deltas[name][j], factor))
    fig.suptitle(head, fontsize=9)
    return fig


def retrieval_before_after(query_image, query_label, rows: dict, class_names: Sequence[str] | None = None,
                           title: str | None = None, width: float = BOOK_WIDTH):
    """Top-k retrievals of one query, benign and under attacks, one row each.

    Frames mark relevance to the query's *own* labels (green: shares a label),
    so a successful non-targeted attack turns a green row red, and a targeted
    one fills it with items of the target label.

    Args:
        query_image: (C, H, W) benign query in [0, 1]; query_label: (L,) multi-hot.
        rows: ``{row title: (image (C, H, W), retrieved images (k, C, H, W),
            retrieved labels (k, L), Hamming distances (k,))}``; the image is
            the one sent as query (benign or adversarial).
    Returns:
        the Figure (:func:`saatlib.plots.retrieved_grid` with one row per entry).
    """
    if not rows:
        raise ValueError("retrieval_before_after needs at least one row")
    q_img = np.stack([to_numpy(r[0]) for r in rows.values()])
    ql = np.stack([to_numpy(query_label)] * len(rows))
    r_img = np.stack([to_numpy(r[1]) for r in rows.values()])
    r_lab = np.stack([to_numpy(r[2]) for r in rows.values()])
    dist = np.stack([to_numpy(r[3]) for r in rows.values()])
    return retrieved_grid(q_img, ql, r_img, r_lab, dist, class_names, row_titles=list(rows), title=title,
                          width=width)


def attack_curves(curves: dict, xlabel: str, ylabel: str = "MAP", references: dict | None = None,
                  logx: bool = False, xticklabels: dict | None = None, title: str | None = None,
                  height: float = 2.8, ylim: tuple[float, float] | None = (-0.03, 1.03), markers: bool = True):
    """Lines of a metric against an attack setting, one panel per group.

    Args:
        curves: ``{name: (x values, y values)}`` for one panel, or
            ``{panel: {name: (xs, ys)}}``.
        references: horizontal lines ``{label: value}`` for every panel (e.g.
            the benign MAP), or ``{panel: {label: value}}``.
        logx: logarithmic (base 2) x axis, e.g. for eps 1, 2, 4, 8, 16 / 255.
        xticklabels: ``{x: text}`` tick labels (e.g. ``{8: "8/255"}``).
        ylim: y range (None: automatic); the default leaves a margin under 0 so
            that a line at 0 (e.g. a theory MAP) is not hidden on the axis.
        markers: mark the data points (off for dense curves).
        title: figure title (default: "<ylabel> against <xlabel>").
    """
    panels = as_panels(curves)
    refs = {} if references is None else references
    fig = new_figure(height)
    axes = np.atleast_1d(fig.subplots(1, len(panels), sharey=ylim is not None))
    styles = ["--", ":", "-."]
    for ax, (panel, lines) in zip(axes, panels.items()):
        for name, (xs, ys) in lines.items():
            ax.plot(to_numpy(xs), to_numpy(ys), marker="o" if markers else None, ms=4, lw=1.5, label=name)
        panel_refs = refs.get(panel, {}) if refs and all(isinstance(v, dict) for v in refs.values()) else refs
        for i, (label, value) in enumerate(panel_refs.items()):
            if value is not None:
                ax.axhline(float(value), color="0.35", lw=1.0, ls=styles[i % len(styles)],
                           label=f"{label} ({float(value):.3f})")
        if logx:
            ax.set_xscale("log", base=2)
        if xticklabels:
            ax.set_xticks(list(xticklabels))
            ax.set_xticklabels(list(xticklabels.values()))
            ax.minorticks_off()
        ax.set_xlabel(xlabel)
        if ylim is not None:
            ax.set_ylim(*ylim)
        if panel:
            ax.set_title(panel)
        ax.legend(loc="best")
    axes[0].set_ylabel(ylabel)
    fig.suptitle(title or f"{ylabel} against {xlabel}")
    return fig


def map_vs_eps(eps_255: Sequence[float], maps: dict, references: dict | None = None,
               title: str | None = "MAP against the l_inf budget",
               ylabel: str = "MAP", height: float = 2.8):
    """MAP against the l_inf budget, with eps in units of 1/255 on a log-2 axis.

    Args:
        eps_255: budgets in units of 1/255 (e.g. 1, 2, 4, 8, 16).
        maps: ``{attack: MAP values}`` aligned with ``eps_255`` (or ``{panel: {...}}``).
        references: horizontal lines, e.g. ``{"benign": 0.87, "theory": 0.0}``.
    """
    xs = [float(e) for e in eps_255]
    panels = as_panels(maps)
    curves = {p: {name: (xs, ys) for name, ys in lines.items()} for p, lines in panels.items()}
    ticks = {x: f"{x:g}/255" for x in xs}
    return attack_curves(curves if len(curves) > 1 else next(iter(curves.values())),
                         "l_inf budget eps (pixels in [0, 1])", ylabel, references, logx=min(xs) > 0,
                         xticklabels=ticks, title=title, height=height)


def map_vs_steps(steps: Sequence[int], maps: dict, references: dict | None = None,
                 title: str | None = "MAP against the number of iterations",
                 ylabel: str = "MAP", height: float = 2.8):
    """MAP against the number of attack iterations (log-2 axis).

    Args:
        steps: iteration counts (e.g. 10, 20, 50, 100, 200).
        maps: ``{attack: MAP values}`` aligned with ``steps`` (or ``{panel: {...}}``).
    """
    xs = [int(s) for s in steps]
    panels = as_panels(maps)
    curves = {p: {name: (xs, ys) for name, ys in lines.items()} for p, lines in panels.items()}
    return attack_curves(curves if len(curves) > 1 else next(iter(curves.values())), "iterations", ylabel,
                         references, logx=min(xs) > 0, xticklabels={x: str(x) for x in xs}, title=title,
                         height=height)
