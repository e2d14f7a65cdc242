"""The create_statement action: files written, read back, totals to the cent."""

from __future__ import annotations

import csv
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.iem_dcr.const import CONF_DRIVERS, CONF_PRICE_PER_KWH, DOMAIN
from iem_dcr_simulator import MeterSimulator

from .charging import ALICE_CARD, JUERGEN_CARD
from .helpers import copy_with_options, poll, start, stop


@pytest.fixture
async def charged(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    simulator: MeterSimulator,
    mock_config_entry: MockConfigEntry,
) -> MockConfigEntry:
    """Alice (12.345 kWh at the meter's 0.30) and Jürgen (2.5 kWh at his 0.40)."""
    hass.config.currency = "EUR"
    entry = copy_with_options(
        mock_config_entry,
        {
            **mock_config_entry.options,
            CONF_PRICE_PER_KWH: "0.30",
            CONF_DRIVERS: {
                ALICE_CARD: {"name": "Alice"},
                JUERGEN_CARD: {"name": "Jürgen Größe", "price": "0.40"},
            },
        },
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    for number, (card, kwh) in enumerate(
        ((ALICE_CARD, "12.345"), (JUERGEN_CARD, "2.5"))
    ):
        await start(hass, entry, identification_data=card, transaction_id=f"t{number}")
        freezer.tick(timedelta(minutes=40))
        simulator.state.add_energy(kwh)
        await poll(hass, freezer)
        await stop(hass, entry)
        await poll(hass, freezer, 3600)
    return entry


async def _statement(
    hass: HomeAssistant, entry: MockConfigEntry, **fields: Any
) -> dict[str, Any]:
    response = await hass.services.async_call(
        DOMAIN,
        "create_statement",
        {"config_entry_id": entry.entry_id, **fields},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    return dict(response)


def _rows(path: str) -> list[dict[str, str]]:
    with Path(path).open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


async def test_a_month_statement_lists_each_session_with_its_own_price(
    hass: HomeAssistant, charged: MockConfigEntry, config_dir: Path
) -> None:
    response = await _statement(hass, charged, month="2026-11")
    folder = config_dir / "iem_dcr_exports"
    for kind in ("pdf", "csv", "csv_excel", "xml"):
        path = Path(response[kind])
        assert path.parent == folder
        assert path.stat().st_size > 0
    assert Path(response["pdf"]).read_bytes().startswith(b"%PDF")
    rows = _rows(response["csv"])
    assert [(row["driver"], row["energy_kwh"], row["cost"]) for row in rows] == [
        ("Alice", "12.345", "3.70"),
        ("Jürgen Größe", "2.500", "1.00"),
    ]
    totals = response["totals"]
    assert Decimal(totals["cost"]) == Decimal("4.70")
    assert Decimal(totals["energy_kwh"]) == Decimal("14.845")
    assert totals["sessions"] == 2
    assert totals["currency"] == "EUR"
    # The signed XML keeps the UIDs (the customer checks it); the CSV shows names.
    assert ALICE_CARD not in Path(response["csv"]).read_text(encoding="utf-8")
    assert ALICE_CARD in Path(response["xml"]).read_text(encoding="utf-8")


async def test_one_driver_at_a_flat_rate(
    hass: HomeAssistant, charged: MockConfigEntry
) -> None:
    response = await _statement(
        hass,
        charged,
        start_date="2026-11-26",
        end_date="2026-11-26",
        driver="Alice",
        flat_rate=0.2,
    )
    rows = _rows(response["csv"])
    assert [(row["driver"], row["cost"]) for row in rows] == [("Alice", "2.47")]
    assert Decimal(response["totals"]["cost"]) == Decimal("2.47")  # 12.345 * 0.20


async def test_a_month_without_sessions_has_zero_totals(
    hass: HomeAssistant, charged: MockConfigEntry
) -> None:
    response = await _statement(hass, charged, month="2026-10")
    assert response["totals"]["sessions"] == 0
    assert Decimal(response["totals"]["cost"]) == 0
    assert _rows(response["csv"]) == []


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"month": "2026-13"}, "statement_month_invalid"),
        ({"month": "November"}, "statement_month_invalid"),
        ({}, "statement_period_missing"),
        ({"start_date": "2026-11-01"}, "statement_period_missing"),
        (
            {"start_date": "2026-11-30", "end_date": "2026-11-01"},
            "statement_range_invalid",
        ),
        (
            {"month": "2026-11", "start_date": "2026-11-01", "end_date": "2026-11-02"},
            "statement_period_twice",
        ),
    ],
)
async def test_wrong_periods_are_refused_with_a_translated_error(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    fields: dict[str, Any],
    key: str,
) -> None:
    with pytest.raises(ServiceValidationError) as caught:
        await _statement(hass, init_integration, **fields)
    assert caught.value.translation_key == key
