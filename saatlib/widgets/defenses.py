"""SAAT's lambda and mu, computed over a grid and explored with sliders (book chapter 5).

SAAT's outer loss (reference section 4) is
``L_hash(h) + lambda * (-mean(h_adv . b*)) + mu * mean((h_adv - sign(h_adv))^2)``:
``lambda`` weighs robustness (keep the adversarial code on the mainstay code)
against retrieval quality (the benign hash loss), ``mu`` pushes adversarial
codes towards binary values.

- :func:`lambda_mu_grid`: for every (lambda, mu) of a grid, a SAAT-defended
  model (trained once, then read from the run store) and its MAP on benign
  queries and under one attack.
- :func:`lambda_mu_figure`: the grid as two heat maps (benign MAP, MAP under
  attack) with one cell marked.
- :func:`lambda_mu_cell_figure`: one cell's training curves (beside the lambda = 0
  control) and its queries' AP under the attack (beside the undefended model's).
- :func:`lambda_mu_explorer`: the heat maps once, then sliders for lambda and mu
  that show the chosen cell's :func:`lambda_mu_cell_figure` (no training, no attack).
"""
from __future__ import annotations

from typing import Sequence

import ipywidgets as w
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from saatlib.experiments.robustness import evaluate_defense
from saatlib.plots import new_figure
from saatlib.store import RunStore
from saatlib.widgets.controls import explorer_box, figure_image, figure_leaf
from saatlib.widgets.precomputed import PrecomputedExplorer


def lambda_mu_grid(hash_config: dict, lambdas: Sequence[float] = (0.0, 1.0, 3.0), mus: Sequence[float] = (1e-4,),
                   profile: str = "default", attack: str = "SAAT", store: RunStore | None = None, device="cpu",
                   progress: bool = False, num_queries: int | None = -1, **overrides) -> dict:
    """SAAT defenses over a grid of (lambda, mu), each evaluated benign and under ``attack``.

    Args:
        hash_config: the victim (start) model's config.
        lambdas, mus: grid values (lambda >= 0, mu >= 0); lambda = 0 trains
            on the benign loss (plus mu's term) only, the control with no
            adversarial term.
        attack: the attack every defended model is evaluated under (the
            profile's budget).
        num_queries: -1 = the profile's defense evaluation size.
        overrides: further SAAT hyper-parameters shared by the grid (e.g.
            ``epochs``); the grid's point (lambda, mu) with the profile's
            defaults is the same run as :func:`saatlib.experiments.evaluate_defense`'s.
    Returns:
        ``{(lambda, mu): {"map_benign", "map_attack", "ap_attack" (per-query AP under the attack),
        "train_seconds", "history"}}``.
    Raises:
        ValueError: an empty grid or a negative value.
    """
    if not lambdas or not mus:
        raise ValueError("lambda_mu_grid needs at least one lambda and one mu")
    if any(v < 0 for v in (*lambdas, *mus)):
        raise ValueError(f"lambda and mu must be >= 0, got lambdas {list(lambdas)}, mus {list(mus)}")
    store = store or RunStore()
    grid = {}
    for lam in lambdas:
        for mu in mus:
            r = evaluate_defense(hash_config, "SAAT", profile, store, device, progress, num_queries=num_queries,
                                 attacks=[attack], check=False, **{"lambda": float(lam), "mu": float(mu)},
                                 **overrides)
            grid[float(lam), float(mu)] = {"map_benign": r["map_benign"], "map_attack": r["map_under_attack"][attack],
                                           "ap_attack": r["attacks"][attack]["ap"]["adversarial"],
                                           "train_seconds": r["train_seconds"], "history": r["history"]}
    return grid


def _axes_values(grid: dict) -> tuple[list[float], list[float]]:
    return sorted({lam for lam, _ in grid}), sorted({mu for _, mu in grid})


