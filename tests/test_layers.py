"""The import directions of ARCHITECTURE.md, read from the source with ``ast``.

Layers, lowest first: foundations, algorithms, the run store, the experiments
layer, presentation. A module may import its own layer or a lower one, never a
higher one; the algorithm packages never reach the run store or the experiments.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "saatlib"

LAYERS = {
    "foundations": {"primitives", "seeding", "schedules", "atomic", "profiles", "checkpoint", "compute", "epochs"},
    # distributed: torchrun helpers of the training loop (shards the data loader)
    "algorithms": {"data", "models", "hashing", "dmfl", "attack", "defense", "metrics", "distributed"},
    "store": {"store"},
    "experiments": {"experiments"},
    "presentation": {"fidelity", "report", "plots", "widgets", "chapters", "cli", "__main__"},
}
RANK = {name: i for i, name in enumerate(LAYERS)}


def layer_of(top: str) -> str | None:
    for layer, members in LAYERS.items():
        if top in members:
            return layer
    return None


def saatlib_imports(path: Path) -> list[tuple[int, str]]:
    """(line, top-level saatlib unit) of every import of ``path``, functions included."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "saatlib":
                out += [(node.lineno, alias.name) for alias in node.names]
            elif node.module.startswith("saatlib."):
                out.append((node.lineno, node.module.split(".")[1]))
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name.split(".")[1]) for a in node.names if a.name.startswith("saatlib.")]
    return out


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


def unit_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def test_every_module_has_a_layer():
    assert [str(p.relative_to(PACKAGE)) for p in MODULES if layer_of(unit_of(p)) is None] == []


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_go_down_the_layers(path: Path):
    own = layer_of(unit_of(path))
    upward = [f"line {line}: saatlib.{unit} ({layer_of(unit)})" for line, unit in saatlib_imports(path)
              if layer_of(unit) is not None and RANK[layer_of(unit)] > RANK[own]]
    assert upward == [], f"{path.relative_to(PACKAGE)} ({own}) imports a higher layer"


def test_the_check_sees_a_violation(tmp_path):
    """The checker itself: an algorithm module importing the run store is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text("import torch\nfrom saatlib.store import RunStore\nfrom saatlib import experiments\n")
    assert [u for _, u in saatlib_imports(bad)] == ["store", "experiments"]
    assert all(RANK[layer_of(u)] > RANK["algorithms"] for _, u in saatlib_imports(bad))
