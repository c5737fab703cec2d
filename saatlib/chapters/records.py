"""Numbers a chapter records for the tests and the book's text.

Every number a test should check is stored in the executed notebook with
:func:`record` (``myst_nb.glue``, shown nowhere unless the text asks for it)
and read back by :func:`read_records`. Chapters call :func:`record` only in
cells tagged ``remove-cell`` (or ``remove-input``), so readers never see the
bookkeeping.
"""
from __future__ import annotations

import ast
import math
import os
from pathlib import Path
from typing import Any

import nbformat
import torch
from myst_nb import glue

#: MIME-type prefix of the outputs ``myst_nb.glue`` writes
RECORD_PREFIX = "application/papermill.record/"


def _plain(value: Any) -> Any:
    """``value`` as plain Python (bool, int, float, str, list, dict), for repr round trips."""
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot record a non-finite number ({value!r})")
        return float(value)  # numpy.float64 is a float whose repr ("np.float64(...)") does not read back
    if isinstance(value, torch.Tensor):
        return _plain(value.tolist())
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:  # numpy scalar
        return _plain(value.item())
    if hasattr(value, "tolist"):  # numpy array
        return _plain(value.tolist())
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    raise TypeError(f"cannot record a {type(value).__name__}; record numbers, strings, lists or dicts")


def record(name: str, value: Any) -> None:
    """Store ``value`` under ``name`` in the executed notebook, invisibly.

    Uses ``myst_nb.glue(name, value, display=False)``: the value can be shown
    in the book's text with ``{glue:}`name``` and read back by
    :func:`read_records`. Values must be numbers, strings, booleans, or lists
    and dicts of them (torch and numpy scalars are converted). Record each
    name once per notebook: the book build refuses duplicate names.
    """
    if not isinstance(name, str) or not name:
        raise ValueError("a record needs a non-empty string name")
    glue(name, _plain(value), display=False)


def _parse(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def read_records(executed_notebook_path: str | os.PathLike, allow_duplicates: bool = False) -> dict[str, Any]:
    """Every value a notebook stored with :func:`record` (or ``myst_nb.glue``), by name.

    Raises:
        ValueError: a name is recorded by two outputs (``jupyter-book build -W``
            fails on such duplicate glue keys); ``allow_duplicates=True`` keeps
            the last value instead.
    """
    nb = nbformat.read(str(executed_notebook_path), as_version=4)
    out: dict[str, Any] = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            scrap = output.get("metadata", {}).get("scrapbook", {})
            name = scrap.get("name")
            if name is None:
                continue
            if name in out and not allow_duplicates:
                raise ValueError(f"{Path(executed_notebook_path).name}: {name!r} is recorded twice "
                                 "(jupyter-book -W refuses duplicate glue keys)")
            data = output.get("data", {})
            text = data.get(scrap.get("mime_prefix", "") + "text/plain", data.get(RECORD_PREFIX + "text/plain"))
            if text is not None:
                out[name] = _parse("".join(text) if isinstance(text, list) else text)
    return out
