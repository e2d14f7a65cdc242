"""Transactions through the services, against the simulated meter."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from decimal import Decimal
import json
import logging
from pathlib import Path
from typing import Any
from unittest.mock import patch
import xml.etree.ElementTree as ET

from freezegun.api import FrozenDateTimeFactory
from homeassistant.auth.models import User
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import (
    HomeAssistantError,
    ServiceValidationError,
    Unauthorized,
)
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.iem_dcr.api import (
    IemDcrClient,
    IemDcrConnectionError,
    MeterValue,
    SignedData,
)
from custom_components.iem_dcr.const import (
    CONF_TRANSACTION_RETRIES,
    DOMAIN,
    EVENT_TRANSACTION_STARTED,
    EVENT_TRANSACTION_STOPPED,
)
from custom_components.iem_dcr.ledger import Ledger, LedgerError
from custom_components.iem_dcr.ocmf import parse, tps_compatibility, verify_signature
from iem_dcr_simulator import FaultKind, MeterSimulator

from .conftest import CI
from .helpers import UID, poll, posted, running, sim_control, start, state_of, stop

SERIAL = "1ISA0200001132"
PREFIX = "iem_dcr_1isa0200001132"


def ledger_file(hass: HomeAssistant) -> Path:
    return Path(hass.config.path("iem_dcr_ledger", f"{SERIAL}.jsonl"))


def ledger_records(hass: HomeAssistant) -> list[dict[str, Any]]:
    path = ledger_file(hass)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


async def export(
    hass: HomeAssistant, data: dict[str, Any], context: Context | None = None
) -> dict[str, Any]:
    response = await hass.services.async_call(
        DOMAIN,
        "export_transactions",
        data,
        blocking=True,
        return_response=True,
        context=context,
    )
    assert response is not None
    return dict(response)


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_start_stop_round_trip(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    meter_pauses: list[float],
    freezer: FrozenDateTimeFactory,
) -> None:
    started_events = async_capture_events(hass, EVENT_TRANSACTION_STARTED)
    stopped_events = async_capture_events(hass, EVENT_TRANSACTION_STOPPED)
    simulator.state.add_energy(import_kwh=Decimal("446.54"))
    simulator.requests.clear()

    response = await start(
        hass, init_integration, evse_id=CI, identification_level="HEARSAY"
    )
    assert response["status"] == "OK"
    # A number, as in the stop response and the events.
    assert response["start_register_kwh"] == 446.54
    assert isinstance(response["start_register_kwh"], float)
    assert response["ocmf_id_field"] == UID
    assert response["meter_serial"] == SERIAL
    assert response["superseded"] is None
    assert simulator.state.transaction_active
    # The reference sequence: a stray end, a pause, the user data, then begin.
    receipts = posted(simulator, "receipt")
    assert receipts == [{"TX": "E"}, {"TX": "B"}]
    assert posted(simulator, "user") == [
        {
            "IS": True,
            "IL": "HEARSAY",
            "IF": [],
            "IT": "ISO14443",
            "ID": UID,
            "US": False,
        }
    ]
    assert meter_pauses == [0.25]
    assert len(started_events) == 1
    assert started_events[0].data["transaction_id"] == "tx-1"
    assert started_events[0].data["start_register_kwh"] == 446.54
    assert UID not in json.dumps(started_events[0].data)
    await hass.async_block_till_done()
    assert state_of(hass, f"binary_sensor.{PREFIX}_transaction").state == "on"
    assert (
        state_of(hass, f"event.{PREFIX}_transaction_events").attributes["event_type"]
        == "started"
    )

    simulator.state.add_energy(import_kwh=Decimal("12.345"))
    result = await stop(hass, init_integration)

    record = simulator.state.issued[-1]
    assert result["ocmf"] == record
    assert result["signature_valid"] is True
    assert result["tps_compatible"] is True
    assert result["tps_incompatible_reason"] is None
    assert verify_signature(record, result["public_key"])
    assert result["pagination"] == "T1"
    assert result["ocmf_id"] == f"{SERIAL}/T1"
    assert result["energy_kwh"] == pytest.approx(12.345)
    assert result["start_register_kwh"] == response["start_register_kwh"]
    assert result["eichrecht_issues"] == []
    assert result["reason"] == "stopped"
    assert parse(record).payload.identification_data == UID

    # Stored before it was announced, verbatim.
    stored = ledger_records(hass)
    assert [item["ocmf"] for item in stored] == [record]
    assert stored[0]["reason"] == "stopped"
    assert len(stopped_events) == 1
    event = stopped_events[0].data
    assert event["ocmf"] == record
    assert event["config_entry_id"] == init_integration.entry_id
    assert event["device_id"] is not None
    assert event["energy_kwh"] == pytest.approx(12.345)

    await poll(hass, freezer)
    last = state_of(hass, f"sensor.{PREFIX}_last_transaction")
    assert float(last.state) == pytest.approx(12.345)
    assert last.attributes["pagination"] == "T1"
    assert last.attributes["signature_valid"] is True
    assert UID not in json.dumps(dict(last.attributes))
    assert state_of(hass, f"sensor.{PREFIX}_signed_tuples").state == "1"
    assert (
        state_of(hass, f"event.{PREFIX}_transaction_events").attributes["event_type"]
        == "stopped"
    )


async def test_start_supersedes_running_transaction(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: MeterSimulator
) -> None:
    stopped_events = async_capture_events(hass, EVENT_TRANSACTION_STOPPED)
    await start(hass, init_integration)
    response = await start(hass, init_integration, transaction_id="tx-2")
    superseded = response["superseded"]
    assert superseded["pagination"] == "T1"
    assert superseded["reason"] == "superseded"
    assert superseded["ocmf"] == simulator.state.issued[0]
    assert simulator.state.transaction_active
    assert [item["reason"] for item in ledger_records(hass)] == ["superseded"]
    assert [event.data["reason"] for event in stopped_events] == ["superseded"]


async def test_stray_end_on_meter_that_looked_idle_keeps_tuple(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: MeterSimulator
) -> None:
    # A transaction began after the last poll: the reference driver's stray end
    # ends it, and its tuple must not be thrown away.
    simulator.state.begin_transaction()
    real_read = IemDcrClient.get_meter_value
    reads = 0

    async def stale_first_read(client: IemDcrClient) -> MeterValue:
        nonlocal reads
        reads += 1
        value = await real_read(client)
        return replace(value, transaction_active=False) if reads == 1 else value

    with patch.object(IemDcrClient, "get_meter_value", stale_first_read):
        response = await start(hass, init_integration)
    assert response["superseded"]["pagination"] == "T1"
    assert [item["pagination"] for item in ledger_records(hass)] == ["T1"]


async def test_stop_without_transaction_returns_last(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: MeterSimulator
) -> None:
    stopped_events = async_capture_events(hass, EVENT_TRANSACTION_STOPPED)
    await start(hass, init_integration)
    first = await stop(hass, init_integration)
    again = await stop(hass, init_integration)
    assert again["ocmf"] == first["ocmf"]
    assert again["pagination"] == "T1"
    assert len(stopped_events) == 1
    assert len(ledger_records(hass)) == 1


async def test_stop_when_meter_never_had_a_transaction(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    with pytest.raises(HomeAssistantError) as err:
        await stop(hass, init_integration)
    assert err.value.translation_key == "no_transaction"


async def test_evse_id_mismatch_refused(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: MeterSimulator
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await start(hass, init_integration, evse_id="OTHER")
    assert err.value.translation_key == "evse_id_mismatch"
    assert err.value.translation_placeholders == {"evse_id": "OTHER", "meter_ci": CI}
    assert posted(simulator, "user") == []
    assert not simulator.state.transaction_active


async def test_meter_error_state_refused(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: MeterSimulator
) -> None:
    simulator.state.set_error_code("0x0100, 0x00000000, 0x00, 0x00")
    with pytest.raises(ServiceValidationError) as err:
        await start(hass, init_integration)
    assert err.value.translation_key == "meter_error_state"
    assert posted(simulator, "receipt") == []


async def test_polling_resumes_after_refused_start(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    simulator.state.set_error_code("0x0100, 0x00000000, 0x00, 0x00")
    with pytest.raises(ServiceValidationError):
        await start(hass, init_integration)
    simulator.state.set_measurements(voltage=230.0)
    await poll(hass, freezer)
    assert state_of(hass, f"sensor.{PREFIX}_voltage").state == "230.0"


async def test_activation_threshold_refusal(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    meter_pauses: list[float],
) -> None:
    simulator.state.set_measurements(voltage=400.0, current=10.0)
    with pytest.raises(ServiceValidationError) as err:
        await start(hass, init_integration)
    assert err.value.translation_key == "begin_refused"
    assert err.value.translation_placeholders == {
        "status": "428",
        "endpoint": "receipt",
    }
    # One stray end, then begin with three retries, 250 ms apart.
    assert posted(simulator, "receipt") == [{"TX": "E"}] + [{"TX": "B"}] * 4
    assert meter_pauses == [0.25, 0.25, 0.25, 0.25]
    assert not simulator.state.transaction_active

    simulator.state.set_measurements(current=0.0)
    await start(hass, init_integration)
    simulator.state.set_measurements(current=10.0)
    with pytest.raises(ServiceValidationError) as err:
        await stop(hass, init_integration)
    assert err.value.translation_key == "end_refused"
    assert running(simulator)

    # A start that must end the running transaction first says so.
    with pytest.raises(ServiceValidationError) as err:
        await start(hass, init_integration, transaction_id="tx-2")
    assert err.value.translation_key == "end_refused_before_begin"
    assert running(simulator)


async def test_invalid_service_input_changes_nothing(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: MeterSimulator
) -> None:
    simulator.requests.clear()
    bad_inputs: list[dict[str, Any]] = [
        {"tariff_text": "x" * 251},
        {"tariff_text": "a|b"},
        {"identification_data": "12|34"},
        {
            "identification_flags": [
                "RFID_PSK",
                "OCPP_AUTH",
                "ISO15118_NONE",
                "PLMN_NONE",
                "RFID_NONE",
            ]
        },
        {"identification_type": "SMOKE_SIGNAL"},
        {"identification_level": "GUESSED"},
        {"transaction_id": ""},
    ]
    for fields in bad_inputs:
        with pytest.raises(Exception) as err:
            await start(hass, init_integration, **fields)
        assert "Invalid" in type(err.value).__name__ or isinstance(
            err.value, ServiceValidationError
        )
    assert simulator.requests == []


async def test_unknown_or_unloaded_entry(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "stop_transaction",
            {"config_entry_id": "nope"},
            blocking=True,
            return_response=True,
        )
    assert err.value.translation_key == "entry_not_found"
    await hass.config_entries.async_unload(init_integration.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await stop(hass, init_integration)
    assert err.value.translation_key == "entry_not_loaded"


async def test_receipt_lost_then_recovered(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    stopped_events = async_capture_events(hass, EVENT_TRANSACTION_STOPPED)
    await start(hass, init_integration)
    # The network drops right after the meter accepted the end: the simulator
    # cannot fail GET /receipt alone, so the client is made to fail it.
    with (
        patch.object(
            IemDcrClient, "get_receipt", side_effect=IemDcrConnectionError("dropped")
        ),
        pytest.raises(HomeAssistantError) as err,
    ):
        await stop(hass, init_integration)
    assert err.value.translation_key == "receipt_not_read"
    assert not isinstance(err.value, ServiceValidationError)
    assert not simulator.state.transaction_active
    assert ledger_records(hass) == []
    # No new transaction may begin before the tuple is safe...
    with (
        patch.object(
            IemDcrClient,
            "get_last_transaction",
            side_effect=IemDcrConnectionError("down"),
        ),
        pytest.raises(ServiceValidationError) as err,
    ):
        await start(hass, init_integration)
    assert err.value.translation_key == "receipt_pending"
    assert not simulator.state.transaction_active

    # ...and the next poll with the meter back fetches and stores it.
    await poll(hass, freezer)
    assert [item["reason"] for item in ledger_records(hass)] == ["recovered"]
    assert ledger_records(hass)[0]["ocmf"] == simulator.state.issued[0]
    assert [event.data["reason"] for event in stopped_events] == ["recovered"]


async def test_ledger_write_failure_is_retried(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    await start(hass, init_integration)
    with (
        patch.object(Ledger, "append", side_effect=LedgerError("disk full")),
        pytest.raises(HomeAssistantError) as err,
    ):
        await stop(hass, init_integration)
    assert err.value.translation_key == "ledger_write_failed"
    # Written again after a back-off, not on every poll.
    await poll(hass, freezer)
    assert ledger_records(hass) == []
    await poll(hass, freezer, seconds=10)
    assert [item["ocmf"] for item in ledger_records(hass)] == simulator.state.issued


async def test_transaction_ended_outside_home_assistant(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    stopped_events = async_capture_events(hass, EVENT_TRANSACTION_STOPPED)
    await start(hass, init_integration)
    await poll(hass, freezer)
    simulator.state.end_transaction_externally()
    await poll(hass, freezer)
    assert [event.data["reason"] for event in stopped_events] == ["ended_externally"]
    assert [item["ocmf"] for item in ledger_records(hass)] == simulator.state.issued
    await poll(hass, freezer)
    assert len(stopped_events) == 1


async def test_restart_during_transaction(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
) -> None:
    await start(hass, init_integration)
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    assert simulator.state.transaction_active
    assert await hass.config_entries.async_setup(init_integration.entry_id)
    await hass.async_block_till_done()
    result = await stop(hass, init_integration)
    assert result["pagination"] == "T1"
    assert result["signature_valid"] is True
    assert len(ledger_records(hass)) == 1
    # The ledger survives a restart and feeds the last-transaction sensor.
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert init_integration.runtime_data.keeper.ledger_size == 1
    assert (
        state_of(hass, f"sensor.{PREFIX}_last_transaction").attributes["pagination"]
        == "T1"
    )


async def test_startup_stores_missing_tuple_and_reports_gap(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    issue_registry: ir.IssueRegistry,
) -> None:
    await start(hass, init_integration)
    await stop(hass, init_integration)
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    # Two transactions while Home Assistant is away; only the last stays readable.
    for _ in range(2):
        simulator.state.begin_transaction()
        simulator.state.end_transaction_externally()
    assert await hass.config_entries.async_setup(init_integration.entry_id)
    await hass.async_block_till_done()
    records = ledger_records(hass)
    assert [item["pagination"] for item in records] == ["T1", "T3"]
    assert records[1]["reason"] == "recovered"
    issue = issue_registry.async_get_issue(
        DOMAIN, f"pagination_gap_{init_integration.entry_id}_T3"
    )
    assert issue is not None
    assert issue.translation_placeholders == {
        "title": init_integration.title,
        "previous": "T1",
        "current": "T3",
        "missing": "1",
    }


async def test_concurrent_stops_store_once(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: MeterSimulator
) -> None:
    stopped_events = async_capture_events(hass, EVENT_TRANSACTION_STOPPED)
    await start(hass, init_integration)
    results = await asyncio.gather(*(stop(hass, init_integration) for _ in range(10)))
    assert {result["pagination"] for result in results} == {"T1"}
    assert len(stopped_events) == 1
    assert len(ledger_records(hass)) == 1


async def test_concurrent_starts_keep_every_tuple(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: MeterSimulator
) -> None:
    results = await asyncio.gather(
        *(start(hass, init_integration, transaction_id=f"tx-{n}") for n in range(10))
    )
    assert all(result["status"] == "OK" for result in results)
    records = ledger_records(hass)
    assert [item["pagination"] for item in records] == [f"T{n}" for n in range(1, 10)]
    assert [item["ocmf"] for item in records] == simulator.state.issued
    assert all(item["signature_valid"] for item in records)
    assert simulator.state.transaction_active
    assert init_integration.runtime_data.keeper.ledger.gaps() == []


async def test_torn_ledger_line_is_skipped(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    simulator: MeterSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    path = ledger_file(hass)
    path.parent.mkdir(parents=True)
    path.write_text('{"format": 1, "sequence": 1, "ocmf": "OCMF|{\\"PG')
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert "skipped 1 torn" in caplog.text
    await start(hass, mock_config_entry)
    await stop(hass, mock_config_entry)
    lines = path.read_text().splitlines()
    assert lines[0] == '{"format": 1, "sequence": 1, "ocmf": "OCMF|{\\"PG'
    assert json.loads(lines[1])["ocmf"] == simulator.state.issued[0]


async def test_stop_button_stops_a_running_transaction(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: MeterSimulator
) -> None:
    await start(hass, init_integration)
    assert state_of(hass, f"binary_sensor.{PREFIX}_transaction").state == "on"
    await hass.services.async_call(
        "button",
        "press",
        {"entity_id": f"button.{PREFIX}_stop_transaction"},
        blocking=True,
    )
    assert not simulator.state.transaction_active
    assert [item["reason"] for item in ledger_records(hass)] == ["stopped"]


async def test_stop_button_says_when_nothing_runs(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: MeterSimulator
) -> None:
    button = f"button.{PREFIX}_stop_transaction"
    # Available while idle (an unavailable button would add logbook lines).
    assert state_of(hass, button).state != "unavailable"
    simulator.requests.clear()
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            "button", "press", {"entity_id": button}, blocking=True
        )
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "no_transaction_running"
    # The meter was not asked to end anything.
    assert posted(simulator, "receipt") == []
    assert ledger_records(hass) == []


@pytest.mark.parametrize(
    ("fields", "level"),
    [
        # No user assigned: NONE, which the Eichrecht check accepts.
        ({"identification_data": None}, "NONE"),
        # An identification read but not checked.
        ({}, "HEARSAY"),
        ({"identification_level": ""}, "HEARSAY"),
        ({"identification_level": "verified"}, "VERIFIED"),
    ],
)
async def test_identification_level_default(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    fields: dict[str, Any],
    level: str,
) -> None:
    data = {key: value for key, value in fields.items() if value is not None}
    if "identification_data" in fields:
        # Without identification data the transaction id is signed as the ID.
        response = await hass.services.async_call(
            DOMAIN,
            "start_transaction",
            {"config_entry_id": init_integration.entry_id, "transaction_id": "tx-9"},
            blocking=True,
            return_response=True,
        )
        assert response is not None
    else:
        await start(hass, init_integration, **data)
    assert posted(simulator, "user")[-1]["IL"] == level
    result = await stop(hass, init_integration)
    assert parse(result["ocmf"]).payload.identification_level == level
    assert result["eichrecht_issues"] == []


async def test_ocmf_codes_from_the_action_form(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: MeterSimulator
) -> None:
    # The form's selectors send lower-case option values; the meter gets OCMF codes.
    await start(
        hass,
        init_integration,
        identification_level="trusted",
        identification_flags=["rfid_psk", "OCPP_NONE"],
        identification_type="iso14443",
    )
    user = posted(simulator, "user")[-1]
    assert (user["IL"], user["IF"], user["IT"]) == (
        "TRUSTED",
        ["RFID_PSK", "OCPP_NONE"],
        "ISO14443",
    )


async def test_export_transactions(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    hass_admin_user: User,
    hass_read_only_user: User,
) -> None:
    for n in range(2):
        await start(hass, init_integration, transaction_id=f"tx-{n}")
        await stop(hass, init_integration)
    response = await export(
        hass,
        {"config_entry_id": init_integration.entry_id, "write_file": True},
        Context(user_id=hass_admin_user.id),
    )
    assert response["count"] == 2
    assert [item["ocmf"] for item in response["transactions"]] == simulator.state.issued
    path = Path(response["file"])
    assert path.parent == Path(hass.config.path("iem_dcr_exports"))
    root = ET.fromstring(path.read_text(encoding="utf-8"))
    texts = [
        element.text for element in root.iter() if element.tag.endswith("signedData")
    ]
    assert texts == simulator.state.issued

    with pytest.raises(Unauthorized):
        await hass.services.async_call(
            DOMAIN,
            "export_transactions",
            {"config_entry_id": init_integration.entry_id},
            blocking=True,
            return_response=True,
            context=Context(user_id=hass_read_only_user.id),
        )
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "export_transactions",
            {
                "config_entry_id": init_integration.entry_id,
                "start": "2026-11-27T00:00:00",
                "end": "2026-11-26T00:00:00",
            },
            blocking=True,
            return_response=True,
        )
    assert err.value.translation_key == "export_range_invalid"
    empty = await export(
        hass,
        {"config_entry_id": init_integration.entry_id, "start": "2030-01-01T00:00:00"},
    )
    assert empty["count"] == 0


async def test_identification_data_never_logged(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    await start(hass, init_integration)
    simulator.state.add_energy(import_kwh=Decimal(1))
    await poll(hass, freezer)
    await stop(hass, init_integration)
    await start(hass, init_integration)
    simulator.state.set_measurements(current=10.0)
    with pytest.raises(HomeAssistantError):
        await stop(hass, init_integration)
    assert caplog.records
    assert UID not in caplog.text


async def test_retries_follow_options(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    simulator: MeterSimulator,
) -> None:
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry,
        options={**mock_config_entry.options, CONF_TRANSACTION_RETRIES: 0},
    )
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    simulator.state.set_measurements(current=10.0)
    simulator.requests.clear()
    with pytest.raises(HomeAssistantError):
        await start(hass, mock_config_entry)
    assert posted(simulator, "receipt") == [{"TX": "E"}, {"TX": "B"}]


async def test_start_on_power_cycled_meter_initialises_it_first(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: MeterSimulator
) -> None:
    simulator.state.power_cycle()
    response = await start(hass, init_integration, evse_id=CI)
    assert response["status"] == "OK"
    assert simulator.state.charge_point_id == CI
    assert simulator.state.transaction_active


async def test_unreadable_ledger_retries_setup(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    # A folder where the ledger file should be: reading it fails.
    ledger_file(hass).mkdir(parents=True)
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY
    assert mock_config_entry.reason is not None
    assert "iem_dcr_ledger" in mock_config_entry.reason


async def test_stale_receipt_is_not_taken_for_the_new_tuple(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    meter_pauses: list[float],
    freezer: FrozenDateTimeFactory,
) -> None:
    await start(hass, init_integration)
    first = await stop(hass, init_integration)
    await start(hass, init_integration, transaction_id="tx-2")
    # A meter still signing answers the receipt with the previous tuple; the
    # simulator signs at once, so the client is made to answer like that.
    previous = SignedData(text=first["ocmf"])
    with (
        patch.object(IemDcrClient, "get_receipt", return_value=previous),
        pytest.raises(HomeAssistantError) as err,
    ):
        await stop(hass, init_integration)
    assert err.value.translation_key == "receipt_not_read"
    assert [item["pagination"] for item in ledger_records(hass)] == ["T1"]
    await poll(hass, freezer)
    assert [item["pagination"] for item in ledger_records(hass)] == ["T1", "T2"]
    assert ledger_records(hass)[1]["reason"] == "recovered"


async def test_transaction_lost_by_power_failure_is_reported(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await start(hass, init_integration)
    await stop(hass, init_integration)
    await start(hass, init_integration, transaction_id="tx-2")
    await poll(hass, freezer)
    simulator.state.power_cycle()
    await poll(hass, freezer)  # re-initialises the meter
    await poll(hass, freezer)  # compares its last tuple with the ledger
    assert "without a new signed tuple" in caplog.text
    assert len(ledger_records(hass)) == 1


def exported_texts(path: str) -> list[str]:
    root = ET.fromstring(Path(path).read_text(encoding="utf-8"))
    return [element.text or "" for element in root.iter("signedData")]


def exported_keys(path: str) -> list[str]:
    root = ET.fromstring(Path(path).read_text(encoding="utf-8"))
    return [element.text or "" for element in root.iter("publicKey")]


async def test_tuple_the_transparenzsoftware_cannot_read_is_flagged_and_exported(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    stopped_events = async_capture_events(hass, EVENT_TRANSACTION_STOPPED)
    # The meter's fixed-width DER with an r or s below 2^247, as asked for.
    await sim_control(hass, simulator, "signature_shape", {"shape": "leading_zero"})
    await start(hass, init_integration)
    result = await stop(hass, init_integration)
    record = simulator.state.issued[-1]
    assert result["signature_valid"] is True
    assert result["tps_compatible"] is False
    reason = result["tps_incompatible_reason"]
    assert "superfluous 00 byte" in reason and "Transparenzsoftware 1.4.1" in reason
    assert stopped_events[-1].data["tps_compatible"] is False
    assert stopped_events[-1].data["tps_incompatible_reason"] == reason
    await poll(hass, freezer)
    last = state_of(hass, f"sensor.{PREFIX}_last_transaction")
    assert last.attributes["tps_compatible"] is False
    assert last.attributes["tps_incompatible_reason"] == reason

    entry_id = init_integration.entry_id
    verbatim = await export(hass, {"config_entry_id": entry_id, "write_file": True})
    assert exported_texts(verbatim["file"]) == [record]
    freezer.tick(1)  # another file name
    canonical = await export(
        hass,
        {"config_entry_id": entry_id, "write_file": True, "canonical_signatures": True},
    )
    (text,) = exported_texts(canonical["file"])
    header, payload, signature = text.split("|")
    assert f"{header}|{payload}|" == record.rsplit("|", 1)[0] + "|"
    assert signature != record.rsplit("|", 1)[1]
    assert json.loads(signature)["SA"] == "ECDSA-secp256r1-SHA256"
    (key,) = exported_keys(canonical["file"])
    assert verify_signature(text, key) is True
    assert tps_compatibility(text, key).compatible
    # The ledger and the response keep the tuple as the meter signed it.
    assert canonical["transactions"][0]["ocmf"] == record
    assert [item["ocmf"] for item in ledger_records(hass)] == [record]


async def test_export_needs_a_public_key(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    simulator: MeterSimulator,
) -> None:
    simulator.inject_fault(FaultKind.HTTP_ERROR, path="publickey")
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    await start(hass, mock_config_entry)
    result = await stop(hass, mock_config_entry)
    assert result["public_key"] == ""
    assert result["signature_valid"] is None
    assert ledger_records(hass)[0]["public_key"] == ""
    data = {"config_entry_id": mock_config_entry.entry_id, "write_file": True}
    with pytest.raises(HomeAssistantError) as err:
        await export(hass, data)
    assert err.value.translation_key == "export_public_key_missing"
    assert err.value.translation_placeholders == {"pagination": "T1"}
    assert not Path(hass.config.path("iem_dcr_exports")).exists()
    # Once the meter's key is known, the tuple stored without it is exported with it.
    simulator.clear_faults()
    await start(hass, mock_config_entry, transaction_id="tx-2")
    await stop(hass, mock_config_entry)
    response = await export(hass, data)
    keys = exported_keys(response["file"])
    assert keys == [simulator.state.public_key_hex] * 2
    for text, key in zip(exported_texts(response["file"]), keys, strict=True):
        assert verify_signature(text, key) is True
