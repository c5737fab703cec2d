"""The attack explorer of the book's attack chapter (ipywidgets).

:func:`explorer_grid` precomputes a small grid of budgets (eps) and iteration
counts for a few queries (:func:`saatlib.experiments.attacks.attack_with_examples`,
cached in the run store with the adversarial images); :func:`attack_explorer`
then lets a reader move eps and iteration sliders and see the adversarial
query, its amplified perturbation and its top-k retrievals before and after
the attack. Every state of the grid is drawn in advance and switched in the
browser, so the sliders answer at once, on the static page too; in a live
kernel a setting off the grid is attacked on demand and cached.
"""
from __future__ import annotations

from typing import Sequence

import ipywidgets as w
import torch

from saatlib.attack.registry import build_attack
from saatlib.experiments.attacks import attack_with_examples
from saatlib.experiments.retrieval import HashRun
from saatlib.metrics import relevant_to, top_retrievals
from saatlib.plots import new_figure
from saatlib.plots.attacks import amplified, retrieval_before_after
from saatlib.plots.images import show_image
from saatlib.profiles import from_255, per_255
from saatlib.store import RunStore
from saatlib.widgets.controls import explorer_box, figure_image, figure_leaf, images_of
from saatlib.widgets.precomputed import PrecomputedExplorer


def explorer_grid(run: HashRun, eps_255: Sequence[float], steps: Sequence[int], num_queries: int = 4,
                  name: str = "SAAT", targeted: bool = False, profile: str = "default",
                  store: RunStore | None = None, device="cpu") -> dict:
    """Adversarial examples of the first ``num_queries`` queries for every (eps, steps) pair (cached).

    Args:
        eps_255: budgets in units of 1/255.
        steps: iteration counts.
    Returns:
        ``{(eps_255, steps): {"x_adv": (n, C, H, W), "adv_codes": (n, K),
        "linf": float, "seconds": float}}``.
    """
    grid = {}
    for e in eps_255:
        for s in steps:
            r = attack_with_examples(run, name, targeted, profile, eps=from_255(e), steps=int(s),
                                     num_queries=num_queries, store=store, device=device)
            grid[float(e), int(s)] = {"x_adv": r["x_adv"], "adv_codes": r["adv_codes"],
                                      "linf": r["perceptibility"]["linf"], "seconds": r["seconds"]}
    return grid


def explorer_state(run: HashRun, grid: dict, eps_255: float, steps: int, query: int, k: int = 10) -> dict:
    """What the explorer shows for one setting: codes, retrievals and their relevance, before and after.

    Returns:
        dict with ``x`` and ``x_adv`` (C, H, W), ``benign_code`` and
        ``adv_code`` (K,), ``flipped`` (bits that changed), and for ``benign``
        and ``adversarial``: ``indices``, ``distances`` (k,), ``relevant`` (k,) bool.
    """
    entry = grid[float(eps_255), int(steps)]
    c = run.codes
    x = images_of(run.splits.query, [query])[0]
    benign_code = c["query_codes"][query]
    adv_code = entry["adv_codes"][query]
    label = c["query_labels"][query:query + 1]
    out = {"x": x, "x_adv": entry["x_adv"][query], "benign_code": benign_code, "adv_code": adv_code,
           "flipped": int((benign_code != adv_code).sum()), "label": label[0]}
    for name, code in (("benign", benign_code), ("adversarial", adv_code)):
        idx, dist = top_retrievals(code[None], c["db_codes"], k)
        out[name] = {"indices": idx[0], "distances": dist[0],
                     "relevant": relevant_to(label, c["db_labels"][idx])[0]}
    return out


def retrieval_rows(run: HashRun, queries: dict, k: int = 10) -> dict:
    """Rows for :func:`saatlib.plots.attacks.retrieval_before_after` from query codes.

    Args:
        queries: ``{row title: (query image (C, H, W), query code (K,))}``,
            e.g. a benign query and its adversarial versions.
    Returns:
        ``{row title: (image, retrieved images (k, C, H, W), their labels
        (k, L), Hamming distances (k,))}``, the database ranked by
        :func:`saatlib.metrics.top_retrievals`.
    """
    rows = {}
    for title, (image, code) in queries.items():
        idx, dist = top_retrievals(torch.as_tensor(code).reshape(1, -1), run.codes["db_codes"], k)
        rows[title] = (image, images_of(run.splits.database, idx[0]), run.codes["db_labels"][idx[0]], dist[0])
    return rows


