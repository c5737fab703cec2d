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
  checks they are not blank;
- loads every page over HTTP from 127.0.0.1 in headless Chromium (playwright,
  tests/browser_tools.py) and checks there is no JavaScript error, failed or
  non-local request;
- moves each explorer's control by keyboard on the static page and checks the
  shown output (caption text, picture bytes) changes, with no kernel.

Skips (with the reason) when Chromium, playwright or the vendored JavaScript is missing.
Set ``SAAT_SCREENSHOT_DIR`` to keep the screenshots (before and after moving a control).
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
from PIL import Image, ImageStat

from saatlib.chapters.runner import toc_notebooks

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from browser_tools import PageLog, chromium, explorer_snapshot, launch, serve  # noqa: E402

# The first test also builds the whole smoke-profile book (module fixture), which
# takes minutes on a busy 2-core machine: a budget above the default per test.
pytestmark = [pytest.mark.browser, pytest.mark.notebook, pytest.mark.slow, pytest.mark.timeout(1800)]

VENDOR = Path(sys.prefix) / "share" / "saat-book" / "vendor"
CHAPTERS = [p.stem for p in toc_notebooks()]


def _run(cmd: list[str], what: str, timeout: int = 900) -> None:
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        pytest.fail(f"{what} failed (exit {proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")


