"""Checks shared by the figure tests: every data panel labelled, a title, renders."""
from __future__ import annotations

from matplotlib.figure import Figure


def data_axes(fig: Figure):
    """Axes that show data (not images, colour bars or hidden label columns)."""
    return [ax for ax in fig.axes if ax.axison and not ax.images and ax.get_label() != "<colorbar>"]


def assert_labelled(fig) -> None:
    """Every data panel has an x label, some panel a y label, the figure a title; it renders."""
    assert isinstance(fig, Figure)
    data = data_axes(fig)
    assert data, "no data panel"
    for ax in data:
        assert ax.get_xlabel(), f"panel {ax.get_title()!r} has no x label"
    assert any(ax.get_ylabel() for ax in data), "no panel has a y label"
    assert fig.get_suptitle() or any(ax.get_title() for ax in fig.axes), "no title"
    fig.canvas.draw()  # renders without error
