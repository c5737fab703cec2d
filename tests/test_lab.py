"""make lab's JupyterLab, for real: a server on 127.0.0.1 runs a chapter in the
smoke profile, and headless Chromium moves its explorer's slider.

The server is started here with scripts/lab.py's command line (loopback only,
``--allow-root`` as root, the venv's kernel) on copies of the chapters in a
temporary folder (scripts/lab.py's copy step), with ``SAAT_PROFILE=smoke`` and
the session's temporary run store; its Jupyter settings, workspaces and
runtime files stay in that folder too. It is stopped at the end. Every wait is
bounded. Skips, with the reason, without JupyterLab, playwright or Chromium.
"""
from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from browser_tools import PageLog, explorer_snapshot, launch  # noqa: E402
from lab import copy_chapters, lab_command  # noqa: E402
from saatlib.chapters.runner import use_venv_kernel  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.notebook, pytest.mark.slow]

CHAPTER = "02_deep_hashing"  # its query slider; a few seconds in the smoke profile with a warm run store


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory, smoke_chapters):
    """(URL of the chapter in a running JupyterLab, its token); the server is stopped afterwards."""
    pytest.importorskip("jupyterlab", reason="JupyterLab is not installed (make setup)")
    root = tmp_path_factory.mktemp("lab-root")
    copies = copy_chapters(root / "lab")
    first = next(p for p in copies if p.stem == CHAPTER)
    port, token = _free_port(), secrets.token_hex(16)
    use_venv_kernel()  # the server's kernel is the venv's python3, as scripts/lab.py arranges
    cmd = lab_command(first, port, browser=False, root=root) + [
        f"--IdentityProvider.token={token}", "--LabApp.expose_app_in_browser=True",
        "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    # the chapters' own run store, warm from the session's smoke run of every chapter
    env = dict(os.environ, SAAT_PROFILE="smoke", SAAT_RUNS=str(smoke_chapters.runs),
               JUPYTER_CONFIG_DIR=str(root / ".jupyter"),
               JUPYTERLAB_SETTINGS_DIR=str(root / ".jupyter" / "lab" / "user-settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(root / ".jupyter" / "lab" / "workspaces"),
               JUPYTER_RUNTIME_DIR=str(root / ".runtime"))
    log = open(root / "server.log", "w")
    server = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None:
                pytest.fail(f"JupyterLab exited ({server.returncode}): {(root / 'server.log').read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer in 120 s: {(root / 'server.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield f"{base}/lab/tree/lab/{first.name}?token={token}", root
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)
        log.close()


@pytest.mark.timeout(900)
def test_chapter_runs_in_lab_and_its_slider_answers(lab_server):
    url, root = lab_server
    with launch() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        log = PageLog(page)
        t0 = time.perf_counter()
        page.goto(url, wait_until="load", timeout=120_000)
        page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                               " && window.jupyterapp.shell.currentWidget.sessionContext", timeout=120_000)
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
        print(f"lab: chapter open after {time.perf_counter() - t0:.1f} s")
        # Run All (the command resolves once every cell ran), then check the kernel finished every cell
        t0 = time.perf_counter()
        page.evaluate("""async () => {
            const nb = window.jupyterapp.shell.currentWidget;
            await nb.sessionContext.ready;
            await window.jupyterapp.commands.execute('notebook:run-all-cells');
        }""")
        page.wait_for_function("""() => {
            const nb = window.jupyterapp.shell.currentWidget;
            const k = nb.sessionContext.session && nb.sessionContext.session.kernel;
            const cells = nb.content.widgets.filter(c => c.model.type === 'code');
            return k && k.status === 'idle' && cells.every(c => c.model.executionCount !== null);
        }""", timeout=600_000)
        print(f"lab: Run All (smoke profile) took {time.perf_counter() - t0:.1f} s")
        errors = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]')
        assert errors.count() == 0, f"an error output: {errors.first.inner_text()[:2000]}"
        profile = page.evaluate("""() => window.jupyterapp.shell.currentWidget.content.widgets[2]
                                      .model.sharedModel.getSource()""")
        assert "profile" in profile
        page.wait_for_selector(".saat-explorer-output img", timeout=120_000)
        before = explorer_snapshot(page)
        assert before["images"], "the explorer shows no picture"

        # move the query slider by keyboard: the output changes (switched in the browser)
        handle = page.locator('.saat-explorer .widget-hslider:has(label:text-is("query")) .noUi-handle').first
        handle.scroll_into_view_if_needed()
        handle.focus()
        t0 = time.perf_counter()
        page.keyboard.press("ArrowRight")
        page.wait_for_function("(c) => document.querySelector('.saat-explorer-output').innerText !== c",
                               arg=before["caption"], timeout=30_000)
        print(f"lab: slider -> new output in {(time.perf_counter() - t0) * 1000:.0f} ms")
        after = explorer_snapshot(page)
        assert after["caption"] != before["caption"] and after["images"] != before["images"]
        assert "query 1" in after["caption"]

        # the kernel behind it: show a query off the slider (drawn by the kernel on demand)
        page.locator('.saat-explorer .widget-text:has(label:text-is("any query")) input').fill("42")
        t0 = time.perf_counter()
        page.locator('.saat-explorer button:has-text("show query")').click()
        try:
            page.wait_for_function(
                "() => document.querySelector('.saat-explorer-output').innerText.includes('query 42')", timeout=60_000)
        except Exception:
            page.screenshot(path=str(root / "failed.png"), full_page=False)
            raise AssertionError("no output for query 42; page errors: " + "\n".join(log.errors)
                                 + "\nexplorer: " + page.locator(".saat-explorer").first.inner_text()[:1500])
        print(f"lab: 'show query 42' (kernel) -> new output in {(time.perf_counter() - t0) * 1000:.0f} ms")
        shot = os.environ.get("SAAT_SCREENSHOT_DIR")
        if shot:
            Path(shot).mkdir(parents=True, exist_ok=True)
            page.locator(".saat-explorer").first.screenshot(path=str(Path(shot) / "lab-explorer.png"))
        page.close()
    bad = [e for e in log.errors if "favicon" not in e]
    assert not bad, "\n".join(bad)
