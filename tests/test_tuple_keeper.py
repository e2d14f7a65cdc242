"""The tuple keeper: nothing that goes wrong while judging a tuple keeps it out."""

from __future__ import annotations

import logging
from pathlib import Path
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.iem_dcr import tuple_keeper
from custom_components.iem_dcr.ledger import Ledger, LedgerError
from custom_components.iem_dcr.signed_tuple import SignedTuple
from custom_components.iem_dcr.tuple_keeper import judge
from iem_dcr_simulator import MeterSimulator

from .helpers import poll, start, stop
from .reliability.matrix import ledger_records


async def test_judging_without_a_key_gives_no_verdict(
    simulator: MeterSimulator,
) -> None:
    simulator.state.begin_transaction()
    text = simulator.state.end_transaction()
    verdict = judge(text, "")
    assert verdict.record is not None
    assert verdict.signature_valid is None
    assert verdict.signature_problem == "the meter's public key is not known"


async def test_judging_a_text_without_sections_gives_no_verdict(
    simulator: MeterSimulator,
) -> None:
    verdict = judge("OCMF|{", simulator.state.public_key_hex)
    assert verdict.record is None
    assert verdict.parse_error
    assert verdict.signature_valid is None


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("parse", {"parse_error": "unexpected error while reading: RuntimeError"}),
        ("verify_signature", {"signature_valid": None}),
    ],
)
async def test_a_bug_while_judging_never_costs_the_tuple(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    config_dir: Path,
    target: str,
    expected: dict[str, object],
) -> None:
    await start(hass, init_integration)
    with patch.object(tuple_keeper, target, side_effect=RuntimeError("bug")):
        result = await stop(hass, init_integration)
    [record] = ledger_records(config_dir)
    assert record["ocmf"] == simulator.state.issued[0]
    for key, value in expected.items():
        assert record[key] == value
    assert result["ocmf"] == simulator.state.issued[0]


async def test_a_bug_while_describing_never_costs_the_tuple(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
) -> None:
    await start(hass, init_integration)
    with patch.object(SignedTuple, "from_record", side_effect=RuntimeError("bug")):
        result = await stop(hass, init_integration)
    assert result["parse_error"] == "unexpected error while describing: RuntimeError"
    keeper = init_integration.runtime_data.keeper
    assert [entry.ocmf for entry in keeper.ledger.entries()] == simulator.state.issued


async def test_tuples_held_for_the_ledger_keep_their_order_and_come_once(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    keeper = init_integration.runtime_data.keeper
    await start(hass, init_integration)
    with patch.object(Ledger, "append", side_effect=LedgerError("disk full")):
        with pytest.raises(HomeAssistantError):
            await stop(hass, init_integration)
        # Asked again for the same tuple while the first copy waits: held once.
        with pytest.raises(HomeAssistantError):
            await stop(hass, init_integration)
        assert keeper.held == 1
        assert keeper.recovery_pending
        # Unloading with a held tuple says so; the meter still has it.
        with caplog.at_level(logging.WARNING):
            assert await hass.config_entries.async_unload(init_integration.entry_id)
        assert "could not be written to the ledger before unloading" in caplog.text
    assert await hass.config_entries.async_setup(init_integration.entry_id)
    await hass.async_block_till_done()
    await poll(hass, freezer)
    keeper = init_integration.runtime_data.keeper
    assert [entry.ocmf for entry in keeper.ledger.entries()] == simulator.state.issued


async def test_only_a_pagination_the_ledger_can_index_is_passed_on(
    simulator: MeterSimulator,
) -> None:
    simulator.state.begin_transaction()
    text = simulator.state.end_transaction()
    record = judge(text, "").record
    assert tuple_keeper._pagination(record) == "T1"
    assert tuple_keeper._pagination(None) is None
    odd = judge(text.replace('"PG":"T1"', '"PG":"X1"'), "").record
    assert odd is not None
    assert tuple_keeper._pagination(odd) is None
