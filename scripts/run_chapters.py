#!/usr/bin/env python
"""Execute the book's notebook chapters with papermill.

Every ``.ipynb`` chapter listed in ``_toc.yml`` is run with the venv's
``python3`` kernel, with ``-p profile PROFILE`` (papermill injects it after the
cell tagged ``parameters``), and written to ``OUT/<same path>``, e.g.
``book/01_hashing.ipynb`` -> ``_build/executed/book/01_hashing.ipynb``. The
kernel's working directory is the repository root, so relative paths such as
``runs/`` and ``data/`` mean the same as for the CLI.

A chapter is skipped when its executed copy is newer than the notebook and
every file under ``saatlib/`` and was made with the same profile (``--force``
runs it anyway). Output goes to a ``.partial.ipynb`` file first and is renamed
only on success, so a failed run is never mistaken for an up-to-date one; the
partial file is kept for inspection.

The source notebooks are never modified.

Usage: python scripts/run_chapters.py [--profile NAME] [--out DIR] [--force] [CHAPTER ...]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_SUFFIXES = (".ipynb", ".md", ".rst", ".myst")


def toc_entries(toc_path: Path = ROOT / "_toc.yml") -> list[str]:
    """Every ``file:``/``root:`` entry of a jupyter-book ``_toc.yml``, in order."""
    import yaml

    toc = yaml.safe_load(toc_path.read_text()) or {}
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


def _newest_mtime(paths) -> float:
    return max((p.stat().st_mtime for p in paths), default=0.0)


def is_up_to_date(src: Path, dst: Path, profile: str, deps_mtime: float) -> bool:
    if not dst.is_file():
        return False
    if dst.stat().st_mtime < max(src.stat().st_mtime, deps_mtime):
        return False
    import nbformat

    try:
        nb = nbformat.read(dst, as_version=4)
    except Exception:
        return False
    params = nb.metadata.get("papermill", {}).get("parameters", {})
    return params.get("profile") == profile


def check_profile(profile: str) -> None:
    try:
        from saatlib.profiles import profile_names
    except ImportError:  # saatlib not importable: let the chapters complain
        return
    if profile not in profile_names():
        raise SystemExit(f"error: unknown profile {profile!r}; choose one of {profile_names()}")


def use_venv_kernel() -> None:
    """Put this interpreter's share/jupyter first, so kernel ``python3`` is ours."""
    share = str(Path(sys.prefix) / "share" / "jupyter")
    paths = [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p]
    if share not in paths:
        os.environ["JUPYTER_PATH"] = os.pathsep.join([share, *paths])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default=os.environ.get("SAAT_PROFILE") or "default",
                        help="value of the chapters' `profile` parameter (default: $SAAT_PROFILE or 'default')")
    parser.add_argument("--out", default="_build/executed", help="folder for executed notebooks")
    parser.add_argument("--force", action="store_true", help="execute even up-to-date chapters")
    parser.add_argument("--kernel", default="python3", help="Jupyter kernel name (default python3)")
    parser.add_argument("--timeout", type=int, default=None, help="per-cell timeout in seconds (default: none)")
    parser.add_argument("chapters", nargs="*", help="only these chapters (paths as in _toc.yml)")
    args = parser.parse_args(argv)

    check_profile(args.profile)
    notebooks = toc_notebooks()
    if args.chapters:
        wanted = {Path(c).with_suffix(".ipynb") for c in args.chapters}
        unknown = wanted - set(notebooks)
        if unknown:
            raise SystemExit(f"error: not notebook chapters in _toc.yml: {sorted(map(str, unknown))}")
        notebooks = [nb for nb in notebooks if nb in wanted]
    if not notebooks:
        print("chapters: no notebook chapters in _toc.yml; nothing to execute")
        return 0

    use_venv_kernel()
    os.environ["SAAT_PROFILE"] = args.profile
    import papermill as pm

    out_dir = (ROOT / args.out).resolve()
    deps_mtime = _newest_mtime((ROOT / "saatlib").rglob("*.py"))
    failed = []
    for rel in notebooks:
        src, dst = ROOT / rel, out_dir / rel
        if not args.force and is_up_to_date(src, dst, args.profile, deps_mtime):
            print(f"chapters: {rel} up to date (profile {args.profile})")
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        partial = dst.with_name(dst.stem + ".partial.ipynb")
        print(f"chapters: executing {rel} (profile {args.profile}) ...", flush=True)
        start = time.perf_counter()
        try:
            pm.execute_notebook(
                str(src),
                str(partial),
                parameters={"profile": args.profile},
                kernel_name=args.kernel,
                cwd=str(ROOT),
                progress_bar=False,
                log_output=False,
                execution_timeout=args.timeout,
            )
        except Exception as exc:  # papermill's error names the failing cell
            print(f"chapters: FAILED {rel} after {time.perf_counter() - start:.1f}s; "
                  f"partial output kept in {partial.relative_to(ROOT)}\n{exc}", file=sys.stderr)
            failed.append(rel)
            continue
        partial.replace(dst)
        print(f"chapters: {rel} done in {time.perf_counter() - start:.1f}s")
    if failed:
        print(f"chapters: {len(failed)} failed: {', '.join(map(str, failed))}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