def explorer_figure(run: HashRun, state: dict, eps_255: float, steps: int, query: int,
                    class_names: Sequence[str] | None = None, title: str | None = None,
                    rows: Sequence[str] = ("benign", "adversarial")):
    """The explorer's picture: the top-k retrievals of the benign and/or of the adversarial query
    (one row each, ``rows`` picks them)."""
    queries = {"benign": ("benign", state["x"], state["benign_code"]),
               "adversarial": (f"eps {eps_255:g}/255, {steps} it.", state["x_adv"], state["adv_code"])}
    picked = {queries[r][0]: queries[r][1:] for r in rows}
    rows_ = retrieval_rows(run, picked, k=len(state["benign"]["indices"]))
    return retrieval_before_after(state["x"], state["label"], rows_, class_names or run.splits.class_names,
                                  title=title if title is not None else f"{run.label}: query {query}")


def perturbation_strip(state: dict, eps_255: float, width: float = 3.2):
    """Benign query, adversarial query and the perturbation (amplified so eps maps to +-0.5)."""
    fig = new_figure(height=1.45, width=width)
    axes = fig.subplots(1, 3)
    delta = state["x_adv"] - state["x"]
    factor = 0.5 / from_255(eps_255) if eps_255 > 0 else 1.0
    show_image(axes[0], state["x"], "benign")
    show_image(axes[1], state["x_adv"], "adversarial")
    show_image(axes[2], amplified(delta, factor), f"x_adv - x (x{factor:.0f})")
    return fig


