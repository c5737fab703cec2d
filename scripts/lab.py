#!/usr/bin/env python
"""Open the book's chapters live in JupyterLab (``make lab``).

The reader works on copies: every chapter listed in ``_toc.yml`` is copied
from ``book/`` to ``lab/`` (git-ignored) unless a copy is already there, so
edits, outputs and widget state saved in Lab never touch the tracked
notebooks, and a second ``make lab`` keeps the reader's work (``--reset``, or
``make lab RESET=1``, copies afresh; ``rm -r lab`` too).

JupyterLab is then started at the repository root, on 127.0.0.1 only, with
``--allow-root`` when run as root, on the first chapter. The kernel is the
venv's ``python3`` (``make setup`` installs it into the venv, where this
JupyterLab looks first). ``$SAAT_PROFILE`` reaches the kernel, and every
chapter's ``parameters`` cell reads it, so ``make lab PROFILE=smoke`` runs the
chapters in seconds. A browser is opened where there is a display; JupyterLab
prints the URL (with its token) either way.

Usage: python scripts/lab.py [--port N] [--reset] [--no-browser] [--dry-run]
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's saatlib, whatever is installed
from saatlib.chapters.runner import ROOT, toc_notebooks, use_venv_kernel  # noqa: E402

LAB = ROOT / "lab"


def copy_chapters(dest: Path = LAB, reset: bool = False) -> list[Path]:
    """Copy the chapters in ``_toc.yml`` to ``dest`` (existing copies are kept unless ``reset``)."""
    dest.mkdir(parents=True, exist_ok=True)
    copies = []
    for rel in toc_notebooks():
        target = dest / rel.name
        if reset or not target.exists():
            shutil.copyfile(ROOT / rel, target)
        copies.append(target)
    return copies


def has_display() -> bool:
    """Whether a browser window could open here (macOS and Windows always; Linux with X or Wayland)."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def lab_command(first: Path, port: int, browser: bool, root: Path = ROOT) -> list[str]:
    """The ``jupyter lab`` command line: ``root`` (the repository), loopback only, chapter ``first`` open."""
    cmd = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={root}", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={port}", f"--ServerApp.default_url=/lab/tree/{first.relative_to(root).as_posix()}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    if not browser:
        cmd.append("--no-browser")
    return cmd


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8888, help="first port to try (JupyterLab moves on if taken)")
    parser.add_argument("--reset", action="store_true", help="copy the chapters afresh, dropping edits in lab/")
    parser.add_argument("--no-browser", action="store_true", help="only print the URL")
    parser.add_argument("--dry-run", action="store_true", help="copy, print the command, start nothing")
    args = parser.parse_args(argv)
    copies = copy_chapters(reset=args.reset)
    if not copies:
        raise SystemExit("error: _toc.yml lists no notebook chapter")
    cmd = lab_command(copies[0], args.port, browser=has_display() and not args.no_browser)
    profile = os.environ.get("SAAT_PROFILE", "default")
    print(f"lab: {len(copies)} chapters in {LAB.relative_to(ROOT)}/ (copies: the tracked book/ stays clean); "
          f"profile {profile!r} (SAAT_PROFILE)", flush=True)
    print("lab: " + " ".join(cmd), flush=True)
    if args.dry_run:
        return 0
    use_venv_kernel()  # JupyterLab (and its kernels) find the venv's python3 kernel first
    os.chdir(ROOT)
    os.execv(sys.executable, cmd)


if __name__ == "__main__":
    raise SystemExit(main())
