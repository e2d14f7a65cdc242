"""Fault matrix, part 1: the ways a signed tuple could be lost or stored twice.

Each scenario drives the simulated meter through its control API (and the
simulator's fault injection), then checks with `matrix` that every tuple the
meter signed is in the ledger once and was announced once.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
import xml.etree.ElementTree as ET

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.iem_dcr.const import CONF_POLL_INTERVAL, DOMAIN
from custom_components.iem_dcr.diagnostics import async_get_config_entry_diagnostics
from iem_dcr_simulator import FaultKind, MeterSimulator
from tests.helpers import UID, copy_with_options, poll, posted, sim_control, start, stop

from .conftest import recover
from .matrix import Matrix, ledger_records, payload


def reasons(matrix: Matrix) -> list[str]:
    return [record["reason"] for record in ledger_records(matrix.config_dir)]


async def run_elsewhere(hass: HomeAssistant, sim: MeterSimulator) -> None:
    """Another controller runs a whole transaction on the meter."""
    sim.state.begin_transaction()
    await sim_control(hass, sim, "end_transaction")


# -- 1. a transaction Home Assistant never saw running -----------------------------------


async def test_transaction_between_two_polls_is_kept_before_the_next_begin(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    matrix: Matrix,
) -> None:
    await run_elsewhere(hass, simulator)
    # No poll saw it running; the next start must not let it be replaced.
    await start(hass, init_integration)
    await stop(hass, init_integration)
    matrix.assert_nothing_lost()
    assert reasons(matrix) == ["ended_externally", "stopped"]


async def test_transaction_in_a_network_split_is_kept_when_polling_recovers(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    freezer: FrozenDateTimeFactory,
    matrix: Matrix,
) -> None:
    await simulator.refuse_connections()
    await poll(hass, freezer)
    simulator.state.begin_transaction()
    simulator.state.end_transaction_externally()
    await simulator.accept_connections()
    await recover(hass, freezer, simulator, matrix)
    await poll(hass, freezer)
    matrix.assert_nothing_lost()
    assert reasons(matrix) == ["ended_externally"]


async def test_transaction_shorter_than_a_slow_poll_interval_is_kept(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    simulator: MeterSimulator,
    freezer: FrozenDateTimeFactory,
    matrix: Matrix,
) -> None:
    entry = copy_with_options(
        mock_config_entry,
        {**mock_config_entry.options, CONF_POLL_INTERVAL: 30},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await poll(hass, freezer, seconds=30)
    await run_elsewhere(hass, simulator)
    await poll(hass, freezer, seconds=30)
    # Even without a start, the ledger is compared with the meter every 5 minutes.
    for _ in range(10):
        await poll(hass, freezer, seconds=30)
    matrix.assert_nothing_lost()
    assert reasons(matrix) == ["ended_externally"]


async def test_no_begin_while_the_meters_last_tuple_cannot_be_read(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    matrix: Matrix,
) -> None:
    await run_elsewhere(hass, simulator)
    simulator.inject_fault(FaultKind.HTTP_ERROR, path="transaction", status=500)
    with pytest.raises(HomeAssistantError) as err:
        await start(hass, init_integration)
    assert err.value.translation_key == "last_tuple_unreadable"
    assert {"TX": "B"} not in posted(simulator, "receipt")
    assert not simulator.state.transaction_active
    simulator.clear_faults()
    await start(hass, init_integration)
    await stop(hass, init_integration)
    matrix.assert_nothing_lost()


async def test_a_meter_that_never_signed_anything_may_begin(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    matrix: Matrix,
) -> None:
    # Both transaction paths are refused (428) on a meter without any record.
    await start(hass, init_integration)
    assert simulator.state.transaction_active
    await stop(hass, init_integration)
    matrix.assert_nothing_lost()


# -- 2. a tuple the parser refuses ---------------------------------------------------


async def test_unreadable_receipt_is_stored_and_blocks_until_a_readable_copy(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
    caplog: pytest.LogCaptureFixture,
    matrix: Matrix,
) -> None:
    await start(hass, init_integration)
    # Damaged on the receipt and on the next two reads of the last transaction
    # (the one right after the stop and the one of the poll that follows).
    simulator.inject_fault(FaultKind.MALFORMED_OCMF, path="receipt", count=1)
    simulator.inject_fault(FaultKind.MALFORMED_OCMF, path="transaction", count=2)
    result = await stop(hass, init_integration)
    damaged = simulator.state.issued[0][: len(simulator.state.issued[0]) // 2]
    assert result["ocmf"] == damaged
    assert result["signature_valid"] is None
    assert result["parse_error"]
    [record] = ledger_records(matrix.config_dir)
    assert record["ocmf"] == damaged
    assert record["parse_error"] == result["parse_error"]
    assert record["pagination"] is None
    assert [event.data["ocmf"] for event in matrix.events] == [damaged]
    issue_id = f"unreadable_tuple_{init_integration.entry_id}_1"
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is not None
    with pytest.raises(ServiceValidationError) as err:
        await start(hass, init_integration, transaction_id="tx-2")
    assert err.value.translation_key == "unreadable_tuple_pending"
    assert not simulator.state.transaction_active

    # A minute later the meter is asked again; its copy is readable now.
    await poll(hass, freezer, seconds=60)
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
    assert reasons(matrix) == ["stopped", "readable_copy"]
    assert caplog.text.count("cannot be read as OCMF") == 1
    await start(hass, init_integration, transaction_id="tx-2")
    await stop(hass, init_integration)
    matrix.assert_nothing_lost()


async def test_unreadable_tuple_without_readable_copy_needs_acknowledgement(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
    caplog: pytest.LogCaptureFixture,
    hass_client: ClientSessionGenerator,
    matrix: Matrix,
) -> None:
    await start(hass, init_integration)
    simulator.inject_fault(FaultKind.MALFORMED_OCMF)
    await stop(hass, init_integration)
    for _ in range(3):
        await poll(hass, freezer, seconds=60)
    # Asked again every minute, logged once, stored once.
    assert len(ledger_records(matrix.config_dir)) == 1
    assert caplog.text.count("cannot be read as OCMF") == 1
    with pytest.raises(ServiceValidationError):
        await start(hass, init_integration, transaction_id="tx-2")
    # Export and diagnostics cope with it: the XML carries the text as it came.
    exported: Any = await hass.services.async_call(
        DOMAIN,
        "export_transactions",
        {"config_entry_id": init_integration.entry_id, "write_file": True},
        blocking=True,
        return_response=True,
    )
    assert exported is not None
    assert exported["transactions"][0]["parse_error"]
    values = ET.parse(str(exported["file"])).getroot().findall("value")
    assert [value.findtext("signedData") for value in values] == [
        ledger_records(matrix.config_dir)[0]["ocmf"]
    ]
    assert values[0].findtext("publicKey").upper() == (  # type: ignore[union-attr]
        simulator.state.public_key_hex.upper()
    )
    # The user acknowledges it under Repairs.
    assert await async_setup_component(hass, "repairs", {})
    await hass.async_block_till_done()
    diagnostics = await async_get_config_entry_diagnostics(hass, init_integration)
    assert diagnostics["ledger"]["unreadable_pending"] == [1]
    client = await hass_client()
    issue_id = f"unreadable_tuple_{init_integration.entry_id}_1"
    response = await client.post(
        "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": issue_id}
    )
    assert response.status == 200, await response.text()
    flow = await response.json()
    assert flow["step_id"] == "confirm"
    response = await client.post(f"/api/repairs/issues/fix/{flow['flow_id']}", json={})
    assert response.status == 200, await response.text()
    assert (await response.json())["type"] == "create_entry"
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
    simulator.clear_faults()
    await start(hass, init_integration, transaction_id="tx-2")
    await stop(hass, init_integration)
    # The acknowledgement survives a restart: the unreadable record stays put.
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
    assert init_integration.runtime_data.keeper.unreadable_pending == []
    # Once the meter answers undamaged, its copy of the first tuple is stored too.
    assert reasons(matrix) == ["stopped", "readable_copy", "stopped"]
    matrix.assert_nothing_lost()


async def test_tuple_that_only_ever_arrives_damaged_is_stored_as_it_came(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    matrix: Matrix,
) -> None:
    await start(hass, init_integration)
    simulator.inject_fault(FaultKind.MALFORMED_OCMF)
    await stop(hass, init_integration)
    # The meter loses it before a readable copy could be read.
    simulator.state.last_ocmf = None
    simulator.clear_faults()
    await init_integration.runtime_data.keeper.async_acknowledge_unreadable(1)
    await start(hass, init_integration, transaction_id="tx-2")
    await stop(hass, init_integration)
    outcome = matrix.assert_nothing_lost()
    assert outcome.damaged == [payload(simulator.state.issued[0])]


# -- 3. a reload during a stop -----------------------------------------------------


async def test_reload_during_a_stop_stores_and_announces_once(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    matrix: Matrix,
) -> None:
    await start(hass, init_integration)
    simulator.inject_fault(FaultKind.HANG, path="receipt", method="GET", count=1)
    stopping = asyncio.create_task(stop(hass, init_integration))
    await simulator.wait_for_hanging()
    reloading = asyncio.create_task(
        hass.config_entries.async_reload(init_integration.entry_id)
    )
    await asyncio.sleep(0)
    simulator.release_hangs()
    result = await stopping
    assert await reloading
    await hass.async_block_till_done()
    assert result["pagination"] == "T1"
    assert len(ledger_records(matrix.config_dir)) == 1
    assert len(matrix.events) == 1
    matrix.assert_nothing_lost()


# -- 11. a receipt that does not verify ----------------------------------------------


async def test_damaged_receipt_and_the_meters_verifying_copy_are_both_kept(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    issue_registry: ir.IssueRegistry,
    matrix: Matrix,
) -> None:
    await start(hass, init_integration)
    simulator.inject_fault(FaultKind.BAD_SIGNATURE, path="receipt", count=1)
    result = await stop(hass, init_integration)
    assert result["signature_valid"] is True
    assert result["ocmf"] == simulator.state.issued[0]
    records = ledger_records(matrix.config_dir)
    assert [(r["reason"], r["signature_valid"]) for r in records] == [
        ("stopped", False),
        ("verified_copy", True),
    ]
    assert issue_registry.async_get_issue(
        DOMAIN, f"signature_invalid_{init_integration.entry_id}_1"
    )
    matrix.assert_nothing_lost()


async def test_undecodable_signature_with_a_known_key_does_not_verify(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    caplog: pytest.LogCaptureFixture,
    issue_registry: ir.IssueRegistry,
    matrix: Matrix,
) -> None:
    await start(hass, init_integration)
    simulator.inject_fault(FaultKind.UNDECODABLE_SIGNATURE)
    with caplog.at_level(logging.ERROR):
        result = await stop(hass, init_integration)
    assert result["signature_valid"] is False
    [record] = ledger_records(matrix.config_dir)
    assert record["signature_valid"] is False
    assert "does not verify" in caplog.text
    assert issue_registry.async_get_issue(
        DOMAIN, f"signature_invalid_{init_integration.entry_id}_1"
    )
    assert matrix.measure().lost == []


# -- 12. a stop after a transaction a power cycle lost ---------------------------------


async def test_stop_after_a_lost_transaction_says_the_tuple_is_the_old_one(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    freezer: FrozenDateTimeFactory,
    matrix: Matrix,
) -> None:
    await start(hass, init_integration)
    first = await stop(hass, init_integration)
    assert first["already_stored"] is False
    await start(hass, init_integration, transaction_id="tx-2")
    await sim_control(hass, simulator, "power_cycle")
    result = await stop(hass, init_integration)
    assert result["already_stored"] is True
    assert result["pagination"] == first["pagination"]
    await recover(hass, freezer, simulator, matrix)
    matrix.assert_nothing_lost()
    assert UID not in str(matrix.outcome)
