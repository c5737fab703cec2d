"""Executing the book's chapters with papermill: the one runner behind
``scripts/run_chapters.py`` (``make chapters``), the tests and any caller.

- :func:`toc_notebooks`: the notebook chapters ``_toc.yml`` lists, in order;
- :func:`run_chapter`: one chapter into an executed copy, refusing parameter
  names the chapter does not declare (papermill itself only warns and injects
  them anyway); the output goes to a ``.partial.ipynb`` file first and is
  renamed only on success, so a failed run is never mistaken for a finished one;
- :func:`run_chapters`: several chapters in a profile, skipping up-to-date
  copies (:func:`is_up_to_date`);
- :func:`use_venv_kernel`: Jupyter finds this interpreter's ``python3`` kernel first.

The kernel's working directory is the repository root (:data:`ROOT`), so
relative paths such as ``runs/`` and ``data/`` mean the same as for the CLI.
"""
from __future__ import annotations

import difflib
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterable

import nbformat
import papermill as pm
import yaml

#: the repository root (the book's ``_toc.yml``, ``book/``, ``runs/``)
ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_SUFFIXES = (".ipynb", ".md", ".rst", ".myst")
PARTIAL_SUFFIX = ".partial.ipynb"

log = logging.getLogger(__name__)


# --- the table of contents -------------------------------------------------------

def toc_entries(toc_path: Path = ROOT / "_toc.yml") -> list[str]:
    """Every ``file:``/``root:`` entry of a jupyter-book ``_toc.yml``, in order."""
    toc = yaml.safe_load(Path(toc_path).read_text()) or {}
    out: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            for key in ("root", "file"):
                if isinstance(node.get(key), str):
                    out.append(node[key])
            for key in ("parts", "chapters", "sections", "subtrees", "entries"):
                for child in node.get(key) or []:
                    walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(toc)
    return out


def resolve_entry(entry: str, root: Path = ROOT) -> Path | None:
    """The file a toc entry names (with or without its suffix), or None."""
    path = root / entry
    if path.suffix in NOTEBOOK_SUFFIXES and path.is_file():
        return path
    for suffix in NOTEBOOK_SUFFIXES:
        candidate = path.with_name(path.name + suffix)
        if candidate.is_file():
            return candidate
    return None


def toc_notebooks(root: Path = ROOT) -> list[Path]:
    """The ``.ipynb`` chapters listed in ``_toc.yml``, relative to ``root``."""
    found = []
    for entry in toc_entries(root / "_toc.yml"):
        path = resolve_entry(entry, root)
        if path is None:
            raise SystemExit(f"error: _toc.yml entry {entry!r} names no existing file")
        if path.suffix == ".ipynb":
            found.append(path.relative_to(root))
    return found


# --- one chapter ----------------------------------------------------------------------

def use_venv_kernel() -> None:
    """Put this interpreter's ``share/jupyter`` first on ``$JUPYTER_PATH``, so kernel ``python3`` is ours
    (the venv's, not one a user installed elsewhere); subprocesses inherit it."""
    share = str(Path(sys.prefix) / "share" / "jupyter")
    paths = [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p]
    if share not in paths:
        os.environ["JUPYTER_PATH"] = os.pathsep.join([share, *paths])


def chapter_parameters(path: str | os.PathLike) -> dict[str, Any]:
    """The parameters a chapter declares in its ``parameters`` cell, with their defaults (as source text)."""
    return {name: info.get("default") for name, info in pm.inspect_notebook(str(path)).items()}


def partial_path(output_path: str | os.PathLike) -> Path:
    """Where :func:`run_chapter` writes before it renames: ``NAME.partial.ipynb`` beside ``NAME.ipynb``."""
    output_path = Path(output_path)
    return output_path.with_name(output_path.stem + PARTIAL_SUFFIX)