def attack_explorer(run: HashRun, grid: dict, queries: Sequence[int] | None = None, k: int = 10,
                    initial: tuple[float, int] | None = None, initial_query: int | None = None,
                    attack_name: str = "SAAT", class_names: Sequence[str] | None = None,
                    targeted: bool = False, profile: str = "default", store: RunStore | None = None,
                    device="cpu"):
    """Sliders for eps and iterations (and a query picker) over a precomputed grid.

    Every (eps, iterations, query) of ``grid`` is drawn in advance and the
    controls switch between the drawings in the browser
    (:class:`~saatlib.widgets.precomputed.PrecomputedExplorer`), so the sliders also
    answer on the static page. In a live kernel the "compute" row attacks a
    setting off the grid on demand (``box.compute``: :func:`explorer_grid` for every
    (eps, iterations) pair the new setting adds, i.e.
    :func:`~saatlib.experiments.attacks.attack_with_examples` of ``attack_name``
    with ``targeted``, ``profile``, ``store``, ``device``, cached in the run
    store), with a progress bar, and adds it to the sliders.

    Args:
        run: the attacked model's :class:`~saatlib.experiments.retrieval.HashRun`.
        grid: :func:`explorer_grid` of this model (grown in place on demand).
        queries: query indices offered (default: every query the grid holds).
        initial: (eps in units of 1/255, steps) shown first (default: the
            largest eps not above the profile's budget and the most iterations).
        initial_query: query shown first (default: the one that loses most
            relevant items from its top k at the initial setting).
    Returns:
        an ``ipywidgets.VBox`` (:func:`saatlib.widgets.controls.explorer_box`);
        ``box.controls`` holds the eps slider, the iteration slider and the
        query drop-down, ``box.state`` the shown state (:func:`explorer_state`
        plus ``eps``, ``steps``, ``query``), ``box.compute(eps_255, steps)``
        grows the grid as the compute button does.
    Raises:
        ValueError: empty grid, or ``initial`` not in it.
    """
    if not grid:
        raise ValueError("attack_explorer needs a non-empty grid (see explorer_grid)")
    eps_values = sorted({e for e, _ in grid})
    step_values = sorted({s for _, s in grid})
    n_grid = int(next(iter(grid.values()))["adv_codes"].shape[0])
    queries = list(range(n_grid)) if queries is None else [int(q) for q in queries]
    if any(not 0 <= q < n_grid for q in queries):
        raise ValueError(f"the grid holds queries 0..{n_grid - 1}, asked for {queries}")
    if initial is None:
        budget = per_255(build_attack(attack_name, targeted, profile).eps)  # the profile's budget
        small = [e for e in eps_values if e <= budget] or eps_values
        initial = (max(small), max(step_values))
    initial = (float(initial[0]), int(initial[1]))
    if initial not in grid:
        raise ValueError(f"initial setting {initial} is not in the grid")
    eps = w.SelectionSlider(options=[(f"{e:g}/255", e) for e in eps_values], value=initial[0],
                            description="eps", continuous_update=False)
    steps = w.SelectionSlider(options=[(str(s), s) for s in step_values], value=initial[1],
                              description="iterations", continuous_update=False)
    if initial_query is None:
        def loss(q):
            st = explorer_state(run, grid, initial[0], initial[1], q, k)
            return int(st["benign"]["relevant"].sum()) - int(st["adversarial"]["relevant"].sum())
        initial_query = max(queries, key=loss)  # first of the largest losses
    if initial_query not in queries:
        raise ValueError(f"initial_query {initial_query} is not among the offered queries {queries}")
    query = w.Dropdown(options=queries, value=int(initial_query), description="query")

    benign_rows: dict = {}  # one picture of the benign retrievals per query, shared by its outputs

    def render(e, s, q):
        st = explorer_state(run, grid, e, s, q, k)
        if q not in benign_rows:
            benign_rows[q] = figure_image(explorer_figure(
                run, st, e, s, q, class_names, title=f"{attack_name} on {run.label}: query {q}", rows=("benign",)))
        before = int(st["benign"]["relevant"].sum())
        after = int(st["adversarial"]["relevant"].sum())
        linf = float((st["x_adv"] - st["x"]).abs().max())
        caption = (f"<b>{attack_name}</b>, eps {e:g}/255, {s} iterations: {st['flipped']} of "
                   f"{st['benign_code'].numel()} bits flipped (l<sub>inf</sub> = {per_255(linf):.1f}/255); "
                   f"relevant in the top {k}: {before} before, <b>{after}</b> after")
        leaf = figure_leaf(caption, perturbation_strip(st, e), benign_rows[q],
                           explorer_figure(run, st, e, s, q, class_names, title="", rows=("adversarial",)),
                           state=dict(st, eps=e, steps=s, query=q))
        leaf.children[1].layout.max_width = "360px"
        return leaf

    explorer = PrecomputedExplorer([eps, steps, query], render)
    new_eps = w.BoundedFloatText(value=initial[0], min=0.25, max=64.0, step=0.25, description="eps (/255)",
                                 layout=w.Layout(width="180px"))
    new_steps = w.BoundedIntText(value=initial[1], min=1, max=10000, description="iterations",
                                 layout=w.Layout(width="180px"))
    button = w.Button(description="compute", tooltip="attack this setting (needs a live kernel: make lab)")
    progress = w.IntProgress(value=0, min=0, max=1, description="", layout=w.Layout(width="160px"))
    status = w.HTML("<small>Off the grid: attacks run in a live kernel only (<code>make lab</code>); "
                    "results are cached in the run store.</small>")

    def compute(eps_255: float, n_steps: int) -> None:
        """Attack every missing (eps, steps) the new setting adds to the grid, then show it."""
        e_new, s_new = float(eps_255), int(n_steps)
        todo = [(e, s) for e in sorted({*(e for e, _ in grid), e_new}) for s in sorted({*(s for _, s in grid), s_new})
                if (e, s) not in grid]
        progress.max, progress.value, progress.bar_style = max(len(todo), 1), 0, "info"
        for i, (e, s) in enumerate(todo):
            status.value = f"<small>attacking eps {e:g}/255, {s} iterations ({i + 1} of {len(todo)}) ...</small>"
            grid.update(explorer_grid(run, [e], [s], num_queries=n_grid, name=attack_name, targeted=targeted,
                                      profile=profile, store=store, device=device))
            progress.value = i + 1
        status.value = "<small>drawing ...</small>"
        explorer.add_option(0, f"{e_new:g}/255", e_new, select=False)
        explorer.add_option(1, str(s_new), s_new, select=False)
        eps.value, steps.value = e_new, s_new
        progress.bar_style = "success"
        status.value = (f"<small>eps {e_new:g}/255, {s_new} iterations: {len(todo)} new attack run(s), "
                        "now on the sliders.</small>")

    def on_click(_):
        button.disabled = True
        try:
            compute(new_eps.value, new_steps.value)
        except Exception as err:  # shown to the reader, not swallowed: the message is the output
            progress.bar_style = "danger"
            status.value = f"<small>failed: {type(err).__name__}: {err}</small>"
            raise
        finally:
            button.disabled = False

    button.on_click(on_click)
    box = explorer_box(explorer, [w.HBox([eps, steps, query])],
                       [w.HBox([new_eps, new_steps, button, progress]), status])
    box.compute = compute
    return box
