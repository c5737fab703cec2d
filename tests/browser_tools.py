"""Headless Chromium for the browser tests: the system browser, driven by playwright.

Debian's ``/usr/bin/chromium`` (``make setup`` installs it where apt-get
exists) is launched by playwright's Python driver with ``executable_path``:
playwright never downloads a browser here. Tests skip, with the reason, where
either is missing.

- :func:`chromium`: the browser's path, or None.
- :func:`launch`: a playwright Browser (context manager).
- :class:`PageLog`: console errors, uncaught exceptions and failed requests of a page.
- :func:`serve`: a folder over HTTP on 127.0.0.1 (a thread), as a reader's web server would.
- :func:`explorer_snapshot`: what an explorer shows now (caption text, digests of its pictures).
"""
from __future__ import annotations

import contextlib
import functools
import http.server
import shutil
import sys
import threading
from pathlib import Path

import pytest

#: the browser tests load pages from 127.0.0.1 only; anything else is a bug (the book is offline)
LOCAL = ("http://127.0.0.1", "blob:", "data:", "file:", "about:")


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


@contextlib.contextmanager
def launch():
    """A headless Chromium (playwright Browser); skips when playwright or Chromium is missing."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (make setup)")
    browser_path = chromium()
    if browser_path is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_path, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        try:
            yield browser
        finally:
            browser.close()


class PageLog:
    """Collects a page's console errors, uncaught exceptions, failed and non-local requests.

    The browser's own request for ``/favicon.ico`` (a page of the book links
    its icon; the top-level redirect page and JupyterLab's server may not have
    one) is not the page's error and is left out.
    """

    def __init__(self, page):
        self.errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        page.on("requestfailed", lambda r: self.errors.append(f"request failed: {r.url} ({r.failure})"))
        page.on("response", lambda r: self.errors.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
        page.on("request", lambda r: None if r.url.startswith(LOCAL) else self.errors.append(f"non-local: {r.url}"))

    def _console(self, message) -> None:
        if message.type != "error":
            return
        where = (message.location or {}).get("url", "")
        if where.endswith("/favicon.ico"):
            return
        self.errors.append(f"console.error: {message.text} ({where})")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        """A browser dropping a connection (e.g. a cancelled favicon request) is not an error here."""
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


@contextlib.contextmanager
def serve(folder: Path):
    """Serve ``folder`` on 127.0.0.1 (a free port); yields the base URL."""
    server = _Server(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=folder))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


#: JavaScript: caption and SHA-256 digests of the pictures an explorer shows (its n-th on the page)
_SNAPSHOT_JS = """async (n) => {
  const out = document.querySelectorAll('.saat-explorer-output')[n];
  if (!out) return null;
  const html = out.querySelector('.widget-html, .widget-htmlmath');
  const digests = [];
  for (const img of out.querySelectorAll('img')) {
    const bytes = await (await fetch(img.src)).arrayBuffer();
    const d = await crypto.subtle.digest('SHA-256', bytes);
    digests.push(Array.from(new Uint8Array(d)).map(b => b.toString(16).padStart(2, '0')).join(''));
  }
  return {caption: html ? html.innerText : '', images: digests};
}"""


def explorer_snapshot(page, n: int = 0) -> dict | None:
    """``{"caption": text, "images": [sha256 of each shown picture]}`` of the n-th explorer, None if absent."""
    return page.evaluate(_SNAPSHOT_JS, n)
