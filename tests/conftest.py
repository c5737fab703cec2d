"""Session-wide test settings shared by every test module.

- ``SAAT_RUNS`` points at a fresh temporary run store for the whole session,
  so tests never read or write the user's ``runs/`` (set in os.environ before
  collection, so notebook kernels and subprocesses inherit it too).
- Jupyter finds this interpreter's own ``python3`` kernel first: papermill
  through :func:`saatlib.chapters.runner.use_venv_kernel`, which every chapter
  run calls (and JupyterLab in tests/test_lab.py).
- ``smoke_chapters``: every chapter executed once per session in the smoke
  profile (``scripts/run_chapters.py``, as ``make chapters`` does), shared by
  the chapter tests and the rendered-book tests.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import torch

_RUNS_DIR: str | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _RUNS_DIR
    _RUNS_DIR = tempfile.mkdtemp(prefix="saat-test-runs-")
    os.environ["SAAT_RUNS"] = _RUNS_DIR


def pytest_unconfigure(config: pytest.Config) -> None:
    if _RUNS_DIR:
        shutil.rmtree(_RUNS_DIR, ignore_errors=True)


@pytest.fixture(scope="session")
def runs_dir() -> Path:
    """The session's temporary run store (the value of ``$SAAT_RUNS``)."""
    return Path(os.environ["SAAT_RUNS"])


@pytest.fixture(scope="module")
def one_thread():
    """One torch CPU thread for a test module, restored after it.

    Small batches gain nothing from threads and on a busy 2-core machine they
    cost; modules opt in with ``pytestmark = pytest.mark.usefixtures("one_thread")``.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


ROOT = Path(__file__).resolve().parent.parent


class SmokeChapters:
    """The chapters executed once in the smoke profile: ``folder`` holds ``book/NN_name.ipynb``."""

    def __init__(self, folder: Path, log: str, returncode: int):
        self.folder, self.log, self.returncode = folder, log, returncode

    def notebook(self, stem: str) -> Path:
        """The executed chapter ``stem``; fails the calling test with the run's log when it did not run."""
        path = self.folder / "book" / f"{stem}.ipynb"
        if not path.is_file():
            pytest.fail(f"chapter {stem} did not execute in the smoke profile:\n{self.log[-6000:]}")
        return path


@pytest.fixture(scope="session")
def smoke_chapters(tmp_path_factory) -> SmokeChapters:
    """Every chapter of _toc.yml executed once, in order, in the smoke profile, with the session's run store."""
    folder = tmp_path_factory.mktemp("smoke-chapters") / "executed"
    proc = subprocess.run([sys.executable, "scripts/run_chapters.py", "--profile", "smoke", "--force",
                           "--out", str(folder)], cwd=ROOT, capture_output=True, text=True, timeout=1800)
    return SmokeChapters(folder, proc.stdout + proc.stderr, proc.returncode)
