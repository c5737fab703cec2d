"""scripts/stage_book.py hides papermill's injected parameters cell and changes nothing else."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from stage_book import staged_notebook, sync  # noqa: E402


def _executed_like(path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    own = nbformat.v4.new_code_cell('# Parameters: papermill replaces these values\nprofile = "default"')
    own.metadata["tags"] = ["parameters"]
    injected = nbformat.v4.new_code_cell('# Parameters\nprofile = "smoke"\n')
    injected.metadata["tags"] = ["injected-parameters"]
    body = nbformat.v4.new_code_cell("print(profile)")
    nb.cells = [own, injected, body]
    nbformat.write(nb, str(path))
    return path


def test_injected_parameters_cell_is_removed_from_the_page(tmp_path):
    src = _executed_like(tmp_path / "chapter.ipynb")
    staged = json.loads(staged_notebook(src))
    tags = [c["metadata"].get("tags", []) for c in staged["cells"]]
    assert tags == [["parameters"], ["injected-parameters", "remove-cell"], []]
    original = json.loads(src.read_text())
    for before, after in zip(original["cells"], staged["cells"]):
        assert before["source"] == after["source"]


def test_sync_rewrites_a_notebook_only_when_it_changed(tmp_path):
    src = _executed_like(tmp_path / "chapter.ipynb")
    dest = tmp_path / "staged"
    assert sync({Path("book/chapter.ipynb"): src}, dest) == (1, 0)
    assert sync({Path("book/chapter.ipynb"): src}, dest) == (0, 0)
    nbformat.validate(nbformat.read(str(dest / "book" / "chapter.ipynb"), as_version=4))
