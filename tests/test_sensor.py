"""Entities: states and attributes, availability, problem detection."""

from __future__ import annotations

import base64
import json
import logging

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from custom_components.iem_dcr.const import DOMAIN
from custom_components.iem_dcr.key_fingerprint import key_fingerprint
from iem_dcr_simulator import FaultKind, MeterSimulator

from .helpers import poll, sim_control, state_of

PREFIX = "iem_dcr_1isa0200001132"
SIGNATURE_ALGORITHM = "ECDSA-secp256r1-SHA256"


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
    mock_config_entry: MockConfigEntry,
    simulator: MeterSimulator,
    device_registry: dr.DeviceRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    mock_config_entry.add_to_hass(hass)
    # Earlier versions linked "Visit" to the meter's raw JSON.
    device_registry.async_get_or_create(
        config_entry_id=mock_config_entry.entry_id,
        identifiers={(DOMAIN, simulator.state.serial)},
        configuration_url=f"{simulator.url}/counter/v1/ocmf/metervalue",
    )
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    devices = dr.async_entries_for_config_entry(
        device_registry, mock_config_entry.entry_id
    )
    assert len(devices) == 1
    device = devices[0]
    # The meter has no web interface: no "Visit" link.
    assert device.configuration_url is None
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


async def test_public_key_sensor_shows_a_fingerprint(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: MeterSimulator
) -> None:
    state = state_of(hass, f"sensor.{PREFIX}_public_key")
    fingerprint = key_fingerprint(simulator.state.public_key_hex, SIGNATURE_ALGORITHM)
    assert state.state == fingerprint
    assert len(state.state) == 19
    assert state.attributes["public_key"] == simulator.state.public_key_hex
    # The same key in another shape (base64 DER) gives the same fingerprint.
    as_base64 = base64.b64encode(bytes.fromhex(simulator.state.public_key_hex))
    assert key_fingerprint(as_base64.decode(), SIGNATURE_ALGORITHM) == fingerprint
    assert key_fingerprint("not a key", SIGNATURE_ALGORITHM) is None


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


# Fed by polls (written when their value changes) and by transaction news only.
POLLED = (
    f"sensor.{PREFIX}_voltage",
    f"sensor.{PREFIX}_power",
    f"sensor.{PREFIX}_energy_imported",
    f"sensor.{PREFIX}_public_key",
    f"binary_sensor.{PREFIX}_transaction",
    f"binary_sensor.{PREFIX}_problem",
    f"button.{PREFIX}_stop_transaction",
)
NEWS_ONLY = (
    f"sensor.{PREFIX}_last_transaction",
    f"sensor.{PREFIX}_signed_tuples",
    f"sensor.{PREFIX}_energy_this_month",
    f"calendar.{PREFIX}_charging_sessions",
)


async def test_a_poll_writes_only_the_states_that_changed(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    charging: MeterSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    await poll(hass, freezer)
    reported = {
        entity_id: state_of(hass, entity_id).last_reported
        for entity_id in POLLED + NEWS_ONLY
    }

    # Nothing changed on the meter: no state is written (last_reported would move).
    await poll(hass, freezer)
    assert {
        entity_id: state_of(hass, entity_id).last_reported for entity_id in reported
    } == reported

    # The voltage and the power change: only they are written.
    charging.state.set_measurements(voltage=401.0, current=2.0)
    await poll(hass, freezer)
    moved = {
        entity_id
        for entity_id in reported
        if state_of(hass, entity_id).last_reported != reported[entity_id]
    }
    assert moved == {f"sensor.{PREFIX}_voltage", f"sensor.{PREFIX}_power"}
    voltage = state_of(hass, f"sensor.{PREFIX}_voltage")
    assert voltage.state == "401.0"
    # One poll, one cause: its changes share a context, the next poll has its own.
    assert state_of(hass, f"sensor.{PREFIX}_power").context.id == voltage.context.id
    charging.state.set_measurements(voltage=402.0, current=2.0)
    await poll(hass, freezer)
    assert state_of(hass, f"sensor.{PREFIX}_voltage").context.id != voltage.context.id


async def test_availability_is_written_though_the_value_stays(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    charging: MeterSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    await poll(hass, freezer)
    charging.inject_fault(FaultKind.DISCONNECT, path="metervalue", count=1)
    await poll(hass, freezer)
    assert {state_of(hass, entity_id).state for entity_id in POLLED} == {
        STATE_UNAVAILABLE
    }
    assert STATE_UNAVAILABLE not in {
        state_of(hass, entity_id).state for entity_id in NEWS_ONLY
    }

    await poll(hass, freezer)
    assert state_of(hass, f"sensor.{PREFIX}_voltage").state == "400.0"
    assert state_of(hass, f"button.{PREFIX}_stop_transaction").state != (
        STATE_UNAVAILABLE
    )


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
