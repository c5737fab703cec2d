"""Browser check of the rendered book.

Builds the whole book from smoke-profile chapters exactly as ``make book``
does (scripts/run_chapters.py, scripts/stage_book.py, ``jupyter-book build
-W``), in a private folder under ``_build/`` so a concurrent ``make html`` is
not disturbed, then

- checks the chapter pages: figures (``<img>``) present, no error output
  (no traceback, no ANSI-coloured error text, no stderr cells);
- takes screenshots of the index and of a chapter with headless Chromium and
  checks they are not blank.

Skips (with the reason) when Chromium or the vendored JavaScript is missing.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from run_chapters import toc_notebooks  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.notebook, pytest.mark.slow]

VENDOR = Path(sys.prefix) / "share" / "saat-book" / "vendor"
CHAPTERS = [p.stem for p in toc_notebooks()]


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def _run(cmd: list[str], what: str, timeout: int = 900) -> None:
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        pytest.fail(f"{what} failed (exit {proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")


@pytest.fixture(scope="module")
def built_book():
    """HTML folder of the book built from smoke-profile chapters (removed afterwards)."""
    if not (VENDOR / "mathjax" / "tex-mml-chtml.js").is_file():
        pytest.skip(f"no vendored JavaScript in {VENDOR}: run `make html` once (needs npm)")
    work = ROOT / "_build" / f"test-render-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        _run([sys.executable, "scripts/run_chapters.py", "--profile", "smoke", "--force",
              "--out", str(work / "executed")], "executing the chapters")
        _run([sys.executable, "scripts/stage_book.py", "--executed", str(work / "executed"),
              "--dest", str(work / "src"), "--vendor", str(VENDOR)], "staging the book")
        _run([str(Path(sys.prefix) / "bin" / "jupyter-book"), "build", str(work / "src"), "--path-output",
              str(work), "-W", "--keep-going", "--builder", "html"], "jupyter-book build -W")
        html = work / "_build" / "html"
        assert (html / "index.html").is_file(), f"no index.html in {html}"
        yield html
    finally:
        if os.environ.get("SAAT_KEEP_TEST_BOOK") is None:
            shutil.rmtree(work, ignore_errors=True)


def _page(html: Path, chapter: str) -> Path:
    page = html / "book" / f"{chapter}.html"
    assert page.is_file(), f"chapter {chapter} was not rendered ({page} missing)"
    return page


def screenshot(page: Path, out: Path, height: int = 2000) -> Path:
    browser = chromium()
    if browser is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="saat-chromium-") as profile_dir:
        cmd = [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-zygote",
               "--disable-background-networking", "--disable-component-update", "--no-first-run",
               "--hide-scrollbars", f"--user-data-dir={profile_dir}", "--virtual-time-budget=15000",
               f"--window-size=1280,{height}", f"--screenshot={out}", page.as_uri()]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert out.is_file() and out.stat().st_size > 0, \
        f"Chromium wrote no screenshot (exit {proc.returncode}): {proc.stderr[-2000:]}"
    return out


def assert_not_blank(png: Path) -> None:
    from PIL import Image, ImageStat

    img = Image.open(png).convert("L")
    stat = ImageStat.Stat(img)
    assert stat.stddev[0] > 10, f"{png.name} looks blank (pixel std {stat.stddev[0]:.1f})"
    dark = sum(img.histogram()[:200]) / (img.width * img.height)
    assert dark > 0.01, f"{png.name} has almost no ink ({dark:.3%} non-white pixels)"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_page_has_figures_and_no_errors(built_book, chapter):
    text = _page(built_book, chapter).read_text(encoding="utf-8")
    assert "<img" in text, f"{chapter}: no figure in the rendered page"
    assert "Traceback" not in text, f"{chapter}: a traceback is rendered"
    assert "ansi-red" not in text, f"{chapter}: ANSI-coloured (error) output is rendered"
    assert not re.search(r'class="[^"]*\bstderr\b', text), f"{chapter}: a stderr output is rendered"
    assert not re.search(r"\b\w*(Error|Warning):", text), f"{chapter}: an error or warning message is rendered"


def test_widgets_have_stored_state(built_book):
    pages = [_page(built_book, c).read_text(encoding="utf-8") for c in CHAPTERS]
    with_widgets = [p for p in pages if "application/vnd.jupyter.widget-view+json" in p]
    if not with_widgets:
        pytest.skip("no chapter displays a widget")
    for page in with_widgets:
        assert "application/vnd.jupyter.widget-state+json" in page, "a widget is shown without its state"


def test_screenshots_are_not_blank(built_book, tmp_path):
    index = screenshot(built_book / "index.html", tmp_path / "index.png")
    assert_not_blank(index)
    if CHAPTERS:  # the first chapter showing a widget, else the first chapter
        pages = {c: _page(built_book, c) for c in CHAPTERS}
        chosen = next((c for c, p in pages.items()
                       if "application/vnd.jupyter.widget-view+json" in p.read_text(encoding="utf-8")), CHAPTERS[0])
        page = screenshot(pages[chosen], tmp_path / f"{chosen}.png", height=4000)
        assert_not_blank(page)
    keep = os.environ.get("SAAT_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for png in tmp_path.glob("*.png"):
            shutil.copy(png, Path(keep) / png.name)
