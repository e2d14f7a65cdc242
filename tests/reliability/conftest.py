"""Fixtures of the fault matrix: a `matrix` watching every scenario, and its report."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from pathlib import Path

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest

from iem_dcr_simulator import MeterSimulator
from tests.helpers import poll, state_of

from .matrix import Matrix, Stopwatch, write_report_line

POWER = "sensor.iem_dcr_1isa0200001132_power"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the test item, for the matrix fixture."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
async def matrix(
    hass: HomeAssistant,
    simulator: MeterSimulator,
    config_dir: Path,
    request: pytest.FixtureRequest,
) -> AsyncGenerator[Matrix]:
    """Watch the scenario; on teardown, add its line to the report (if one is made)."""
    watch = Stopwatch()
    observed = Matrix(
        hass=hass,
        simulator=simulator,
        config_dir=config_dir,
        scenario=request.node.name.removeprefix("test_"),
    )
    observed.watch()
    yield observed
    report = getattr(request.node, "report_call", None)
    passed = report is not None and report.passed
    if observed.outcome is None and passed:
        observed.measure()
    write_report_line(observed.outcome, observed.scenario, passed, watch.elapsed)


async def recover(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    sim: MeterSimulator,
    matrix: Matrix,
    *,
    interval: float = 1,
) -> None:
    """Poll at most twice; the live values must be back and true by then."""
    polls = 0
    while polls < 2:
        polls += 1
        await poll(hass, freezer, seconds=interval)
        state = state_of(hass, POWER)
        if state.state not in ("unavailable", "unknown"):
            break
    assert state.state not in ("unavailable", "unknown"), "not back within two polls"
    assert float(state.state) == pytest.approx(sim.state.power, abs=0.01)
    matrix.recovery_s = polls * interval