@pytest.fixture(scope="module")
def built_book(smoke_chapters):
    """HTML folder of the book built from the session's smoke-profile chapters (removed afterwards)."""
    if not (VENDOR / "mathjax" / "tex-mml-chtml.js").is_file():
        pytest.skip(f"no vendored JavaScript in {VENDOR}: run `make html` once (needs npm)")
    work = ROOT / "_build" / f"test-render-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        if smoke_chapters.returncode != 0:
            pytest.fail(f"executing the chapters failed:\n{smoke_chapters.log[-4000:]}")
        _run([sys.executable, "scripts/stage_book.py", "--executed", str(smoke_chapters.folder),
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

#: chapters whose explorer cells (issue 13 rewrites them) still show chapters.record(...) calls; strict:
#: once they are hidden the test passes and this entry must go
RECORDS_IN_EXPLORER: set[str] = set()


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


def raw_tex(page: Path) -> list[str]:
    """TeX that reached a reader as text: ``$$``, or a ``$`` or ``\\`` command in the prose
    outside code, outputs' preformatted text and the math elements MathJax typesets."""
    html = page.read_text(encoding="utf-8")
    html = re.sub(r"<(script|style|pre)\b.*?</\1>", " ", html, flags=re.S | re.I)
    html = re.sub(r'<(span|div) class="math[^"]*">.*?</\1>', " ", html, flags=re.S)
    text = html_lib.unescape(re.sub(r"<[^>]+>", "", html))
    return re.findall(r".{0,30}(?:\$\$|\$\\[A-Za-z]+|\\(?:frac|Big|sum|qquad|overline|operatorname)\b).{0,30}", text)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_prose_shows_no_raw_tex(built_book, chapter):
    shown = raw_tex(_page(built_book, chapter))
    assert not shown, f"{chapter}: TeX shown as text (a math block broken by the Markdown around it?): {shown[:3]}"


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


# --- the pages in a real browser -------------------------------------------------------------

WIDGET_VIEW = 'script[type="application/vnd.jupyter.widget-view+json"]'


@pytest.fixture(scope="module")
def site(built_book):
    """(base URL of the built book served from 127.0.0.1, a headless Chromium)."""
    with launch() as browser, serve(built_book) as base:
        yield base, browser


def open_page(site, rel: str, height: int = 1400):
    """Load ``rel`` and wait until its widgets are drawn; returns (page, log)."""
    base, browser = site
    page = browser.new_page(viewport={"width": 1280, "height": height})
    log = PageLog(page)
    page.goto(f"{base}/{rel}", wait_until="load", timeout=120_000)
    views = page.locator(WIDGET_VIEW).count()
    if views:
        # the renderer draws each view into a .widget-subarea just before its script tag
        page.wait_for_function(
            """(sel) => Array.from(document.querySelectorAll(sel)).every(
                   s => s.previousElementSibling && s.previousElementSibling.querySelector('.lm-Widget'))""",
            arg=WIDGET_VIEW, timeout=120_000)
    page.wait_for_load_state("networkidle", timeout=120_000)
    return page, log


@pytest.mark.parametrize("rel", ["index.html", "book/intro.html", *(f"book/{c}.html" for c in CHAPTERS)])
def test_pages_have_no_javascript_errors(site, rel):
    page, log = open_page(site, rel)
    page.close()
    assert not log.errors, f"{rel}: " + "\n".join(log.errors)


#: JavaScript: after the next keydown, the milliseconds until the n-th explorer's output changes
_WATCH_JS = """(n) => {
  const out = document.querySelectorAll('.saat-explorer-output')[n];
  const before = out.innerHTML;
  window.__saatLatency = null;
  document.addEventListener('keydown', () => {
    const t0 = performance.now();
    const tick = () => out.innerHTML !== before ? (window.__saatLatency = performance.now() - t0)
                                                 : requestAnimationFrame(tick);
    requestAnimationFrame(tick);
  }, {capture: true, once: true});
}"""


def _slider_handle(page, label: str):
    return page.locator(f'.saat-explorer .widget-hslider:has(label:text-is("{label}")) .noUi-handle').first


def _shot(page, name: str) -> None:
    keep = os.environ.get("SAAT_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        page.locator(".saat-explorer").first.screenshot(path=str(Path(keep) / f"{name}.png"))


#: chapter -> (control: ("slider", label) or ("select", index of the drop-down), keys pressed, text then shown)
MOVES = {
    "02_deep_hashing": [(("slider", "query"), ["ArrowRight"], "query 1")],
    "04_attacks": [(("slider", "eps"), ["ArrowLeft"], "eps 4/255")],
    "05_adversarial_training": [(("slider", "mu"), ["ArrowRight"], "mu 1")],
    # both labels to "(none)": the picker says so and shows no picture
    "03_mainstay_codes": [(("select", 0), ["Home"], None), (("select", 1), ["Home"], "No label picked")],
}


@pytest.mark.parametrize("chapter", sorted(MOVES))
def test_explorer_answers_on_the_static_page(site, chapter):
    if chapter not in CHAPTERS:
        pytest.skip(f"{chapter} is not in _toc.yml")
    page, log = open_page(site, f"book/{chapter}.html")
    before = explorer_snapshot(page)
    assert before is not None, f"{chapter}: no explorer on the page"
    assert before["images"], f"{chapter}: the explorer shows no picture"
    _shot(page, f"{chapter}-before")
    for (kind, which), keys, expect in MOVES[chapter]:
        page.evaluate(_WATCH_JS, 0)
        control = _slider_handle(page, which) if kind == "slider" else \
            page.locator(".saat-explorer select").nth(which)
        control.focus()
        for key in keys:
            page.keyboard.press(key)
        page.wait_for_function("() => window.__saatLatency !== null", timeout=30_000)
        latency = page.evaluate("() => window.__saatLatency")
        print(f"{chapter}: {kind} {which!r} moved, output changed after {latency:.0f} ms")
        if expect:
            page.wait_for_function(
                """([n, text]) => document.querySelectorAll('.saat-explorer-output')[n].innerText.includes(text)""",
                arg=[0, expect], timeout=30_000)
    after = explorer_snapshot(page)
    _shot(page, f"{chapter}-after")
    page.close()
    assert after["caption"] != before["caption"], f"{chapter}: the caption did not change"
    assert after["images"] != before["images"], f"{chapter}: the pictures did not change"
    if chapter == "03_mainstay_codes":
        assert after["images"] == [], "no label picked, yet a figure is still shown"
    assert not log.errors, f"{chapter}: " + "\n".join(log.errors)
