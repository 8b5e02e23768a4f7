"""Without Chromium the browser tests are skipped and the run says so; CI makes them required."""
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
ONE_BROWSER_TEST = "tests/site/test_site_browser.py::test_sections_off_screen_skip_rendering_on_screen_but_all_print"


def run_without_chromium(required: bool):
    environment = {k: v for k, v in os.environ.items() if k != "SITE_BROWSER_TESTS"}   # CI sets it
    environment["CHROMIUM"] = "/nonexistent/chromium"
    if required:
        environment["SITE_BROWSER_TESTS"] = "required"
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", ONE_BROWSER_TEST],
                          cwd=REPO_ROOT, env=environment, capture_output=True, text=True, timeout=300)


def test_without_chromium_browser_tests_are_skipped_and_the_run_says_how_to_enable_them():
    result = run_without_chromium(required=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 skipped" in result.stdout
    assert "browser tests were SKIPPED" in result.stdout and "make chromium" in result.stdout


def test_ci_fails_when_chromium_is_missing():
    result = run_without_chromium(required=True)
    assert result.returncode != 0
    assert "SITE_BROWSER_TESTS=required" in result.stdout
