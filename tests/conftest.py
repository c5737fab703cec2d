"""Session-wide test settings shared by every test module.

- ``SAAT_RUNS`` points at a fresh temporary run store for the whole session,
  so tests never read or write the user's ``runs/`` (set in os.environ before
  collection, so notebook kernels and subprocesses inherit it too).
- Jupyter finds this interpreter's own ``python3`` kernel first: papermill
  through :func:`saatlib.chapters.runner.use_venv_kernel`, which every chapter
  run calls (and JupyterLab in tests/test_lab.py).
- ``smoke_chapters``: every chapter executed once per session in the smoke
  profile (``scripts/run_chapters.py``, as ``make chapters`` does), shared by
  the chapter tests, the rendered-book tests and the JupyterLab test. The run
  starts in the background as soon as the tests are collected (in a run store
  of its own, so it shares nothing with the tests running meanwhile), and the
  tests that need it are moved to the end of the session: the other tests run
  while the chapters execute.
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
    _stop_smoke_chapters()
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


#: the fixture whose tests wait for the background chapter run
SMOKE_FIXTURE = "smoke_chapters"
_SMOKE: dict = {}


def _start_smoke_chapters() -> None:
    """Start ``scripts/run_chapters.py --profile smoke`` in the background (once), into a folder and a
    run store of its own; one torch thread, as the tests running beside it share the machine."""
    if _SMOKE:
        return
    base = Path(tempfile.mkdtemp(prefix="saat-test-chapters-"))
    folder, runs = base / "executed", base / "runs"
    log = open(base / "run.log", "w+", encoding="utf-8")
    env = dict(os.environ, SAAT_RUNS=str(runs), OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "scripts/run_chapters.py", "--profile", "smoke", "--force",
                             "--out", str(folder)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    _SMOKE.update(base=base, folder=folder, runs=runs, log=log, proc=proc)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list) -> None:
    """Move the tests that use :func:`smoke_chapters` to the end (in their order) and start the chapter
    run in the background now, so every other test runs while the chapters execute."""
    waiting = [item for item in items if SMOKE_FIXTURE in getattr(item, "fixturenames", ())]
    if not waiting or config.option.collectonly:
        return
    rest = [item for item in items if SMOKE_FIXTURE not in getattr(item, "fixturenames", ())]
    items[:] = rest + waiting
    _start_smoke_chapters()


def _stop_smoke_chapters() -> None:
    proc = _SMOKE.get("proc")
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    if _SMOKE:
        _SMOKE["log"].close()
        shutil.rmtree(_SMOKE["base"], ignore_errors=True)


class SmokeChapters:
    """The chapters executed once in the smoke profile: ``folder`` holds ``book/NN_name.ipynb``, ``runs``
    is the run store they wrote."""

    def __init__(self, folder: Path, log: str, returncode: int, runs: Path):
        self.folder, self.log, self.returncode, self.runs = folder, log, returncode, runs

    def notebook(self, stem: str) -> Path:
        """The executed chapter ``stem``; fails the calling test with the run's log when it did not run."""
        path = self.folder / "book" / f"{stem}.ipynb"
        if not path.is_file():
            pytest.fail(f"chapter {stem} did not execute in the smoke profile:\n{self.log[-6000:]}")
        return path


@pytest.fixture(scope="session")
def smoke_chapters() -> SmokeChapters:
    """Every chapter of _toc.yml executed once, in order, in the smoke profile (started in the background
    at collection; this waits for it, 30 minutes at most)."""
    _start_smoke_chapters()
    proc = _SMOKE["proc"]
    try:
        returncode = proc.wait(timeout=1800)
    except subprocess.TimeoutExpired:
        proc.kill()
        returncode = proc.wait()
    _SMOKE["log"].seek(0)
    return SmokeChapters(_SMOKE["folder"], _SMOKE["log"].read(), returncode, _SMOKE["runs"])
