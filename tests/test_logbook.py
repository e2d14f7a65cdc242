"""The logbook: one entry per start and per stored tuple, as the user sees them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
import json
from pathlib import Path
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder.core import Recorder
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.iem_dcr import logbook
from custom_components.iem_dcr.const import (
    DOMAIN,
    EVENT_TRANSACTION_STARTED,
    EVENT_TRANSACTION_STOPPED,
)
from iem_dcr_simulator import MeterSimulator

UID = "04A1B2C3D4E5F6"
PREFIX = "iem_dcr_1isa0200001132"
TRANSLATIONS = Path(logbook.__file__).parent / "translations"

Describer = Callable[[Event], dict[str, str]]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    quiet_sql_logs: None, recorder_mock: Recorder, enable_custom_integrations: None
) -> None:
    """The recorder must start before Home Assistant; the logbook reads it."""


def _describers(hass: HomeAssistant) -> dict[str, Describer]:
    found: dict[str, Describer] = {}

    def register(domain: str, event_type: str, describe: Describer) -> None:
        assert domain == DOMAIN
        found[event_type] = describe

    logbook.async_describe_events(hass, register)
    return found


def _stopped_data(entry: MockConfigEntry, device_id: str | None) -> dict[str, Any]:
    return {
        "device_id": device_id,
        "config_entry_id": entry.entry_id,
        "meter_serial": "1ISA0200001132",
        "pagination": "T7",
        "energy_kwh": 12.3456,
        "signature_valid": True,
        "reason": "stopped",
        "ocmf": f'OCMF|{{"ID":"{UID}"}}|{{}}',
    }


def _device(hass: HomeAssistant, entry: MockConfigEntry) -> dr.DeviceEntry:
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert len(devices) == 1
    return devices[0]


async def test_entries_name_the_device_link_an_entity_and_have_an_icon(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    device = _device(hass, init_integration)
    dr.async_get(hass).async_update_device(device.id, name_by_user="Garage")
    describers = _describers(hass)
    started = describers[EVENT_TRANSACTION_STARTED](
        Event(
            EVENT_TRANSACTION_STARTED,
            {
                "device_id": device.id,
                "config_entry_id": init_integration.entry_id,
                "meter_serial": "1ISA0200001132",
                "transaction_id": "tx-42",
            },
        )
    )
    assert started == {
        "name": "Garage",
        "message": "started transaction tx-42",
        "icon": "mdi:play-circle-outline",
        "entity_id": f"binary_sensor.{PREFIX}_transaction",
    }
    stopped = describers[EVENT_TRANSACTION_STOPPED](
        Event(EVENT_TRANSACTION_STOPPED, _stopped_data(init_integration, device.id))
    )
    assert stopped == {
        "name": "Garage",
        "message": "stored signed tuple T7 (stopped): 12.346 kWh, signature valid",
        "icon": "mdi:receipt-text-check-outline",
        "entity_id": f"sensor.{PREFIX}_last_transaction",
    }
    assert UID not in json.dumps(stopped)


@pytest.mark.parametrize(
    ("change", "message", "icon"),
    [
        (
            {"signature_valid": False, "energy_kwh": None, "reason": "superseded"},
            (
                "stored signed tuple T7 (ended by the next start): energy unknown,"
                " SIGNATURE INVALID"
            ),
            "mdi:alert-octagon-outline",
        ),
        (
            {"signature_valid": None, "reason": "ended_externally"},
            (
                "stored signed tuple T7 (ended outside Home Assistant): 12.346 kWh,"
                " signature not checked"
            ),
            "mdi:receipt-text-outline",
        ),
        (
            {"reason": "recovered", "energy_kwh": 0},
            (
                "stored signed tuple T7 (fetched after an interruption): 0.000 kWh,"
                " signature valid"
            ),
            "mdi:receipt-text-check-outline",
        ),
    ],
)
async def test_stored_tuple_verdicts_and_reasons(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    change: dict[str, Any],
    message: str,
    icon: str,
) -> None:
    data = _stopped_data(init_integration, _device(hass, init_integration).id)
    described = _describers(hass)[EVENT_TRANSACTION_STOPPED](
        Event(EVENT_TRANSACTION_STOPPED, data | change)
    )
    assert (described["message"], described["icon"]) == (message, icon)


async def test_entries_without_a_known_device(hass: HomeAssistant) -> None:
    # An event of a removed meter still reads sensibly, without a link.
    described = _describers(hass)[EVENT_TRANSACTION_STARTED](
        Event(
            EVENT_TRANSACTION_STARTED,
            {"device_id": "gone", "config_entry_id": "gone", "meter_serial": "1ISA1"},
        )
    )
    assert described == {
        "name": "IEM-DCR 1ISA1",
        "message": "started transaction ?",
        "icon": "mdi:play-circle-outline",
    }


async def test_entries_in_german(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    # Home Assistant runs in German: set-up loads the German texts.
    hass.config.language = "de"
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    device = _device(hass, mock_config_entry)
    describers = _describers(hass)
    started = describers[EVENT_TRANSACTION_STARTED](
        Event(
            EVENT_TRANSACTION_STARTED,
            {
                "device_id": device.id,
                "config_entry_id": mock_config_entry.entry_id,
                "transaction_id": "tx-42",
            },
        )
    )
    assert started["message"] == "hat den Ladevorgang tx-42 gestartet"
    stopped = describers[EVENT_TRANSACTION_STOPPED](
        Event(EVENT_TRANSACTION_STOPPED, _stopped_data(mock_config_entry, device.id))
    )
    # A German decimal comma: "12.346 kWh" would read as twelve thousand.
    assert stopped["message"] == (
        "hat den signierten Datensatz T7 gespeichert (beendet): 12,346 kWh,"
        " Signatur gültig"
    )


async def test_a_broken_translation_falls_back_to_english(
    hass: HomeAssistant,
) -> None:
    broken = {f"component.{DOMAIN}.common.logbook_started": "startete {missing}"}
    with patch.object(logbook, "async_get_cached_translations", return_value=broken):
        described = _describers(hass)[EVENT_TRANSACTION_STARTED](
            Event(EVENT_TRANSACTION_STARTED, {"transaction_id": "tx-1"})
        )
    assert described["message"] == "started transaction tx-1"


def test_built_in_texts_are_the_english_translations() -> None:
    english = json.loads((TRANSLATIONS / "en.json").read_text(encoding="utf-8"))
    assert english["common"] == logbook.TEXTS


async def _logbook_entries(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator
) -> list[dict[str, Any]]:
    await hass.async_block_till_done()
    await async_wait_recording_done(hass)
    client = await hass_ws_client()
    # Time stands still in these tests: ask for the hour around it.
    now = dt_util.utcnow()
    await client.send_json(
        {
            "id": 1,
            "type": "logbook/get_events",
            "start_time": (now - timedelta(hours=1)).isoformat(),
            "end_time": (now + timedelta(hours=1)).isoformat(),
        }
    )
    response = await client.receive_json()
    assert response["success"], response
    entries: list[dict[str, Any]] = response["result"]
    return entries


async def test_one_logbook_entry_per_start_and_per_stored_tuple(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    simulator: MeterSimulator,
    hass_ws_client: WebSocketGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    # The logbook needs the frontend, which is not installed for tests.
    hass.config.components.add("frontend")
    assert await async_setup_component(hass, "logbook", {})
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    device = _device(hass, mock_config_entry)
    dr.async_get(hass).async_update_device(device.id, name_by_user="Garage")
    await async_wait_recording_done(hass)

    for number in (1, 2):
        # One second apart, so that the logbook's order is the order of events.
        freezer.tick(1)
        await hass.services.async_call(
            DOMAIN,
            "start_transaction",
            {
                "config_entry_id": mock_config_entry.entry_id,
                "transaction_id": f"tx-{number}",
                "identification_data": UID,
            },
            blocking=True,
        )
        freezer.tick(1)
        await hass.services.async_call(
            DOMAIN,
            "stop_transaction",
            {"config_entry_id": mock_config_entry.entry_id},
            blocking=True,
        )
    entries = await _logbook_entries(hass, hass_ws_client)

    ours = [entry for entry in entries if entry.get("domain") == DOMAIN]
    assert [entry["message"] for entry in ours] == [
        "started transaction tx-1",
        "stored signed tuple T1 (stopped): 0.000 kWh, signature valid",
        "started transaction tx-2",
        "stored signed tuple T2 (stopped): 0.000 kWh, signature valid",
    ]
    assert {entry["name"] for entry in ours} == {"Garage"}
    assert all(entry["icon"] and entry["entity_id"] for entry in ours)
    # Besides ours, only the running binary sensor's own state changes (Home
    # Assistant logs every state change of a binary sensor); the event entity,
    # which would repeat each entry, is disabled by default.
    others = [
        (entry["entity_id"], entry["state"]) for entry in entries if entry not in ours
    ]
    running = f"binary_sensor.{PREFIX}_transaction"
    assert others == [(running, "on"), (running, "off")] * 2
    assert UID not in json.dumps(entries)
