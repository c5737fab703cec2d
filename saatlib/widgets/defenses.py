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
- :func:`lambda_mu_explorer`: sliders for lambda and mu over a computed grid;
  moving them only redraws (no training, no attack).
"""
from __future__ import annotations

from typing import Sequence

import ipywidgets as w
import numpy as np
from matplotlib.patches import Rectangle

from saatlib.experiments.robustness import evaluate_defense
from saatlib.plots import new_figure
from saatlib.store import RunStore
from saatlib.widgets.controls import explorer_box, figure_leaf
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
    """Two heat maps over the grid: benign MAP and MAP under ``attack``.

    Args:
        grid: :func:`lambda_mu_grid`'s result.
        chosen: the (lambda, mu) cell to frame (None: no frame).
        undefended: ``{"map_benign", "map_attack"}`` of the undefended model,
            written in the panel titles for reference.
    """
    lams, mus = _axes_values(grid)
    fig = new_figure(height)
    axes = fig.subplots(1, 2)
    for ax, key, name in zip(axes, ("map_benign", "map_attack"), ("benign MAP", f"MAP under {attack}")):
        values = np.full((len(mus), len(lams)), np.nan)
        for (lam, mu), r in grid.items():
            values[mus.index(mu), lams.index(lam)] = r[key]
        ax.imshow(values, vmin=0.0, vmax=1.0, cmap="viridis", aspect="auto", origin="lower")
        ax.grid(False)  # the book style's grid would run through the cells' numbers
        for i in range(len(mus)):
            for j in range(len(lams)):
                if np.isfinite(values[i, j]):
                    ax.text(j, i, f"{values[i, j]:.3f}", ha="center", va="center", fontsize=8,
                            color="black" if values[i, j] > 0.5 else "white")
        ax.set_xticks(range(len(lams)), [f"{v:g}" for v in lams])
        ax.set_yticks(range(len(mus)), [f"{v:g}" for v in mus])
        ax.set_xlabel("lambda (weight of the adversarial term)")
        ax.set_ylabel("mu (quantisation weight)")
        if undefended is not None:
            name += f"\n(undefended: {undefended[key]:.3f})"
        ax.set_title(name, fontsize=9)
        if chosen is not None:
            j, i = lams.index(float(chosen[0])), mus.index(float(chosen[1]))
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="red", lw=2.5))
    if title:
        fig.suptitle(title)
    return fig


def lambda_mu_explorer(grid: dict, attack: str = "SAAT", undefended: dict | None = None,
                       initial: tuple[float, float] | None = None, title: str | None = None):
    """Sliders for lambda and mu over a computed :func:`lambda_mu_grid`.

    Every cell is drawn in advance and the sliders switch between the
    drawings in the browser (:class:`~saatlib.widgets.precomputed.PrecomputedExplorer`),
    so they answer on the static page too. An axis with a single value gets
    no slider (it could not move) but a line that names the value.

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
                   f"<b>{r['map_benign']:.3f}</b>, under {attack} <b>{r['map_attack']:.3f}</b> "
                   f"(trained in {r['train_seconds']:.0f} s)")
        return figure_leaf(caption, lambda_mu_figure(grid, cell, attack, undefended, title), state=state)

    explorer = PrecomputedExplorer([lam, mu], render)
    shown = [c if len(c.options) > 1 else w.HTML(f"{c.description} = {c.options[0][0]} (one value in this grid)")
             for c in (lam, mu)]
    return explorer_box(explorer, [w.HBox(shown)])
