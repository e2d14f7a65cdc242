"""The browser test runs only through scripts/e2e, which brings Playwright and chromium.

scripts/e2e sets IEM_DCR_E2E=1. Without it (the normal suite, whose venv has neither)
nothing here is collected. With it, a missing Playwright or browser is an error, not a
skip. The test drives processes and a browser only, so it runs without Home Assistant's
test plugin and tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import Generator
import os

import pytest

ENABLED = os.environ.get("IEM_DCR_E2E") == "1"
if not ENABLED:
    collect_ignore_glob = ["test_*.py"]


def pytest_configure(config: pytest.Config) -> None:
    """Refuse Home Assistant's test plugin: its per-test event loop and Playwright's clash."""
    if ENABLED and config.pluginmanager.has_plugin("homeassistant"):
        raise pytest.UsageError(
            "tests/e2e runs with -p no:homeassistant --confcutdir=tests/e2e (scripts/e2e)"
        )


FAILED_STEP = pytest.StashKey[str]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the item; remember the module's first failed step."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    if report.failed and item.parent is not None:
        item.parent.stash.setdefault(FAILED_STEP, item.name)
    return report


def pytest_runtest_setup(item: pytest.Item) -> None:
    """The steps build on each other: after a failed one, the rest are not tried."""
    if item.parent is not None and (failed := item.parent.stash.get(FAILED_STEP, None)):
        pytest.xfail(f"an earlier step failed: {failed}")
