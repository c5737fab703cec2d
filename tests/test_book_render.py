"""Browser check of the rendered book.

Builds the whole book from smoke-profile chapters exactly as ``make book``
does (scripts/run_chapters.py, scripts/stage_book.py, ``jupyter-book build
-W``), in a private folder under ``_build/`` so a concurrent ``make html`` is
not disturbed, then

- checks the chapter pages: figures (``<img>``) present, no error output
  (no traceback, no ANSI-coloured error text, no stderr cells);
- checks that the plumbing stays hidden (issue 14): no ``record(`` call, no
  timing code or "seconds" column, one "# Parameters" cell (papermill's
  injected one is removed at staging), no NaN in a table;
- lays every chapter out in headless Chromium at 1280 px and checks that no
  output line or code line is clipped at the right edge (wider than its box),
  and that code cells carry the hanging indent of ``_static/code-lines.js``;
- takes screenshots of the index and of a chapter with headless Chromium and
  checks they are not blank.

Skips (with the reason) when Chromium or the vendored JavaScript is missing.
"""
from __future__ import annotations

import html as html_lib
import json
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


# --- the plumbing stays hidden (issue 14) ---------------------------------------------------------

#: chapters whose explorer cells (issue 13 rewrites them) still show book.record(...) calls; strict:
#: once they are hidden the test passes and this entry must go
RECORDS_IN_EXPLORER = {"04_attacks", "05_adversarial_training"}


def page_text(page: Path) -> str:
    """The text a reader sees: scripts, styles and tags removed, entities decoded."""
    text = page.read_text(encoding="utf-8")
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S | re.I)
    return html_lib.unescape(re.sub(r"<[^>]+>", "", text))


@pytest.mark.parametrize("chapter", [
    pytest.param(c, marks=pytest.mark.xfail(strict=True, reason="explorer cells of issue 13 still record"))
    if c in RECORDS_IN_EXPLORER else c for c in CHAPTERS])
def test_page_shows_no_record_call(built_book, chapter):
    text = page_text(_page(built_book, chapter))
    shown = [line.strip() for line in text.splitlines() if "record(" in line]
    assert not shown, f"{chapter}: the page shows record calls: {shown[:3]}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_page_shows_no_timing_and_one_parameters_cell(built_book, chapter):
    page = _page(built_book, chapter)
    text = page_text(page)
    for needle in ("perf_counter", "process_time"):
        assert needle not in text, f"{chapter}: timing code ({needle}) is shown"
    headers = [html_lib.unescape(h) for h in re.findall(r"<th[^>]*>(.*?)</th>", page.read_text(encoding="utf-8"), re.S)]
    assert not [h for h in headers if "seconds" in h], f"{chapter}: a table shows a seconds column"
    params = re.findall(r"#\s*Parameters\b", text)
    assert len(params) <= 1, f"{chapter}: {len(params)} '# Parameters' cells shown (papermill's injected one too?)"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_tables_show_no_nan(built_book, chapter):
    page = _page(built_book, chapter).read_text(encoding="utf-8")
    # (None is not checked: chapter 6's settings table uses it for "the whole split", and says so)
    cells = re.findall(r"<t[dh][^>]*>\s*(NaN|nan|&lt;NA&gt;)\s*</t[dh]>", page)
    assert not cells, f"{chapter}: {len(cells)} table cells show {sorted(set(cells))}; missing values show as '–'"


#: Injected into a copy of a page: after layout (and the book's own scripts), lists every element of
#: a cell's output, and every code <pre>, whose content is wider than its box (clipped or scrolled at
#: the right edge), and counts the code lines that code-lines.js gave a hanging indent.
LAYOUT_PROBE = """<script>
document.addEventListener("DOMContentLoaded", function () { setTimeout(function () {
  var report = {};
  try {
  var clipped = [];
  document.querySelectorAll("div.cell_output *, div.cell_input pre").forEach(function (el) {
    if (el.closest(".jupyter-widgets") || el.tagName === "IMG") return;
    var style = getComputedStyle(el);
    if (el.scrollWidth > el.clientWidth + 1 && style.overflowX !== "visible")
      clipped.push([el.tagName, el.scrollWidth, el.clientWidth, (el.innerText || "").slice(0, 100)]);
  });
  var lines = document.querySelectorAll("div.cell_input pre span.code-line");
  var hanging = Array.prototype.filter.call(lines, function (l) {
    return parseFloat(getComputedStyle(l).paddingLeft) > 0 && parseFloat(getComputedStyle(l).textIndent) < 0;
  }).length;
  report = {clipped: clipped, code_lines: lines.length, hanging: hanging,
            inputs: document.querySelectorAll("div.cell_input pre").length};
  } catch (err) { report = {error: String(err)}; }
  var out = document.createElement("pre");
  out.id = "saat-layout-report";
  out.textContent = JSON.stringify(report);
  document.body.appendChild(out);
}, 300); });
</script>"""


def layout_report(page: Path, width: int = 1280) -> dict:
    """Lay ``page`` out in headless Chromium at ``width`` px and return LAYOUT_PROBE's report."""
    browser = chromium()
    if browser is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    probe = page.resolve().with_name(f"_probe_{page.name}")  # beside the page, so its relative links resolve
    head, body_end, tail = page.read_text(encoding="utf-8").rpartition("</body>")
    probe.write_text(head + LAYOUT_PROBE + body_end + tail, encoding="utf-8")
    try:
        with tempfile.TemporaryDirectory(prefix="saat-chromium-") as profile_dir:
            cmd = [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-zygote",
                   "--disable-background-networking", "--disable-component-update", "--no-first-run",
                   f"--user-data-dir={profile_dir}", "--virtual-time-budget=15000",
                   f"--window-size={width},1000", "--dump-dom", probe.as_uri()]
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    finally:
        probe.unlink(missing_ok=True)
    found = re.search(r'<pre id="saat-layout-report"[^>]*>(.*?)</pre>', proc.stdout, re.S)
    assert found, f"the layout probe did not report (exit {proc.returncode}): {proc.stderr[-2000:]}"
    report = json.loads(html_lib.unescape(found.group(1)))
    assert "error" not in report, f"the layout probe failed: {report['error']}"
    return report


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_no_output_or_code_line_is_clipped(built_book, chapter):
    report = layout_report(_page(built_book, chapter))
    assert not report["clipped"], f"{chapter}: content wider than its box: {report['clipped'][:3]}"
    assert report["inputs"] == 0 or report["code_lines"] > 0, f"{chapter}: code-lines.js did not run"
    assert report["hanging"] == report["code_lines"], \
        f"{chapter}: {report['code_lines'] - report['hanging']} code lines without a hanging indent"
