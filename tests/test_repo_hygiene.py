"""Repository hygiene: notebooks, table of contents, CI entry point, pins.

Chapters are committed *without* outputs (papermill executes them into
_build/executed/ for the book), each has a cell tagged ``parameters`` that
sets ``profile``, and _toc.yml lists exactly the notebooks in book/.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import nbformat
import pytest
import yaml

from saatlib.chapters.runner import resolve_entry, toc_entries

ROOT = Path(__file__).resolve().parent.parent

NOTEBOOKS = sorted(p for p in (ROOT / "book").glob("*.ipynb") if not p.name.endswith(".partial.ipynb"))


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


# --- table of contents -----------------------------------------------------------

def test_toc_is_a_jupyter_book_toc():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    assert toc["format"] == "jb-book"
    assert isinstance(toc.get("root"), str) and toc["root"]


def test_every_toc_entry_exists():
    entries = toc_entries(ROOT / "_toc.yml")
    assert entries, "_toc.yml lists nothing, not even its root"
    missing = [e for e in entries if resolve_entry(e, ROOT) is None]
    assert not missing, f"_toc.yml entries with no file: {missing}"
    assert len(entries) == len(set(entries)), "_toc.yml lists a file twice"


def test_every_notebook_is_in_the_toc():
    listed = {_rel(p) for e in toc_entries(ROOT / "_toc.yml") if (p := resolve_entry(e, ROOT))}
    unlisted = [_rel(nb) for nb in NOTEBOOKS if _rel(nb) not in listed]
    assert not unlisted, f"notebooks missing from _toc.yml: {unlisted}"


def test_no_notebooks_outside_book():
    stray = []
    for folder, dirs, files in os.walk(ROOT):
        # lab/ holds make lab's git-ignored working copies of the chapters
        dirs[:] = [d for d in dirs if not d.startswith((".", "_build")) and d not in {"runs", "data", "lab"}]
        stray += [_rel(Path(folder) / f) for f in files
                  if f.endswith(".ipynb") and Path(folder) != ROOT / "book"]
    assert not stray, f"notebooks outside book/: {stray}"


def test_book_executes_with_papermill_only():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["execute"]["execute_notebooks"] == "off"
    assert config.get("only_build_toc_files") is True


def test_book_pages_need_no_network():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    sphinx = config["sphinx"]["config"]
    assert sphinx["intersphinx_mapping"] == {}
    assert "://" not in sphinx["mathjax_path"]
    assert sphinx["nb_ipywidgets_js"] and not any("://" in url for url in sphinx["nb_ipywidgets_js"])
    assert not any(config["launch_buttons"].get(k) for k in ("binderhub_url", "jupyterhub_url", "colab_url", "deepnote_url", "thebe"))


# --- notebooks ---------------------------------------------------------------------

@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_clean(path: Path):
    raw = json.loads(path.read_text(encoding="utf-8"))  # valid JSON at all
    nb = nbformat.reads(json.dumps(raw), as_version=4)
    nbformat.validate(nb)

    kernelspec = nb.metadata.get("kernelspec", {})
    assert kernelspec.get("name") and kernelspec.get("display_name"), "no kernelspec metadata"
    assert "widgets" not in nb.metadata, "stored widget state: clear outputs before committing"

    code = [c for c in nb.cells if c.cell_type == "code"]
    with_outputs = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.get("outputs")]
    counted = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.get("execution_count") is not None]
    assert not with_outputs, f"cells with outputs: {with_outputs}"
    assert not counted, f"cells with execution counts: {counted}"

    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"need exactly one code cell tagged 'parameters', found {len(tagged)}"
    assert re.search(r"^profile\s*=", tagged[0].source, re.MULTILINE), \
        "the parameters cell must set `profile` (make chapters passes -p profile ...)"


# --- CI, set-up and docs ------------------------------------------------------------

def test_ci_runs_make_test():
    ci = ROOT / ".ci" / "run"
    text = ci.read_text()
    assert os.access(ci, os.X_OK), ".ci/run is not executable"
    assert text.startswith("#!/usr/bin/env bash") or text.startswith("#!/bin/bash")
    assert re.search(r"^set -euo pipefail$", text, re.MULTILINE)
    assert re.search(r"^\s*make test\s*$", text, re.MULTILINE), ".ci/run must run `make test`"


def _makefile_pins() -> dict[str, str]:
    text = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    match = re.search(r"^PIP_PINS\s*:?=(.*)$", text, re.MULTILINE)
    assert match, "Makefile has no PIP_PINS"
    return {re.split(r"[=<>]", req)[0].lower(): req for req in match.group(1).split()}


def test_makefile_and_environment_yml_agree():
    pins = _makefile_pins()
    assert pins["torch"] == "torch==2.14.1"
    assert pins["torchvision"] == "torchvision==0.29.1"
    assert pins["jupyter-book"] == "jupyter-book==1.0.4.post1"
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    assert any(str(d).replace(" ", "").startswith("python=3.11") for d in deps if isinstance(d, str))
    pip_reqs = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
    env_pins = {re.split(r"[=<>\[]", r)[0].lower(): r for r in pip_reqs if not r.startswith("-")}
    assert env_pins == pins, "environment.yml's pip section differs from the Makefile's PIP_PINS"
    assert any(r.replace(" ", "").startswith("-e.[book,test]") for r in pip_reqs)


def test_lab_works_on_ignored_copies():
    """make lab opens copies in lab/, which git ignores, so Lab never dirties book/."""
    assert "lab/" in (ROOT / ".gitignore").read_text().split()
    text = (ROOT / "Makefile").read_text()
    assert re.search(r"^lab:", text, re.MULTILINE) and "scripts/lab.py" in text
    assert "jupyterlab>=4,<5" in _makefile_pins().values()


def test_makefile_has_the_documented_targets():
    text = (ROOT / "Makefile").read_text()
    for target in ("book", "test", "chapters", "html", "clean", "bench", "setup"):
        assert re.search(rf"^{target}:", text, re.MULTILINE), f"no `make {target}`"


def test_readme_starts_with_the_two_commands():
    text = (ROOT / "README.md").read_text()
    first_block = re.search(r"```[a-z]*\n(.*?)```", text, re.DOTALL)
    assert first_block, "README has no code block"
    assert "make book" in first_block.group(1) and "make test" in first_block.group(1)
