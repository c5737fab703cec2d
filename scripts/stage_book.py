#!/usr/bin/env python
"""Lay out the jupyter-book source folder that ``make html`` renders.

``DEST`` (default ``_build/src``) receives, with their paths kept:

- ``_config.yml`` and ``_toc.yml`` from the repository root (the book's real config),
- every file under ``book/`` except notebooks (pages, figures, bibliographies),
- root-level ``*.bib`` files and ``_static/``, ``_templates/`` if present,
- for each notebook chapter in ``_toc.yml``, its *executed* copy from
  ``EXECUTED`` (written by ``scripts/run_chapters.py``), never the source, with
  papermill's injected parameters cell (tag ``injected-parameters``) tagged
  ``remove-cell``: the page shows the chapter's own ``parameters`` cell only,
- the vendored JavaScript (``scripts/vendor_js.py``) as ``_vendor/vendor/``,
  which ``_config.yml`` copies to the output's ``vendor/`` (``html_extra_path``)
  and points MathJax and the widget renderer at, with the book's own
  ``_js/*.js`` beside it (``_js/widgets-setup.js``: the renderer's set-up).

The copy is a sync: unchanged files keep their times (so Sphinx rebuilds only
what changed) and files no longer wanted are removed. The source tree is only read.

Usage: python scripts/stage_book.py [--executed DIR] [--dest DIR] [--vendor DIR]
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's saatlib, whatever is installed
from saatlib.chapters.runner import ROOT, toc_notebooks  # noqa: E402

SKIP_PARTS = {".ipynb_checkpoints", "__pycache__", ".DS_Store"}
#: papermill's tag on the cell it injects after the ``parameters`` cell
INJECTED = "injected-parameters"
HIDDEN = "remove-cell"


def staged_notebook(path: Path) -> bytes:
    """The executed notebook ``path`` as the book renders it: papermill's injected
    parameters cell (a second "# Parameters" cell under the chapter's own) is
    tagged ``remove-cell``; everything else is kept as it is."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        if INJECTED in tags and HIDDEN not in tags:
            tags.append(HIDDEN)
    return (json.dumps(nb, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def wanted_files(executed: Path, vendor: Path) -> dict[Path, Path]:
    """Map staged path (relative) -> file to copy."""
    files: dict[Path, Path] = {}
    if not (vendor / "mathjax" / "tex-mml-chtml.js").is_file():
        raise SystemExit(f"error: no vendored JavaScript in {vendor}; "
                         "run `make html` (or scripts/vendor_js.py --dest DIR)")
    for path in vendor.rglob("*"):
        if path.is_file():
            files[Path("_vendor", "vendor", path.relative_to(vendor))] = path
    for path in (ROOT / "_js").glob("*.js"):
        files[Path("_vendor", "vendor", path.name)] = path
    for name in ("_config.yml", "_toc.yml"):
        files[Path(name)] = ROOT / name
    for bib in ROOT.glob("*.bib"):
        files[Path(bib.name)] = bib
    for folder in ("book", "_static", "_templates"):
        base = ROOT / folder
        if not base.is_dir():
            continue
        for path in base.rglob("*"):
            rel = path.relative_to(ROOT)
            if path.is_file() and path.suffix != ".ipynb" and not SKIP_PARTS & set(rel.parts):
                files[rel] = path
    missing = []
    for rel in toc_notebooks():
        done = executed / rel
        if not done.is_file():
            missing.append(str(rel))
            continue
        if done.stat().st_mtime < (ROOT / rel).stat().st_mtime:
            print(f"stage: warning: {done} is older than {rel}; run `make chapters`", file=sys.stderr)
        files[rel] = done
    if missing:
        raise SystemExit(f"error: not executed yet: {', '.join(missing)} (looked in {executed}); "
                         "run `make chapters` (or `make book`)")
    return files


def sync(files: dict[Path, Path], dest: Path) -> tuple[int, int]:
    copied = removed = 0
    dest.mkdir(parents=True, exist_ok=True)
    for rel, src in files.items():
        target = dest / rel
        if rel.suffix == ".ipynb":  # rewritten (see staged_notebook); written only when it changed
            data = staged_notebook(src)
            if not (target.is_file() and target.read_bytes() == data):
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
                copied += 1
            continue
        if target.is_file():
            s, t = src.stat(), target.stat()
            if s.st_size == t.st_size and int(s.st_mtime) == int(t.st_mtime):
                continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)
        copied += 1
    for path in sorted(dest.rglob("*"), reverse=True):  # children before parents
        rel = path.relative_to(dest)
        if path.is_file() and rel not in files:
            path.unlink()
            removed += 1
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return copied, removed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--executed", default="_build/executed", help="folder of executed notebooks")
    parser.add_argument("--dest", default="_build/src", help="staging folder to build the book from")
    parser.add_argument("--vendor", default=".venv/share/saat-book/vendor",
                        help="vendored JavaScript (scripts/vendor_js.py), staged as _vendor/vendor")
    args = parser.parse_args(argv)
    executed, dest = (ROOT / args.executed).resolve(), (ROOT / args.dest).resolve()
    vendor = (ROOT / args.vendor).resolve()
    if dest == ROOT or ROOT.is_relative_to(dest) or not dest.is_relative_to(ROOT / "_build"):
        raise SystemExit(f"error: refusing to stage into {dest}: it must lie under {ROOT / '_build'}")
    files = wanted_files(executed, vendor)
    copied, removed = sync(files, dest)
    print(f"stage: {len(files)} files in {dest.relative_to(ROOT)} ({copied} copied, {removed} removed)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