def run_chapter(path: str | os.PathLike, output_path: str | os.PathLike, *, kernel_name: str = "python3",
                cwd: str | os.PathLike | None = None, timeout: int | None = None, **parameters) -> Path:
    """Execute chapter ``path`` with papermill into ``output_path``.

    ``parameters`` override the chapter's ``parameters`` cell (e.g.
    ``profile="smoke"``); names the cell does not define are refused, so a
    typo cannot silently run the default settings. The kernel's working
    directory is ``cwd`` (default: the repository root), as for ``make chapters``.
    The executed notebook is written to :func:`partial_path` and renamed to
    ``output_path`` on success; after a failure the partial file is kept for
    inspection.

    Returns:
        ``output_path`` as a :class:`~pathlib.Path`.
    Raises:
        ValueError: a parameter name the chapter does not declare (the message
            lists the declared ones and the closest match).
        papermill.PapermillExecutionError: a cell failed.
    """
    declared = chapter_parameters(path)
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, list(declared), n=1)
            hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise ValueError(f"{Path(path).name} has no parameter {', '.join(hints)}; "
                         f"its parameters are {sorted(declared)}")
    use_venv_kernel()
    output_path = Path(output_path)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_path(output_path)
    pm.execute_notebook(str(path), str(partial), parameters=parameters, kernel_name=kernel_name,
                        cwd=str(cwd or ROOT), progress_bar=False, log_output=False,
                        execution_timeout=timeout)
    partial.replace(output_path)
    return output_path


# --- the book's chapters ------------------------------------------------------------------

def newest_mtime(paths: Iterable[Path]) -> float:
    """The latest modification time of ``paths`` (0 when there are none)."""
    return max((p.stat().st_mtime for p in paths), default=0.0)


def library_mtime(root: Path = ROOT) -> float:
    """The latest modification time of the library's sources (``saatlib/**/*.py``)."""
    return newest_mtime((root / "saatlib").rglob("*.py"))


def is_up_to_date(src: Path, dst: Path, profile: str, deps_mtime: float) -> bool:
    """Whether the executed copy ``dst`` of chapter ``src`` is newer than it and than
    ``deps_mtime`` (the library's sources) and was made with ``profile``."""
    if not dst.is_file():
        return False
    if dst.stat().st_mtime < max(src.stat().st_mtime, deps_mtime):
        return False
    try:
        nb = nbformat.read(dst, as_version=4)
    except Exception:  # unreadable: not up to date
        return False
    params = nb.metadata.get("papermill", {}).get("parameters", {})
    return params.get("profile") == profile


def _log(message: str, file=None, flush: bool = False) -> None:
    """The default ``say`` of :func:`run_chapters`: failures (``file=sys.stderr``) as errors, else info."""
    (log.error if file is sys.stderr else log.info)(message)


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def run_chapters(notebooks: Iterable[Path], profile: str, out_dir: str | os.PathLike, force: bool = False,
                 kernel_name: str = "python3", timeout: int | None = None, root: Path = ROOT,
                 say: Callable[..., None] | None = None) -> list[Path]:
    """Execute chapters ``notebooks`` (paths relative to ``root``) with ``-p profile PROFILE``
    into ``out_dir/<same path>``, in order.

    A chapter is skipped when its executed copy is up to date
    (:func:`is_up_to_date`, against every file under ``saatlib/``) unless
    ``force``. ``$SAAT_PROFILE`` is set to ``profile`` for the kernels. A
    failed chapter is reported (``say``, to stderr) with its partial output
    kept, and the others still run. ``say(message, **print_kwargs)`` reports progress (the
    script passes ``print``); by default it goes to this module's logger.

    Returns:
        the chapters that failed (empty: all done or up to date).
    """
    say = say or _log
    use_venv_kernel()
    os.environ["SAAT_PROFILE"] = profile
    out_dir = Path(root, out_dir).resolve()
    deps_mtime = library_mtime(root)
    failed = []
    for rel in notebooks:
        src, dst = root / rel, out_dir / rel
        if not force and is_up_to_date(src, dst, profile, deps_mtime):
            say(f"chapters: {rel} up to date (profile {profile})")
            continue
        say(f"chapters: executing {rel} (profile {profile}) ...", flush=True)
        start = time.perf_counter()
        try:
            run_chapter(src, dst, kernel_name=kernel_name, cwd=root, timeout=timeout, profile=profile)
        except Exception as exc:  # papermill's error names the failing cell
            say(f"chapters: FAILED {rel} after {time.perf_counter() - start:.1f}s; "
                f"partial output kept in {_shown(partial_path(dst), root)}\n{exc}", file=sys.stderr)
            failed.append(rel)
            continue
        say(f"chapters: {rel} done in {time.perf_counter() - start:.1f}s")
    return failed