def lambda_mu_figure(grid: dict, chosen: tuple[float, float] | None = None, attack: str = "SAAT",
                     undefended: dict | None = None, title: str | None = None, height: float = 2.8):
    """Two heat maps over the grid: benign MAP and MAP under ``attack``, in percent (as chapter 5's tables).

    Args:
        grid: :func:`lambda_mu_grid`'s result.
        chosen: the (lambda, mu) cell to frame (None: no frame).
        undefended: ``{"map_benign", "map_attack"}`` of the undefended model,
            written in the panel titles for reference.
    """
    lams, mus = _axes_values(grid)
    fig = new_figure(height)
    axes = fig.subplots(1, 2)
    for ax, key, name in zip(axes, ("map_benign", "map_attack"), ("benign MAP (%)", f"MAP under {attack} (%)")):
        values = np.full((len(mus), len(lams)), np.nan)
        for (lam, mu), r in grid.items():
            values[mus.index(mu), lams.index(lam)] = r[key]
        ax.imshow(values, vmin=0.0, vmax=1.0, cmap="viridis", aspect="auto", origin="lower")
        ax.grid(False)  # the book style's grid would run through the cells' numbers
        for i in range(len(mus)):
            for j in range(len(lams)):
                if np.isfinite(values[i, j]):
                    ax.text(j, i, f"{100 * values[i, j]:.1f}", ha="center", va="center", fontsize=9,
                            color="black" if values[i, j] > 0.5 else "white")
        ax.set_xticks(range(len(lams)), [f"{v:g}" for v in lams])
        ax.set_yticks(range(len(mus)), [f"{v:g}" for v in mus])
        ax.set_xlabel("lambda (weight of the adversarial term)")
        ax.set_ylabel("mu (quantisation weight)")
        if undefended is not None:
            name += f"\n(undefended: {100 * undefended[key]:.1f})"
        ax.set_title(name, fontsize=9)
        if chosen is not None:
            j, i = lams.index(float(chosen[0])), mus.index(float(chosen[1]))
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="red", lw=2.5))
    if title:
        fig.suptitle(title)
    return fig


def lambda_mu_cell_figure(grid: dict, cell: tuple[float, float], attack: str = "SAAT",
                          undefended: dict | None = None, height: float = 2.9):
    """What the heat maps cannot show about one (lambda, mu) cell: its training and its queries.

    Left: the cell's loss terms over the optimiser steps (the benign hash loss
    and the adversarial term -mean(h_adv . b*), blocks of steps), beside those of
    the control lambda = 0 at the same mu when the grid has it. Right (when the
    grid holds per-query AP): the distribution of the queries' AP under
    ``attack`` for this cell, beside the undefended model's (``undefended["ap_attack"]``).
    """
    from saatlib.plots.training import trace_points  # the same step axis as the chapter's training curves

    r = grid[cell]
    has_ap = r.get("ap_attack") is not None
    fig = new_figure(height)
    axes = np.atleast_1d(fig.subplots(1, 2 if has_ap else 1))
    ax = axes[0]
    control = (0.0, cell[1])
    runs = [(f"lambda {cell[0]:g}", r, "-")]
    if control != cell and control in grid:
        runs.append(("lambda 0 (control)", grid[control], ":"))
    terms = {"hash": ("C0", "benign hash loss"), "adv": ("C3", "\u2212mean(h_adv \u00b7 b*)")}
    drawn_terms, drawn_runs = set(), []
    for name, entry, style in runs:
        for term, (colour, label) in terms.items():
            x, y = trace_points(entry.get("history") or [], term)
            if len(x):
                ax.plot(x, y, style, color=colour, lw=1.4, label=f"{label}, {name}")
                drawn_terms.add(term)
                if (name, style) not in drawn_runs:
                    drawn_runs.append((name, style))
    ax.set_xlabel("optimiser step")
    ax.set_ylabel("mean over a block of steps")
    ax.set_title(f"training of lambda {cell[0]:g}, mu {cell[1]:g}", fontsize=10)
    if ax.lines:
        # colour = the loss term, line style = the run: four short entries at 8 pt instead of one per line
        handles = [Line2D([], [], color=colour, lw=1.4, label=label)
                   for term, (colour, label) in terms.items() if term in drawn_terms]
        handles += [Line2D([], [], color="#555555", ls=style, lw=1.4, label=name) for name, style in drawn_runs]
        ax.legend(handles=handles, fontsize=8, loc="best")
    if has_ap:
        ax = axes[1]
        bins = np.linspace(0.0, 1.0, 11)
        if undefended is not None and undefended.get("ap_attack") is not None:
            ax.hist(np.asarray(undefended["ap_attack"], dtype=float), bins=bins, color="#999999", alpha=0.6,
                    label="undefended")
        ax.hist(np.asarray(r["ap_attack"], dtype=float), bins=bins, histtype="step", lw=2, color="C2",
                label=f"lambda {cell[0]:g}, mu {cell[1]:g}")
        ax.set_xlabel(f"AP of a query under {attack}")
        ax.set_ylabel("queries")
        ax.set_title("queries by their AP under attack", fontsize=10)
        ax.legend(fontsize=8)
    return fig


