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

The source notebooks are never modified. The work is done by
:mod:`saatlib.chapters.runner`; this script is its command line.

Usage: python scripts/run_chapters.py [--profile NAME] [--out DIR] [--force] [CHAPTER ...]
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's saatlib, whatever is installed
from saatlib.chapters.runner import run_chapters, toc_notebooks  # noqa: E402
from saatlib.profiles import profile_names  # noqa: E402


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

    if args.profile not in profile_names():
        raise SystemExit(f"error: unknown profile {args.profile!r}; choose one of {profile_names()}")
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

    failed = run_chapters(notebooks, args.profile, args.out, force=args.force, kernel_name=args.kernel,
                          timeout=args.timeout, say=print)
    if failed:
        print(f"chapters: {len(failed)} failed: {', '.join(map(str, failed))}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
