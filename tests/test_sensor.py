"""Entities: states and attributes, availability, problem detection."""

from __future__ import annotations

import json
import logging

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from iem_dcr_simulator import FaultKind, MeterSimulator

from .helpers import poll, sim_control, state_of

PREFIX = "iem_dcr_1isa0200001132"


def plain(value: object) -> object:
    """Return value as plain JSON types (enum keys differ between HA versions)."""
    return json.loads(json.dumps(value, default=str))


@pytest.fixture
async def charging(simulator: MeterSimulator) -> MeterSimulator:
    """A meter with voltage, no current, and some energy on its registers."""
    from decimal import Decimal

    simulator.state.set_measurements(voltage=400.0, current=0.0)
    simulator.state.add_energy(
        import_kwh=Decimal("446.540"), export_kwh=Decimal("4.881")
    )
    return simulator


@pytest.mark.usefixtures("entity_registry_enabled_by_default", "charging")
@pytest.mark.parametrize(
    "platform",
    [Platform.SENSOR, Platform.BINARY_SENSOR, Platform.BUTTON, Platform.EVENT],
)
async def test_entities(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
    snapshot: SnapshotAssertion,
    platform: Platform,
) -> None:
    entities = [
        entry
        for entry in er.async_entries_for_config_entry(
            entity_registry, init_integration.entry_id
        )
        if entry.domain == platform
    ]
    assert entities
    for entry in entities:
        # A projection, not the registry entry itself: its shape differs between
        # the Home Assistant versions we support.
        assert plain(
            {
                "unique_id": entry.unique_id,
                "translation_key": entry.translation_key,
                "original_name": entry.original_name,
                "device_class": entry.original_device_class,
                "entity_category": entry.entity_category,
                "disabled_by": entry.disabled_by,
                "unit": entry.unit_of_measurement,
                "capabilities": entry.capabilities,
            }
        ) == snapshot(name=f"{entry.entity_id}-entry")
        state = state_of(hass, entry.entity_id)
        assert plain(
            {"state": state.state, "attributes": dict(state.attributes)}
        ) == snapshot(name=f"{entry.entity_id}-state")
    devices = dr.async_entries_for_config_entry(
        device_registry, init_integration.entry_id
    )
    assert {entry.device_id for entry in entities} == {device.id for device in devices}
    assert len(devices) == 1


async def test_device(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    device_registry: dr.DeviceRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    devices = dr.async_entries_for_config_entry(
        device_registry, init_integration.entry_id
    )
    assert len(devices) == 1
    # The simulator's port changes from run to run.
    assert devices[0].configuration_url == (
        f"http://127.0.0.1:{simulator.port}/counter/v1/ocmf/metervalue"
    )
    device = devices[0]
    assert (
        plain(
            {
                "identifiers": sorted(device.identifiers),
                "manufacturer": device.manufacturer,
                "model": device.model,
                "name": device.name,
                "serial_number": device.serial_number,
                "sw_version": device.sw_version,
            }
        )
        == snapshot
    )


async def test_energy_values_follow_meter(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    charging: MeterSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    await poll(hass, freezer)
    state = state_of(hass, f"sensor.{PREFIX}_energy_imported")
    assert state.state == "446.540"
    assert state.attributes["state_class"] == "total_increasing"
    assert state.attributes["device_class"] == "energy"
    assert state.attributes["unit_of_measurement"] == "kWh"
    from decimal import Decimal

    charging.state.add_energy(import_kwh=Decimal("0.5"))
    await poll(hass, freezer)
    assert state_of(hass, f"sensor.{PREFIX}_energy_imported").state == "447.040"


async def test_unavailable_while_meter_fails_logged_once(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    power = f"sensor.{PREFIX}_power"
    assert state_of(hass, power).state == "0.0"
    simulator.inject_fault(FaultKind.HTTP_ERROR, path="metervalue")
    caplog.clear()
    caplog.set_level(logging.INFO)
    for _ in range(3):
        await poll(hass, freezer)
    assert state_of(hass, power).state == STATE_UNAVAILABLE
    assert (
        state_of(hass, f"binary_sensor.{PREFIX}_transaction").state == STATE_UNAVAILABLE
    )
    failures = [r for r in caplog.records if "Error fetching" in r.getMessage()]
    assert len(failures) == 1

    simulator.clear_faults()
    for _ in range(2):
        await poll(hass, freezer)
    assert state_of(hass, power).state == "0.0"
    recoveries = [r for r in caplog.records if "recovered" in r.getMessage()]
    assert len(recoveries) == 1


async def test_unchanged_values_write_no_new_state(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    charging: MeterSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    await poll(hass, freezer)
    before = state_of(hass, f"sensor.{PREFIX}_voltage")
    await poll(hass, freezer)
    after = state_of(hass, f"sensor.{PREFIX}_voltage")
    assert after.state == before.state == "400.0"
    assert after.last_updated == before.last_updated


async def test_problem_sensor_follows_error_code(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    problem = f"binary_sensor.{PREFIX}_problem"
    assert state_of(hass, problem).state == STATE_OFF
    await sim_control(
        hass, simulator, "error", {"xc": "0x0001, 0x00000000, 0x00, 0x00"}
    )
    await poll(hass, freezer)
    state = state_of(hass, problem)
    assert state.state == STATE_ON
    assert state.attributes["error_code"] == "0x0001, 0x00000000, 0x00, 0x00"
    await sim_control(hass, simulator, "error", {"xc": None})
    await poll(hass, freezer)
    assert state_of(hass, problem).state == STATE_OFF