def lambda_mu_explorer(grid: dict, attack: str = "SAAT", undefended: dict | None = None,
                       initial: tuple[float, float] | None = None, title: str | None = None):
    """Sliders for lambda and mu over a computed :func:`lambda_mu_grid`.

    The heat maps of the whole grid (:func:`lambda_mu_figure`) are drawn once,
    above the sliders; the sliders choose a cell and show what the heat maps
    cannot: its training curves beside those of the lambda = 0 control, and
    its queries' AP under the attack beside the undefended model's
    (:func:`lambda_mu_cell_figure`). Every cell is drawn in advance and the
    sliders switch between the drawings in the browser
    (:class:`~saatlib.widgets.precomputed.PrecomputedExplorer`), so they answer
    on the static page too. An axis with a single value gets no slider (it
    could not move) but a line that names the value.

    Args:
        undefended: ``{"map_benign", "map_attack"}`` of the undefended model, and
            optionally its per-query ``"ap_attack"``.
    Returns:
        an ``ipywidgets.VBox`` (:func:`saatlib.widgets.controls.explorer_box`);
        ``box.controls`` holds the lambda and mu sliders, ``box.state`` the
        shown cell (``lambda``, ``mu`` and its grid entry).
    Raises:
        ValueError: an empty grid, or ``initial`` not in it.
    """
    if not grid:
        raise ValueError("lambda_mu_explorer needs a non-empty grid (see lambda_mu_grid)")
    lams, mus = _axes_values(grid)
    initial = (float(initial[0]), float(initial[1])) if initial is not None else \
        ((1.0 if 1.0 in lams else lams[0]), mus[0])
    if initial not in grid:
        raise ValueError(f"initial setting {initial} is not in the grid {sorted(grid)}")
    lam = w.SelectionSlider(options=[(f"{v:g}", v) for v in lams], value=initial[0], description="lambda",
                            continuous_update=False)
    mu = w.SelectionSlider(options=[(f"{v:g}", v) for v in mus], value=initial[1], description="mu",
                           continuous_update=False)

    def render(lam_value, mu_value):
        cell = (float(lam_value), float(mu_value))
        r = grid.get(cell)
        state = {"lambda": cell[0], "mu": cell[1], "entry": r}
        if r is None:
            return figure_leaf(f"lambda {cell[0]:g}, mu {cell[1]:g}: not computed", state=state)
        caption = (f"SAAT with lambda <b>{cell[0]:g}</b>, mu <b>{cell[1]:g}</b>: benign MAP "
                   f"<b>{100 * r['map_benign']:.1f}</b> %, under {attack} <b>{100 * r['map_attack']:.1f}</b> % "
                   f"(trained in {r['train_seconds']:.0f} s)")
        return figure_leaf(caption, lambda_mu_cell_figure(grid, cell, attack, undefended), state=state)

    explorer = PrecomputedExplorer([lam, mu], render)
    shown = [c if len(c.options) > 1 else w.HTML(f"{c.description} = {c.options[0][0]} (one value in this grid)")
             for c in (lam, mu)]
    heat = figure_image(lambda_mu_figure(grid, None, attack, undefended, title))
    return explorer_box(explorer, [w.HBox(shown), heat])
