"""Explorers whose controls switch between outputs computed in advance, in the
browser, with no kernel behind the page.

The book's static HTML pages have no Python behind them: a control whose
callback lives in the kernel does nothing there. :class:`PrecomputedExplorer`
therefore renders every combination of its controls' options once, while the
chapter executes, and puts the outputs into nested ``ipywidgets.Stack``
widgets: the stacks at depth d show child number ``controls[d].index``. Each
control's ``index`` is tied to the ``selected_index`` of its stacks by
``ipywidgets.jslink``, a link that the widget front end (JupyterLab, or the
book's vendored ``@jupyter-widgets/html-manager``) carries out in JavaScript.
Papermill stores every widget's state in the executed notebook, so the
rendered page holds all outputs and the links between them: moving a slider
there switches the picture at once. In a live kernel the same links act, and
:meth:`PrecomputedExplorer.add_option` grows the grid on demand (the caller
computes the new outputs; this class only lays them out).

Cost: one rendered output (e.g. a PNG) per distinct combination, all of them
in the page; keep grids small (tens of outputs). Identical outputs are shared
through ``key``.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Hashable, Sequence

import ipywidgets as w

log = logging.getLogger(__name__)


def option_values(control) -> list:
    """The values of a selection widget's options (``(label, value)`` pairs or plain values)."""
    return [o[1] if isinstance(o, tuple) else o for o in control.options]


class PrecomputedExplorer:
    """Selection controls over a grid of outputs rendered in advance.

    Args:
        controls: selection widgets (``Dropdown``, ``SelectionSlider``,
            ``ToggleButtons``, ...), outermost first; every option of each is
            a grid value.
        render: ``render(*values) -> widget``, the output of one combination
            (one value per control, in the order of ``controls``).
        key: ``key(*values) -> hashable``; combinations with equal keys share
            one rendered widget (default: the values themselves).
    Attributes:
        view: an ``ipywidgets.Box`` holding the nested stacks; show it.
        leaves: ``{key: widget}``, every rendered output.
    """

    def __init__(self, controls: Sequence, render: Callable[..., Any],
                 key: Callable[..., Hashable] | None = None):
        if not controls:
            raise ValueError("PrecomputedExplorer needs at least one control")
        for c in controls:
            if not hasattr(c, "index") or not c.options:
                raise ValueError(f"{c!r} is not a selection widget with options")
        self.controls = list(controls)
        self.render = render
        self.key = key or (lambda *values: tuple(values))
        self.leaves: dict = {}
        self.on_rebuild: Callable[[], None] | None = None
        self.quiet = False  # True while the options change (stacks and controls disagree)
        self._stacks: list[list] = []  # stacks by depth
        self._links: list = []
        self.view = w.Box(layout=w.Layout(display="block"))
        for depth, c in enumerate(self.controls):
            c.observe(lambda change, d=depth: self._follow(d), names="index")
        self.rebuild()

    # --- layout ---------------------------------------------------------------

    def leaf(self, *values):
        """The output of one combination, rendered on first use."""
        k = self.key(*values)
        if k not in self.leaves:
            self.leaves[k] = self.render(*values)
        return self.leaves[k]

    def rebuild(self) -> None:
        """Build the nested stacks and their links from the controls' current options."""
        self._links = []
        self._stacks = [[] for _ in self.controls]
        root = self._build(0, (), [option_values(c) for c in self.controls])
        self.view.children = (root,)
        if self.on_rebuild is not None:
            self.on_rebuild()
        log.debug("precomputed explorer: %d outputs, %d stacks", len(self.leaves),
                  sum(map(len, self._stacks)))

    def _build(self, depth: int, prefix: tuple, options: list[list]):
        """The subtree below ``prefix`` (values of the controls above ``depth``): stacks, links, outputs."""
        if depth == len(self.controls):
            return self.leaf(*prefix)
        children = [self._build(depth + 1, prefix + (v,), options) for v in options[depth]]
        stack = w.Stack(children, selected_index=self.controls[depth].index)
        self._stacks[depth].append((stack, prefix))
        self._links.append(w.jslink((self.controls[depth], "index"), (stack, "selected_index")))
        return stack

    def _follow(self, depth: int) -> None:
        """Kernel-side twin of the links, so Python sees what the page shows."""
        if self.quiet:
            return
        index = self.controls[depth].index
        for stack, _ in self._stacks[depth]:
            if stack.selected_index != index:
                stack.selected_index = index

    # --- reading and growing ----------------------------------------------------

    def values(self) -> tuple:
        """The controls' current values."""
        return tuple(c.value for c in self.controls)

    def shown(self):
        """The output widget the controls select now."""
        node = self.view.children[0]
        for control in self.controls:
            node = node.children[control.index]
        return node

    def add_option(self, depth: int, label: str, value, select: bool = True) -> None:
        """Add ``value`` to control ``depth`` (kept sorted by value) and draw what it adds.

        The caller computes whatever ``render`` needs for the new combinations
        first; ``render`` is called for each of them here. Each stack at
        ``depth`` gets the new subtree at the option's position *before* the
        control changes, and nothing on view is closed or replaced, so the
        front end never meets an index past a stack's children nor a closed
        widget. With ``select`` the control moves to the new value.
        """
        control = self.controls[depth]
        current = [o if isinstance(o, tuple) else (str(o), o) for o in control.options]
        if value in [v for _, v in current]:
            if select:
                control.value = value
            return
        merged = sorted(current + [(label, value)], key=lambda o: o[1])
        position = [v for _, v in merged].index(value)
        options = [option_values(c) for c in self.controls]
        options[depth] = [v for _, v in merged]
        for stack, prefix in list(self._stacks[depth]):
            children = list(stack.children)
            children.insert(position, self._build(depth + 1, prefix + (value,), options))
            stack.children = tuple(children)
        keep = self.values()
        self.quiet = True
        try:
            control.options = merged
            control.value = value if select else keep[depth]
        finally:
            self.quiet = False
        for d in range(len(self.controls)):
            self._follow(d)
        if self.on_rebuild is not None:
            self.on_rebuild()
