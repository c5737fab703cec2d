#!/usr/bin/env python
"""Fetch the JavaScript the book's pages load, so they work without network.

By default jupyter-book pages load MathJax (equations) and, on pages with
ipywidgets, require.js and @jupyter-widgets/html-manager from CDNs. This script
takes pinned copies from the npm registry (``npm pack``) into ``DEST``:

- ``DEST/mathjax/``       MathJax 3 ``es5/`` (``tex-mml-chtml.js`` and what it loads)
- ``DEST/require.js``     RequireJS
- ``DEST/embed-amd.js``   html-manager's widget renderer (core ipywidgets bundled),
  with its chunks and fonts

``scripts/stage_book.py`` copies ``DEST`` to ``_build/src/_vendor/vendor/``;
``_config.yml`` copies that to the HTML output's ``vendor/`` (``html_extra_path``)
and points ``mathjax_path`` and ``nb_ipywidgets_js`` there.

Usage: python scripts/vendor_js.py --dest DIR
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

# npm spec -> list of (member prefix in the tarball, destination relative to DEST).
PACKAGES: dict[str, list[tuple[str, str]]] = {
    "mathjax@3.2.2": [("package/es5/", "mathjax/")],
    "requirejs@2.3.7": [("package/require.js", "require.js")],
    "@jupyter-widgets/html-manager@1.0.15": [("package/dist/", "")],
}
SKIP_SUFFIXES = (".map",)
SKIP_NAMES = {"embed.js", "libembed-amd.js"}  # unused bundles (embed-amd.js is the one loaded)


def extract(tarball: Path, rules: list[tuple[str, str]], dest: Path) -> int:
    count = 0
    with tarfile.open(tarball) as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            for prefix, target in rules:
                if member.name == prefix:
                    out = dest / target
                elif prefix.endswith("/") and member.name.startswith(prefix):
                    out = dest / target / member.name[len(prefix):]
                else:
                    continue
                if out.name.endswith(SKIP_SUFFIXES) or out.name in SKIP_NAMES:
                    break
                if ".." in Path(member.name).parts:
                    raise SystemExit(f"error: unsafe path in {tarball.name}: {member.name}")
                out.parent.mkdir(parents=True, exist_ok=True)
                with tar.extractfile(member) as src, open(out, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                count += 1
                break
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dest", required=True, help="folder to (re)create with the vendored files")
    args = parser.parse_args(argv)
    npm = shutil.which("npm")
    if npm is None:
        print("error: npm not found; install Node.js/npm (Debian: apt-get install npm) "
              "so the book's pages can carry MathJax and the widget renderer", file=sys.stderr)
        return 1
    dest = Path(args.dest).resolve()
    with tempfile.TemporaryDirectory(prefix="saat-vendor-") as tmp:
        tmp = Path(tmp)
        subprocess.run([npm, "pack", "--silent", "--pack-destination", str(tmp), *PACKAGES],
                       check=True, stdout=subprocess.DEVNULL, cwd=tmp)
        tarballs = sorted(tmp.glob("*.tgz"))
        if len(tarballs) != len(PACKAGES):
            raise SystemExit(f"error: npm pack gave {len(tarballs)} tarballs for {len(PACKAGES)} packages")
        staging = tmp / "vendor"
        for spec, rules in PACKAGES.items():
            # npm names a tarball <scope>-<name>-<version>.tgz
            name, version = spec.lstrip("@").rsplit("@", 1)
            tarball = tmp / f"{name.replace('/', '-')}-{version}.tgz"
            n = extract(tarball, rules, staging)
            if n == 0:
                raise SystemExit(f"error: nothing extracted from {spec}")
            print(f"vendor: {spec}: {n} files")
        for required in ("mathjax/tex-mml-chtml.js", "require.js", "embed-amd.js"):
            if not (staging / required).is_file():
                raise SystemExit(f"error: {required} missing after extraction")
        if dest.exists():
            shutil.rmtree(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staging), dest)
    print(f"vendor: JavaScript for offline pages in {dest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
