"""Fixtures shared by the Home Assistant tests: a simulated meter and a set-up entry."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from datetime import UTC, datetime
import logging
from pathlib import Path
from typing import Any
from unittest.mock import patch

from cryptography.hazmat.primitives.asymmetric import ec
from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

from custom_components.iem_dcr import transaction
from custom_components.iem_dcr.const import (
    CONF_CI,
    CONF_CT,
    CONF_SHOW_USER_ID,
    CONF_TARIFF_TEXT,
    DOMAIN,
)
from iem_dcr_simulator import MeterSimulator, SignatureShape

# A fixed meter key keeps the public key in snapshots stable.
METER_KEY = ec.derive_private_key(
    0x5EED_1ED1_A8E2_0000_0000_0000_0000_0000_0000_0000_0000_0000_0000_0000_0000_0001,
    ec.SECP256R1(),
)
START = datetime(2026, 11, 26, 9, 0, 0, tzinfo=UTC)

CT = "EVSEID"
CI = "CP-DE-4711"
TARIFF = "0,35 EUR/kWh"


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Keep snapshots in tests/snapshots."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Enable the entities that are disabled by default."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        return_value=True,
    ):
        yield


@pytest.fixture
def meter_pauses() -> Generator[list[float]]:
    """Record the pauses the transaction sequences make, without waiting."""
    pauses: list[float] = []

    async def record(seconds: float) -> None:
        pauses.append(seconds)

    with patch.object(transaction, "pause", record):
        yield pauses


@pytest.fixture
def config_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """Give Home Assistant a configuration folder of its own (ledger, exports)."""
    hass.config.config_dir = str(tmp_path)
    return tmp_path


@pytest.fixture
async def simulator(
    hass: HomeAssistant,
    socket_enabled: None,
    freezer: FrozenDateTimeFactory,
    request: pytest.FixtureRequest,
) -> AsyncGenerator[MeterSimulator]:
    """Run a simulated meter on 127.0.0.1 whose clock follows the test's clock.

    `@pytest.mark.simulator_config(transport=...)` passes keyword arguments on.
    """
    freezer.move_to(START)
    marker = request.node.get_closest_marker("simulator_config")
    settings = marker.kwargs if marker else {}
    sim = MeterSimulator(clock=dt_util.utcnow, private_key=METER_KEY, **settings)
    # About 1 signature in 128 is one the Transparenzsoftware refuses; keep them
    # out of snapshots. Tests of that case ask the simulator for one.
    sim.state.shape_signatures(SignatureShape.NEITHER, count=None)
    await sim.start()
    yield sim
    sim.release_hangs()
    await sim.stop()


def entry_data(sim: MeterSimulator, **overrides: Any) -> dict[str, Any]:
    """Return config entry data pointing at the simulator."""
    return {
        CONF_HOST: "127.0.0.1",
        CONF_PORT: sim.port,
        CONF_CT: CT,
        CONF_CI: CI,
        **overrides,
    }


@pytest.fixture
def mock_config_entry(
    simulator: MeterSimulator, config_dir: Path, meter_pauses: list[float]
) -> MockConfigEntry:
    """Return a config entry for the simulated meter (not yet added)."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"IEM-DCR {simulator.state.serial}",
        unique_id=simulator.state.serial,
        data=entry_data(simulator),
        options={CONF_TARIFF_TEXT: TARIFF, CONF_SHOW_USER_ID: False},
    )


@pytest.fixture
async def init_integration(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> MockConfigEntry:
    """Set up the integration against the simulated meter."""
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    return mock_config_entry


@pytest.fixture
def quiet_sql_logs() -> Generator[None]:
    """Keep the recorder's SQL (logged at INFO by the test plugin) out of the output."""
    engine = logging.getLogger("sqlalchemy.engine")
    level = engine.level
    engine.setLevel(logging.WARNING)
    yield
    engine.setLevel(level)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(request: pytest.FixtureRequest) -> None:
    """Load custom integrations in the tests that run Home Assistant."""
    if "hass" in request.fixturenames:
        request.getfixturevalue("enable_custom_integrations")
