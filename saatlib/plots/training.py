"""Training curves."""
from __future__ import annotations

import numpy as np
from matplotlib.ticker import MaxNLocator

from saatlib.plots._common import as_panels, new_figure


def loss_curves(histories: dict, title: str | None = "Training loss", height: float = 2.6):
    """Mean training loss per epoch, one line per run, one panel per group.

    Args:
        histories: ``{name: history}`` or ``{panel: {name: history}}``, where a
            history is the per-epoch list of dicts with a ``"loss"`` entry that
            :func:`saatlib.hashing.train_hashing` returns. Losses of different
            methods have different scales, so each line is divided by its
            first epoch's loss (plotted: loss / loss at epoch 1).
    """
    panels = as_panels(histories)
    fig = new_figure(height)
    axes = np.atleast_1d(fig.subplots(1, len(panels), sharey=True))
    for ax, (panel, runs) in zip(axes, panels.items()):
        for name, history in runs.items():
            loss = np.array([h["loss"] for h in history], dtype=float)
            if len(loss) == 0:
                continue
            ax.plot(np.arange(1, len(loss) + 1), loss / (loss[0] if loss[0] else 1.0), marker="o", ms=3,
                    label=name)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if panel:
            ax.set_title(panel)
        ax.legend(loc="upper right")
    axes[0].set_ylabel("loss / first-epoch loss")
    if title:
        fig.suptitle(title)
    return fig
