"""Image grids with label captions."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from saatlib.plots._common import BOOK_WIDTH, frame, new_figure, to_numpy

#: Short names of the Fashion-MNIST classes, for captions of small images.
SHORT_NAMES = {"T-shirt/top": "T-shirt", "Ankle boot": "Boot", "Pullover": "Pullover"}


def short_name(name: str) -> str:
    """A short caption for a class name (``'Ankle boot'`` -> ``'Boot'``)."""
    return SHORT_NAMES.get(name, name)


def class_codes(class_names: Sequence[str]) -> list[str]:
    """Two-letter codes of class names for the captions of small multi-label images
    (``'T-shirt/top'`` -> ``'Ts'``, ``'Trouser'`` -> ``'Tr'``); the class numbers where two would collide."""
    codes = []
    for name in class_names:
        letters = "".join(ch for ch in short_name(name) if ch.isalpha())
        codes.append((letters[:1].upper() + letters[1:2].lower()) or "?")
    return codes if len(set(codes)) == len(codes) else [str(i) for i in range(len(class_names))]


def label_text(label, class_names: Sequence[str] | None = None, short: bool = True, sep: str = "+") -> str:
    """Caption of a multi-hot label vector: the names of its classes joined by ``sep``."""
    on = np.flatnonzero(to_numpy(label) > 0)
    if class_names is None:
        return sep.join(str(i) for i in on) or "-"
    return sep.join(short_name(class_names[i]) if short else class_names[i] for i in on) or "-"


def class_key(class_names: Sequence[str], codes: Sequence[str] | None = None, lines: int = 2) -> str:
    """The key of the class codes, ``'classes: Ts = T-shirt, Tr = Trouser, ...'``, in ``lines`` lines."""
    codes = class_codes(class_names) if codes is None else codes
    key = [f"{c} = {short_name(n)}" for c, n in zip(codes, class_names)]
    per = -(-len(key) // max(1, lines))
    parts = [", ".join(key[i:i + per]) for i in range(0, len(key), per)]
    return "classes: " + ",\n".join(parts)


def label_captions(labels, class_names: Sequence[str] | None = None) -> tuple[list[str], str | None]:
    """Captions of a batch of multi-hot labels and the key they need.

    When some image has more than one label, each caption is the two-letter
    codes of its classes (:func:`class_codes`) separated by spaces, e.g.
    ``'Ts Sa Bo'``, short enough to stay on one or two lines at 8 pt under a
    small image, and the key (:func:`class_key`) says what the codes mean;
    with one label each, the captions are the short class names and the key
    is None.
    """
    y = to_numpy(labels)
    if class_names is None:
        return [label_text(v) for v in y], None
    if len(y) and (y > 0).sum(-1).max() > 1:
        codes = class_codes(class_names)
        return [label_text(v, codes, short=False, sep=" ") for v in y], class_key(class_names, codes)
    return [label_text(v, class_names) for v in y], None


def wrap_caption(text: str, max_chars: int, sep: str = "+") -> str:
    """Break a caption such as ``'Trouser+Sandal+Bag'`` into lines of at most
    ``max_chars`` characters, at the ``sep`` joints (a single long name stays whole)."""
    lines: list[str] = []
    for part in text.split("\n"):
        tokens, line = part.split(sep), ""
        for tok in tokens:
            candidate = f"{line}{sep}{tok}" if line else tok
            if line and len(candidate) > max_chars:
                lines.append(line + sep)
                line = tok
            else:
                line = candidate
        lines.append(line)
    return "\n".join(lines)


def chars_per_line(width_in: float, fontsize: float) -> int:
    """About how many characters of ``fontsize`` points fit in ``width_in`` inches."""
    return max(4, int(width_in * 72 / (0.66 * fontsize)))


def line_height(fontsize: float) -> float:
    """Height in inches of one text line of ``fontsize`` points."""
    return fontsize * 1.3 / 72


def to_image(x) -> np.ndarray:
    """(C, H, W) or (H, W) in [0, 1] -> (H, W) or (H, W, 3) for imshow."""
    a = to_numpy(x).astype(np.float32)
    if a.ndim == 3:
        a = a[0] if a.shape[0] == 1 else np.transpose(a, (1, 2, 0))
    return np.clip(a, 0.0, 1.0)


def show_image(ax, x, caption: str | None = None, border: str | None = None, fontsize: float = 8) -> None:
    """Draw one image on ``ax`` (grey colour map for one channel), with a caption below."""
    img = to_image(x)
    ax.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0.0, vmax=1.0, interpolation="nearest")
    if border:
        frame(ax, border)
    else:
        ax.set_axis_off()
    if caption:
        ax.set_xlabel(caption, fontsize=fontsize, labelpad=2)
        if not border:  # set_axis_off hides the xlabel: put the caption as a title instead
            ax.set_title(caption, fontsize=fontsize, pad=2)


def image_grid(images, captions: Sequence[str] | None = None, ncols: int = 10, title: str | None = None,
               width: float = BOOK_WIDTH, fontsize: float = 8, labels=None, class_names: Sequence[str] | None = None):
    """A grid of images with a caption above each.

    Args:
        images: (N, C, H, W) tensor/array in [0, 1] (or a list of (C, H, W)).
        captions: N strings (e.g. from :func:`label_text`; long multi-label
            captions are wrapped at their ``+`` joints), or None.
        ncols: images per row.
        title: figure title.
        labels, class_names: (N, L) multi-hot labels and the class names, to
            caption the images by :func:`label_captions` instead of
            ``captions`` (two-letter class codes with their key under the
            title when an image has several labels).
    Returns:
        the Figure.
    """
    images = [to_numpy(x) for x in images]
    n = len(images)
    if n == 0:
        raise ValueError("image_grid needs at least one image")
    key = None
    if labels is not None:
        captions, key = label_captions(labels, class_names)
        if key:
            title = f"{title}\n{key}" if title else key
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    cell = width / ncols
    if captions is not None:
        captions = [wrap_caption(str(c), chars_per_line(cell * 0.95, fontsize), sep=" " if key else "+")
                    for c in captions]
    lines = max((c.count("\n") + 1 for c in captions), default=0) if captions is not None else 0
    row = cell * 0.92 + lines * line_height(fontsize) + 0.06
    head = 0.05 + (0.2 + 0.17 * (title.count("\n") + 1) if title else 0.0)
    fig = new_figure(height=nrows * row + head, width=width)
    axes = np.atleast_1d(fig.subplots(nrows, ncols)).reshape(-1)
    for i, ax in enumerate(axes):
        if i < n:
            show_image(ax, images[i], captions[i] if captions is not None else None, fontsize=fontsize)
        else:
            ax.set_axis_off()
    if title:
        fig.suptitle(title, fontsize=9 if "\n" in title else None)
    return fig
