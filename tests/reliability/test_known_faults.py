"""Fault matrix, part 3: faults that never lost a tuple, kept that way."""

from __future__ import annotations

import asyncio

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.iem_dcr.validation import vol
from iem_dcr_simulator import FaultKind, MeterSimulator
from tests.helpers import poll, running, sim_control, start, state_of, stop

from .conftest import POWER, recover
from .matrix import Matrix, ledger_records


async def test_network_drop_between_end_and_receipt(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    freezer: FrozenDateTimeFactory,
    matrix: Matrix,
) -> None:
    await start(hass, init_integration)
    simulator.inject_fault(FaultKind.DISCONNECT, path="receipt", method="GET")
    with pytest.raises(HomeAssistantError) as err:
        await stop(hass, init_integration)
    assert err.value.translation_key == "receipt_not_read"
    assert not running(simulator)
    simulator.clear_faults()
    await recover(hass, freezer, simulator, matrix)
    matrix.assert_nothing_lost()


async def test_power_cycle_while_idle(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    freezer: FrozenDateTimeFactory,
    matrix: Matrix,
) -> None:
    await start(hass, init_integration)
    await stop(hass, init_integration)
    await sim_control(hass, simulator, "power_cycle")
    await recover(hass, freezer, simulator, matrix)
    assert simulator.state.gateway_set
    await start(hass, init_integration, transaction_id="tx-2")
    await stop(hass, init_integration)
    matrix.assert_nothing_lost()


async def test_power_cycle_during_a_transaction(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    matrix: Matrix,
) -> None:
    await start(hass, init_integration)
    await poll(hass, freezer)
    await sim_control(hass, simulator, "power_cycle")
    await recover(hass, freezer, simulator, matrix)
    # The re-initialisation takes the meter lock first; the poll after it compares.
    await poll(hass, freezer)
    # The meter never signed that transaction: nothing to keep, and it is said.
    assert "measurement is lost" in caplog.text
    await start(hass, init_integration, transaction_id="tx-2")
    await stop(hass, init_integration)
    matrix.assert_nothing_lost()


async def test_request_hanging_beyond_the_timeout(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    freezer: FrozenDateTimeFactory,
    matrix: Matrix,
) -> None:
    await start(hass, init_integration)
    simulator.inject_fault(FaultKind.HANG, path="receipt", method="GET", count=2)
    stopping = asyncio.create_task(stop(hass, init_integration))
    # The client's timeout runs on the event loop's clock, which the test moves:
    # the first two reads time out and are retried, the third is answered.
    for hanging in (1, 2):
        await simulator.wait_for_hanging(hanging)
        freezer.tick(6)
    result = await stopping
    simulator.release_hangs()
    assert result["pagination"] == "T1"
    await recover(hass, freezer, simulator, matrix)
    matrix.assert_nothing_lost()


async def test_bursts_of_http_500(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    freezer: FrozenDateTimeFactory,
    matrix: Matrix,
) -> None:
    await start(hass, init_integration)
    simulator.inject_fault(FaultKind.HTTP_ERROR, count=3, status=500)
    # Polls fail, then the stop's retries carry it through the rest of the burst.
    await poll(hass, freezer)
    assert state_of(hass, POWER).state == "unavailable"
    result = await stop(hass, init_integration)
    assert result["signature_valid"] is True
    await recover(hass, freezer, simulator, matrix)
    matrix.assert_nothing_lost()


@pytest.mark.parametrize(
    "kind",
    [FaultKind.MALFORMED_JSON, FaultKind.WRONG_TYPES, FaultKind.MISSING_FIELDS],
)
async def test_malformed_and_wrong_typed_answers(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    freezer: FrozenDateTimeFactory,
    matrix: Matrix,
    kind: FaultKind,
) -> None:
    await start(hass, init_integration)
    simulator.inject_fault(kind, path="metervalue", count=3)
    for _ in range(3):
        await poll(hass, freezer)
        assert state_of(hass, POWER).state == "unavailable"
    await recover(hass, freezer, simulator, matrix)
    await stop(hass, init_integration)
    matrix.assert_nothing_lost()


async def test_thirty_concurrent_calls(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    freezer: FrozenDateTimeFactory,
    matrix: Matrix,
) -> None:
    calls = [
        start(hass, init_integration, transaction_id=f"tx-{number}")
        if number % 2 == 0
        else stop(hass, init_integration)
        for number in range(30)
    ]
    results = await asyncio.gather(*calls, return_exceptions=True)
    # Some stops find nothing running: refused, never a crash.
    for result in results:
        if isinstance(result, BaseException):
            assert isinstance(result, HomeAssistantError), result
    if running(simulator):
        await stop(hass, init_integration)
    await recover(hass, freezer, simulator, matrix)
    outcome = matrix.assert_nothing_lost()
    assert outcome.issued >= 10
    assert [r["sequence"] for r in ledger_records(matrix.config_dir)] == list(
        range(1, outcome.issued + 1)
    )


async def test_torn_ledger_from_a_crash_mid_write(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    matrix: Matrix,
) -> None:
    await start(hass, init_integration)
    await stop(hass, init_integration)
    path = init_integration.runtime_data.keeper.ledger.path
    whole = path.read_bytes()
    # Power failed while the next record was half written.
    path.write_bytes(whole + whole[: len(whole) // 2].rstrip(b"\n"))
    hass.data.pop("iem_dcr_meters")  # a new Home Assistant process reads the file
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert init_integration.runtime_data.keeper.ledger_size == 1
    await start(hass, init_integration, transaction_id="tx-2")
    await stop(hass, init_integration)
    matrix.assert_nothing_lost()


async def test_fifty_bad_service_inputs_change_nothing(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    matrix: Matrix,
) -> None:
    simulator.requests.clear()
    bad: list[dict[str, object]] = []
    for text in ("\x00", "\x07", "\x1b[31m", "a\nb", "a\r\nb", "\x85", "x|y"):
        bad += [
            {"transaction_id": f"tx{text}"},
            {"identification_data": f"04A1{text}"},
            {"evse_id": f"CP{text}"},
            {"tariff_text": f"0,35{text}"},
        ]
    bad += [
        {"transaction_id": ""},
        {"transaction_id": "   "},
        {"transaction_id": "t" * 65},
        {"identification_data": "0" * 65},
        {"tariff_text": "x" * 251},
        {"identification_flags": ["RFID_PSK"] * 5},
        {"identification_type": "BARCODE"},
        {"identification_level": "SUPREME"},
        {"identification_flags": ["NOT_A_FLAG"]},
        {"identification_status": "maybe"},
    ]
    bad += [{"config_entry_id": "nope"}] * (50 - len(bad))
    assert len(bad) == 50
    for fields in bad:
        with pytest.raises((HomeAssistantError, vol.Invalid)):
            await start(hass, init_integration, **fields)
    assert simulator.requests == []
    matrix.assert_nothing_lost()
