"""Where datasets live on disk: ``$SAAT_DATA/<name>`` or ``data/<name>``.

Lookup order for a dataset folder ``<name>``:

1. ``$SAAT_DATA/<name>`` when the environment variable ``SAAT_DATA`` is set;
2. ``data/<name>`` under the current working directory;
3. ``data/<name>`` under the saatlib checkout (the folder holding ``pyproject.toml``),
   so notebooks run from a sub-folder still find the repository's data.
"""
from __future__ import annotations

import os
from pathlib import Path

#: Environment variable naming a folder that holds one sub-folder per dataset.
ENV_VAR = "SAAT_DATA"


def repo_root() -> Path | None:
    """The saatlib checkout (folder with ``pyproject.toml`` above the package), if any."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").is_file() else None


def candidate_dirs(name: str) -> list[Path]:
    """Folders that may hold dataset ``name``, in lookup order, without duplicates."""
    bases: list[Path] = []
    if os.environ.get(ENV_VAR):
        bases.append(Path(os.environ[ENV_VAR]).expanduser())
    bases.append(Path.cwd() / "data")
    root = repo_root()
    if root is not None:
        bases.append(root / "data")
    out: list[Path] = []
    for base in bases:
        path = (base / name).absolute()
        if path not in out:
            out.append(path)
    return out


def find_dataset_dir(name: str) -> Path | None:
    """The first existing folder of :func:`candidate_dirs`, or None."""
    return next((p for p in candidate_dirs(name) if p.is_dir()), None)


def default_dataset_dir(name: str) -> Path:
    """Where a download of dataset ``name`` goes: ``$SAAT_DATA/<name>``, else the checkout's ``data/<name>``."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser().absolute() / name
    root = repo_root()
    return (root if root is not None else Path.cwd()) / "data" / name
