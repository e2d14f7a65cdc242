"""The browser test (tests/e2e/) runs only under scripts/e2e, and fails there, not skips.

The normal suite's venv has neither Playwright nor a browser: it must collect nothing from
tests/e2e/. Under scripts/e2e (IEM_DCR_E2E=1) a missing Playwright must be an error, so a
broken set-up cannot pass as "skipped".
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
import subprocess
import sys

REPO = Path(__file__).resolve().parents[1]
# pytest's exit codes: 2 interrupted (errors during collection), 5 no tests collected.
INTERRUPTED, NO_TESTS = 2, 5


def _collect(*args: str, e2e: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "IEM_DCR_E2E"}
    if e2e:
        env["IEM_DCR_E2E"] = "1"
    return subprocess.run(  # noqa: S603 (this interpreter, fixed arguments)
        [sys.executable, "-m", "pytest", "--collect-only", "-q", *args, "tests/e2e"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_normal_suite_collects_nothing_from_tests_e2e() -> None:
    result = _collect(e2e=False)
    assert result.returncode == NO_TESTS, result.stdout + result.stderr


def test_without_playwright_the_browser_test_fails_instead_of_skipping() -> None:
    assert importlib.util.find_spec("playwright") is None, "this venv has Playwright"
    # As scripts/e2e runs it.
    result = _collect(
        "-p",
        "no:homeassistant",
        "--confcutdir=tests/e2e",
        "-p",
        "no:cacheprovider",
        e2e=True,
    )
    assert result.returncode == INTERRUPTED, result.stdout + result.stderr
    assert "No module named 'playwright'" in result.stdout
