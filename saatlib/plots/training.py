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
            first epoch's loss (plotted: loss / loss at epoch 1). One legend
            for all panels, under them, so that no curve hides behind it.
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
    figure_legend(fig, axes)
    axes[0].set_ylabel("loss / first-epoch loss")
    if title:
        fig.suptitle(title)
    return fig


def figure_legend(fig, axes) -> None:
    """One legend under all panels, each label once (the panels share their lines' names)."""
    entries: dict = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            entries.setdefault(label, handle)
    if entries:
        fig.legend(list(entries.values()), list(entries), loc="outside lower center", ncols=min(len(entries), 6))


#: Defenses whose adversarial term ``adv`` is not -mean(h_adv . c): :func:`defense_curves`
#: draws it in a panel of its own (another quantity, on another scale), with this title.
OTHER_ADV_TERMS = {"ATRDH": "ATRDH: similarity error"}


def trace_points(history: list[dict], term: str) -> tuple[np.ndarray, np.ndarray]:
    """(steps, values) of loss term ``term`` over a defense's training.

    Uses each epoch's within-epoch ``trace`` (blocks of steps, see
    :func:`saatlib.defense.adversarial_training`) when present, else one point
    per epoch (x = epoch number). Epochs without ``term`` are skipped.
    """
    steps, values = [], []
    for i, record in enumerate(history):
        blocks = record.get("trace") or []
        if blocks:
            steps += [b["step"] + 1 for b in blocks if term in b]
            values += [b[term] for b in blocks if term in b]
        elif term in record:
            steps.append(i + 1)
            values.append(record[term])
    return np.asarray(steps, dtype=float), np.asarray(values, dtype=float)


def defense_curves(histories: dict, terms: dict | None = None, title: str | None = "Adversarial training",
                   height: float = 3.2):
    """Loss terms of adversarial-training runs against the optimiser step.

    Args:
        histories: ``{defense name: history}`` (the ``history`` of
            :func:`saatlib.experiments.evaluate_defense` or ``get_defended_model``).
        terms: ``{term key: panel title}``, one panel each (default: the
            benign hash loss ``hash`` and the adversarial term ``adv``, which is
            -mean(h_adv . c) for SAAT and CgAT: -1 when every adversarial bit
            still agrees with its centre code c). By default a defense whose
            ``adv`` is another quantity (:data:`OTHER_ADV_TERMS`: ATRDH's
            squared similarity error) gets a panel of its own, on its own scale.
    Panel titles are one short line each (the chapter's text says what each term is).
    """
    default = terms is None
    terms = terms or {"hash": "benign hash loss", "adv": "\u2212mean(h_adv \u00b7 c)"}
    panels = []  # (term, title, the defenses drawn there)
    for term, panel in terms.items():
        if default and term == "adv":
            own = [n for n in histories if n in OTHER_ADV_TERMS]
            shared = [n for n in histories if n not in OTHER_ADV_TERMS]
            panels += [(term, panel, shared)] if shared else []
            panels += [(term, OTHER_ADV_TERMS[n], [n]) for n in own]
        else:
            panels.append((term, panel, list(histories)))
    colours = {name: f"C{i}" for i, name in enumerate(histories)}  # one colour per defense in every panel
    fig = new_figure(height)
    axes = np.atleast_1d(fig.subplots(1, len(panels)))
    for ax, (term, panel, names) in zip(axes, panels):
        for name in names:
            x, y = trace_points(histories[name], term)
            if len(x):
                ax.plot(x, y, lw=1.2, label=name, color=colours[name])
        ax.set_xlabel("optimiser step")
        ax.set_title(panel, fontsize=10)
        ax.tick_params(labelsize=9)
    figure_legend(fig, axes)
    axes[0].set_ylabel("mean over a block of steps")
    if title:
        fig.suptitle(title)
    return fig
