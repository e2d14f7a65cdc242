"""The blueprint charge_with_tag: a scanned tag starts a transaction, unplugging stops it."""

from __future__ import annotations

from pathlib import Path
import shutil

from homeassistant.components.recorder.core import Recorder
from homeassistant.core import Event, HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from iem_dcr_simulator import MeterSimulator

from .helpers import running

BLUEPRINT = Path(__file__).parents[1] / "blueprints" / "automation" / "iem_dcr"
PLUG = "binary_sensor.wallbox_plug"
TAG_ID = "04A1B2C3D4E5F6"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    quiet_sql_logs: None, recorder_mock: Recorder, enable_custom_integrations: None
) -> None:
    """The recorder must start before Home Assistant; the logbook needs it."""


async def _automation_from_blueprint(
    hass: HomeAssistant, config_dir: Path, entry: MockConfigEntry
) -> None:
    target = config_dir / "blueprints" / "automation" / "iem_dcr"
    target.mkdir(parents=True)
    shutil.copy(BLUEPRINT / "charge_with_tag.yaml", target)
    hass.states.async_set(PLUG, "on")
    # The logbook needs the frontend, which is not installed for tests (2025.4).
    hass.config.components.add("frontend")
    assert await async_setup_component(hass, "logbook", {})
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "id": "charge_with_tag",
                "use_blueprint": {
                    "path": "iem_dcr/charge_with_tag.yaml",
                    "input": {"meter": entry.entry_id, "plug_sensor": PLUG},
                },
            }
        },
    )
    await hass.async_block_till_done()


async def test_tag_starts_and_unplugging_stops_a_signed_transaction(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    config_dir: Path,
) -> None:
    await _automation_from_blueprint(hass, config_dir, init_integration)
    automations = hass.states.async_all("automation")
    assert [state.state for state in automations] == ["on"]
    logged: list[Event] = []
    hass.bus.async_listen("logbook_entry", logged.append)

    hass.bus.async_fire(
        "tag_scanned", {"tag_id": TAG_ID, "name": "Anna's card", "device_id": None}
    )
    await hass.async_block_till_done()

    assert running(simulator)
    assert [e.data["name"] for e in logged] == ["Anna's card"]
    assert TAG_ID not in str(logged[0].data)
    assert simulator.state.issued == []

    hass.states.async_set(PLUG, "off")
    await hass.async_block_till_done()

    assert not running(simulator)
    assert len(simulator.state.issued) == 1
    tuple_text = simulator.state.issued[0]
    assert f'"ID":"{TAG_ID}"' in tuple_text
    assert '"IT":"ISO14443"' in tuple_text


async def test_unplugging_without_a_scan_starts_nothing(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    config_dir: Path,
) -> None:
    await _automation_from_blueprint(hass, config_dir, init_integration)
    hass.states.async_set(PLUG, "off")
    await hass.async_block_till_done()
    assert not running(simulator)
    hass.states.async_set(PLUG, "on")
    await hass.async_block_till_done()
    assert not running(simulator)
    assert simulator.state.issued == []
