"""Fixtures for the real-browser tests of the generated site.

- ``built_site``: the site built once per session by the core pipeline from ``labml_nn/`` into a
  temporary folder (``python -m utils.build``), so the tests never touch ``docs/``. Set
  ``SITE_TEST_PREBUILT=<folder>`` to test an already-built site instead (e.g. ``docs``).
- ``site_server``: that folder served from 127.0.0.1 on a free port by a threaded ``http.server``.
- ``browser``: Debian's Chromium driven by Playwright. Playwright's own browser download does not
  work on our machines. Without ``/usr/bin/chromium`` (or ``$CHROMIUM``) the browser tests are skipped and
  the run ends with a line saying so and how to enable them; with ``SITE_BROWSER_TESTS=required`` (CI)
  they fail instead.
"""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
]
ARTIFACTS = REPO_ROOT / "test-artifacts" / "site"
BROWSER_REQUIRED = os.environ.get("SITE_BROWSER_TESTS") == "required"
BROWSER_MISSING = (f"browser test skipped: no Chromium at {CHROMIUM}. Install Debian's with `make chromium` "
                   f"(needs root and apt-get) or set CHROMIUM=/path/to/chromium")
# Seconds a cold build may take (MathJax typesets every equation; a few seconds for labml_nn).
BUILD_TIMEOUT_S = 600


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    """The site built from labml_nn/ by the core pipeline, in a temporary folder."""
    prebuilt = os.environ.get("SITE_TEST_PREBUILT")
    if prebuilt:
        folder = (REPO_ROOT / prebuilt).resolve()
        if not (folder / "index.html").is_file():
            pytest.fail(f"SITE_TEST_PREBUILT={prebuilt}: no index.html in {folder}")
        return folder
    work = tmp_path_factory.mktemp("site")
    out = work / "docs"
    # A private cache: the test neither depends on nor disturbs the repository's .docs-cache/.
    command = [sys.executable, "-m", "utils.build", "--source", "labml_nn", "--out", str(out),
               "--cache-dir", str(work / "cache")]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    result = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                            timeout=BUILD_TIMEOUT_S)
    if result.returncode != 0:
        pytest.fail(f"`{' '.join(command[1:])}` failed ({result.returncode}):\n"
                    f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    if not (out / "index.html").is_file():
        pytest.fail(f"the build reported success but wrote no index.html into {out}")
    return out


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


@pytest.fixture(scope="session")
def site_server(built_site):
    """Base URL (ending in '/') of the built site served from 127.0.0.1 on a free port."""
    handler = functools.partial(_QuietHandler, directory=str(built_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium through Playwright."""
    if not CHROMIUM.is_file() or not os.access(CHROMIUM, os.X_OK):
        if BROWSER_REQUIRED:
            pytest.fail(f"{CHROMIUM} is missing and SITE_BROWSER_TESTS=required: the browser tests need "
                        "Debian's Chromium. Run `make chromium` to install it.", pytrace=False)
        pytest.skip(BROWSER_MISSING)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where screenshots go (gitignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def pytest_terminal_summary(terminalreporter):
    """Say plainly, at the end, that browser tests did not run and how to run them."""
    skipped = [report for report in terminalreporter.stats.get("skipped", [])
               if "browser test skipped" in str(report.longrepr)]
    if skipped:
        terminalreporter.write_line(
            f"NOTE: {len(skipped)} browser tests were SKIPPED: no Chromium at {CHROMIUM}. Every other test ran. "
            f"To run them: `make chromium` (as root), or CHROMIUM=/path/to/chromium.", yellow=True, bold=True)
