"""Costs from a price entity, fixed when each session ends, and per-driver month sensors.

Sessions run on the real simulator; time only moves with the freezer. The
expected costs are computed here from the simulator's registers and the prices
the test set, independently of pricing.py.
"""

from __future__ import annotations

import csv
from dataclasses import replace
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
import logging
from pathlib import Path
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_HOMEASSISTANT_FINAL_WRITE, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.iem_dcr.const import (
    CONF_DRIVERS,
    CONF_PRICE_ENTITY,
    CONF_PRICE_PER_KWH,
    DOMAIN,
)
from custom_components.iem_dcr.pricing import (
    CostAccumulator,
    GapKind,
    PriceMethod,
    SessionCost,
    priced_at,
)
from custom_components.iem_dcr.session_costs import CostBook, CostTracker
from custom_components.iem_dcr.sessions import session_from_tuple
from iem_dcr_simulator import MeterSimulator

from .charging import ALICE_CARD, GUEST_CARD, JUERGEN_CARD, Charger
from .conftest import START
from .helpers import copy_with_options, poll, start, state_of, stop
from .test_config_flow import OPTIONS

PREFIX = "sensor.iem_dcr_1isa0200001132"
CALENDAR = "calendar.iem_dcr_1isa0200001132_charging_sessions"
PRICE = "sensor.dynamic_tariff"
SERIAL = "1ISA0200001132"
SETTLED_KEY = f"iem_dcr.session_costs.{SERIAL}"
RUNNING_KEY = f"iem_dcr.cost.{SERIAL}"
ONE = Decimal(1)


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


async def _set_up(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, **options: Any
) -> MockConfigEntry:
    hass.config.currency = "EUR"
    entry = copy_with_options(
        mock_config_entry, {**mock_config_entry.options, **options}
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


def _stored_costs(hass_storage: dict[str, Any]) -> list[SessionCost]:
    """Return the settled costs as Home Assistant wrote them, in ledger order."""
    sessions = hass_storage[SETTLED_KEY]["data"]["sessions"]
    return [SessionCost.from_dict(sessions[key]["cost"]) for key in sorted(sessions)]


class Meter:
    """Polls with the price in force; keeps what the test expects the cost to be."""

    def __init__(
        self,
        hass: HomeAssistant,
        freezer: FrozenDateTimeFactory,
        simulator: MeterSimulator,
    ) -> None:
        self.hass = hass
        self.freezer = freezer
        self.simulator = simulator
        self.price: Decimal | None = None
        self.register = Decimal(0)  # at the last poll
        self.price_at_poll: Decimal | None = None
        self.expected = Decimal(0)  # exact, unrounded

    def set_price(self, price: str | None) -> None:
        self.price = None if price is None else Decimal(price)
        self.hass.states.async_set(PRICE, STATE_UNAVAILABLE if price is None else price)

    async def poll(self, seconds: float = 1) -> None:
        await poll(self.hass, self.freezer, seconds)
        register = self.simulator.state.energy_import_transaction
        if self.price_at_poll is not None:
            self.expected += (register - self.register) * self.price_at_poll
        self.register, self.price_at_poll = register, self.price

    def charge(self, kwh: str) -> None:
        self.simulator.state.add_energy(kwh)

    def tail(self) -> None:
        """Energy after the last poll, at the last poll's price."""
        assert self.price_at_poll is not None
        register = self.simulator.state.energy_import_transaction
        self.expected += (register - self.register) * self.price_at_poll


async def test_a_price_that_changes_during_a_session_is_weighted_by_energy(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    simulator: MeterSimulator,
    mock_config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    meter = Meter(hass, freezer, simulator)
    meter.set_price("0.30")
    entry = await _set_up(hass, mock_config_entry, **{CONF_PRICE_ENTITY: PRICE})
    await start(hass, entry, identification_data=ALICE_CARD)
    await meter.poll()
    meter.charge("2.5")
    await meter.poll()
    meter.set_price("0.5512")  # the tariff changes: from the next poll on
    meter.charge("0.004")  # flowed while 0.30 was still in force
    await meter.poll()
    meter.charge("1.234")
    await meter.poll()
    meter.set_price("-0.05")  # surplus hour: negative prices count too
    await meter.poll()
    meter.charge("0.75")
    await meter.poll()
    meter.set_price("0.4111")
    await meter.poll()
    meter.charge("0.333")
    await meter.poll()
    meter.charge("0.017")  # after the last poll: at its price
    meter.tail()
    response = await stop(hass, entry)
    await poll(hass, freezer)

    expected = (
        Decimal("2.504") * Decimal("0.30")
        + Decimal("1.234") * Decimal("0.5512")
        + Decimal("0.75") * Decimal("-0.05")
        + Decimal("0.35") * Decimal("0.4111")
    )
    assert meter.expected == expected  # the test's bookkeeping, cross-checked
    assert Decimal(str(response["energy_kwh"])) == Decimal("4.838")
    [cost] = _stored_costs(hass_storage)
    assert cost.method is PriceMethod.ENTITY
    assert cost.settled is True
    assert cost.energy_kwh == Decimal("4.838")
    assert cost.cost == _cents(expected) == Decimal("1.54")
    assert cost.gaps == ()
    assert not cost.has_gap
    # Every reader shows the fixed cost.
    assert state_of(hass, f"{PREFIX}_cost_this_month").state == "1.54"
    assert state_of(hass, CALENDAR).attributes["message"] == "4.838 kWh · €1.54"
    # The running transaction's polls are done with.
    assert hass_storage[RUNNING_KEY]["data"] == {"accumulator": None}


async def test_a_gap_while_home_assistant_is_stopped_is_priced_at_the_price_when_back(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    simulator: MeterSimulator,
    mock_config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    config_dir: Path,
) -> None:
    meter = Meter(hass, freezer, simulator)
    meter.set_price("0.30")
    entry = await _set_up(hass, mock_config_entry, **{CONF_PRICE_ENTITY: PRICE})
    await start(hass, entry, identification_data=ALICE_CARD)
    await meter.poll()
    meter.charge("1.5")
    await meter.poll()
    # The polls so far are written a few seconds later (not with each poll).
    for _ in range(6):
        await meter.poll()
    running = hass_storage[RUNNING_KEY]["data"]["accumulator"]
    assert Decimal(running["last"]["register_kwh"]) == Decimal("1.5")

    # Home Assistant stops: unloaded, the last writes flushed, its memory gone.
    assert await hass.config_entries.async_unload(entry.entry_id)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.async_block_till_done()
    hass.data.pop("iem_dcr_meters")
    # Away for two hours; the car charges on, and the tariff changes meanwhile.
    freezer.tick(timedelta(hours=2))
    meter.charge("7.25")
    meter.set_price("0.42")

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    meter.charge("0.5")
    await meter.poll()
    meter.tail()
    await stop(hass, entry)
    await poll(hass, freezer)

    [cost] = _stored_costs(hass_storage)
    assert cost.method is PriceMethod.ENTITY
    assert cost.energy_kwh == Decimal("9.250")
    assert cost.has_gap
    assert cost.gap_energy_kwh == Decimal("7.25")
    [gap] = cost.gaps
    assert gap.kind is GapKind.MISSED_POLLS
    assert gap.price_per_kwh == Decimal("0.42")
    # 1.5 at 0.30 while polled, the gap at the price when back, 0.5 at 0.42.
    assert cost.cost == _cents(
        Decimal("1.5") * Decimal("0.30") + Decimal("7.75") * Decimal("0.42")
    )
    assert cost.cost == Decimal("3.71")

    # The statement says so.
    response = await _statement(hass, entry)
    rows = _rows(str(response["csv"]))
    assert [(row["cost"], row["price_method"]) for row in rows] == [("3.71", "entity")]
    assert Decimal(str(response["totals"]["cost"])) == Decimal("3.71")


async def _statement(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, Any]:
    response = await hass.services.async_call(
        DOMAIN,
        "create_statement",
        {"config_entry_id": entry.entry_id, "month": "2026-11"},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    return dict(response)


def _rows(path: str) -> list[dict[str, str]]:
    with Path(path).open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


async def _calendar_summaries(hass: HomeAssistant) -> list[str]:
    answer = await hass.services.async_call(
        "calendar",
        "get_events",
        {
            "entity_id": CALENDAR,
            "start_date_time": "2026-11-26T00:00:00+00:00",
            "end_date_time": "2026-11-28T00:00:00+00:00",
        },
        blocking=True,
        return_response=True,
    )
    assert answer is not None
    calendar = answer[CALENDAR]
    assert isinstance(calendar, dict)
    events = calendar["events"]
    assert isinstance(events, list)
    return [str(event["summary"]) for event in events if isinstance(event, dict)]


async def _charge(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    simulator: MeterSimulator,
    entry: MockConfigEntry,
    card: str,
    kwh: str,
) -> None:
    await start(hass, entry, identification_data=card, transaction_id=card[-4:])
    freezer.tick(timedelta(minutes=20))
    simulator.state.add_energy(kwh)
    await poll(hass, freezer)
    await stop(hass, entry)
    await poll(hass, freezer, 600)


async def _options(
    hass: HomeAssistant, entry: MockConfigEntry, prices: dict[str, Any]
) -> dict[str, Any]:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**OPTIONS, "prices_and_drivers": prices}
    )
    await hass.async_block_till_done()
    return dict(result)


async def test_a_later_price_change_does_not_rewrite_a_settled_session(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    simulator: MeterSimulator,
    mock_config_entry: MockConfigEntry,
) -> None:
    entry = await _set_up(hass, mock_config_entry, **{CONF_PRICE_PER_KWH: "0.30"})
    await _charge(hass, freezer, simulator, entry, ALICE_CARD, "10")
    assert state_of(hass, f"{PREFIX}_cost_this_month").state == "3.00"

    # The price goes up; the options are saved and the entry reloads.
    result = await _options(hass, entry, {CONF_PRICE_PER_KWH: "0.50"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await _charge(hass, freezer, simulator, entry, ALICE_CARD, "2")

    assert await _calendar_summaries(hass) == [
        "10.000 kWh · €3.00",  # still the price in force when it ended
        "2.000 kWh · €1.00",
    ]
    assert state_of(hass, f"{PREFIX}_cost_this_month").state == "4.00"
    response = await _statement(hass, entry)
    assert Decimal(str(response["totals"]["cost"])) == Decimal("4.00")
    rows = _rows(str(response["csv"]))
    assert [(row["price_per_kwh"], row["cost"]) for row in rows] == [
        ("0.30", "3.00"),
        ("0.50", "1.00"),
    ]

    # And after a restart of Home Assistant, read back from its storage.
    assert await hass.config_entries.async_unload(entry.entry_id)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.async_block_till_done()
    hass.data.pop("iem_dcr_meters")
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert await _calendar_summaries(hass) == [
        "10.000 kWh · €3.00",
        "2.000 kWh · €1.00",
    ]
    assert state_of(hass, f"{PREFIX}_cost_this_month").state == "4.00"


async def test_sessions_without_a_fixed_cost_are_priced_with_the_options(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    simulator: MeterSimulator,
    mock_config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    # No price when it ended: nothing is fixed, so a price set later applies.
    entry = await _set_up(hass, mock_config_entry)
    await _charge(hass, freezer, simulator, entry, GUEST_CARD, "4")
    assert SETTLED_KEY not in hass_storage
    assert state_of(hass, f"{PREFIX}_cost_this_month").state == "unknown"
    await _options(hass, entry, {CONF_PRICE_PER_KWH: "0.25"})
    assert state_of(hass, f"{PREFIX}_cost_this_month").state == "1.00"


async def test_per_driver_month_sensors_are_disabled_by_default(
    hass: HomeAssistant,
    simulator: MeterSimulator,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    await _set_up(
        hass,
        mock_config_entry,
        **{CONF_DRIVERS: {ALICE_CARD: {"name": "Alice"}}},
    )
    entity_id = entity_registry.async_get_entity_id(
        "sensor", DOMAIN, f"{SERIAL}_driver_alice_cost_this_month"
    )
    assert entity_id == f"{PREFIX}_alice_cost_this_month"
    registered = entity_registry.async_get(entity_id)
    assert registered is not None
    assert registered.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    assert hass.states.get(entity_id) is None


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_per_driver_month_sensors_count_each_drivers_sessions_by_name(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    simulator: MeterSimulator,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    entry = await _set_up(
        hass,
        mock_config_entry,
        **{
            CONF_PRICE_PER_KWH: "0.30",
            CONF_DRIVERS: {
                ALICE_CARD: {"name": "Alice"},
                JUERGEN_CARD: {"name": "Jürgen Größe", "price": "0.40"},
            },
        },
    )
    await _charge(hass, freezer, simulator, entry, ALICE_CARD, "10")
    await _charge(hass, freezer, simulator, entry, JUERGEN_CARD, "2.5")
    await _charge(hass, freezer, simulator, entry, ALICE_CARD, "1.111")
    await _charge(hass, freezer, simulator, entry, GUEST_CARD, "3")

    alice = f"{PREFIX}_alice"
    juergen = f"{PREFIX}_jurgen_grosse"
    assert state_of(hass, f"{alice}_energy_this_month").state == "11.111"
    assert state_of(hass, f"{alice}_cost_this_month").state == "3.33"  # 3.00 + 0.33
    assert state_of(hass, f"{juergen}_energy_this_month").state == "2.500"
    assert state_of(hass, f"{juergen}_cost_this_month").state == "1.00"
    assert state_of(hass, f"{alice}_energy_last_month").state == "0"
    assert state_of(hass, f"{juergen}_cost_last_month").state == "0"
    named = state_of(hass, f"{juergen}_cost_this_month")
    assert named.attributes["friendly_name"].endswith("Jürgen Größe cost this month")
    assert named.attributes["unit_of_measurement"] == "EUR"
    # The meter's own sensors still count everybody (the guest too).
    assert state_of(hass, f"{PREFIX}_energy_this_month").state == "16.611"
    # Names, never UIDs: in entity ids, unique ids, names and the log.
    for registered in er.async_entries_for_config_entry(
        entity_registry, entry.entry_id
    ):
        for card in (ALICE_CARD, JUERGEN_CARD, GUEST_CARD):
            assert card.lower() not in registered.entity_id
            assert card not in (registered.unique_id or "")
            assert card not in (registered.original_name or "")
    for card in (ALICE_CARD, JUERGEN_CARD, GUEST_CARD):
        assert card not in caplog.text


async def test_an_unavailable_price_leaves_the_cost_unknown_without_a_crash(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    simulator: MeterSimulator,
    mock_config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    meter = Meter(hass, freezer, simulator)
    meter.set_price(None)
    entry = await _set_up(hass, mock_config_entry, **{CONF_PRICE_ENTITY: PRICE})
    await start(hass, entry, identification_data=ALICE_CARD)
    await meter.poll()
    meter.charge("3")
    await meter.poll()
    hass.states.async_set(PRICE, "cheap")  # not a number: no price either, never 0
    meter.charge("1")
    await meter.poll()
    await stop(hass, entry)
    await poll(hass, freezer)

    [cost] = _stored_costs(hass_storage)
    assert cost.method is PriceMethod.NONE
    assert cost.cost is None
    assert cost.energy_kwh == Decimal("4.000")
    assert [gap.kind for gap in cost.gaps] == [GapKind.PRICE_UNAVAILABLE]
    assert state_of(hass, f"{PREFIX}_cost_this_month").state == "unknown"
    assert state_of(hass, f"{PREFIX}_energy_this_month").state == "4.000"


async def test_a_price_missing_for_a_while_is_taken_from_when_it_is_back(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    simulator: MeterSimulator,
    mock_config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    meter = Meter(hass, freezer, simulator)
    meter.set_price("0.30")
    entry = await _set_up(hass, mock_config_entry, **{CONF_PRICE_ENTITY: PRICE})
    await start(hass, entry, identification_data=ALICE_CARD)
    await meter.poll()
    meter.charge("1")
    await meter.poll()
    meter.set_price(None)
    await meter.poll()
    meter.charge("2")
    await meter.poll()
    meter.set_price("0.40")
    await meter.poll()
    await stop(hass, entry)
    await poll(hass, freezer)

    [cost] = _stored_costs(hass_storage)
    assert cost.method is PriceMethod.ENTITY
    assert cost.cost == Decimal("1.10")  # 1 x 0.30 + 2 x 0.40 (the next known price)
    [gap] = cost.gaps
    assert gap.kind is GapKind.PRICE_UNAVAILABLE
    assert gap.price_per_kwh == Decimal("0.40")
    assert not cost.has_gap  # Home Assistant was polling all the time


async def test_a_failure_to_fix_the_cost_never_costs_the_tuple(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    simulator: MeterSimulator,
    mock_config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    entry = await _set_up(hass, mock_config_entry, **{CONF_PRICE_PER_KWH: "0.30"})
    with patch.object(CostTracker, "async_settle", side_effect=RuntimeError("boom")):
        await _charge(hass, freezer, simulator, entry, ALICE_CARD, "2")
    assert entry.runtime_data.keeper.ledger_size == 1
    assert "Could not fix the cost of ledger record" in caplog.text
    # Priced with the options as they are, like a session from before.
    assert state_of(hass, f"{PREFIX}_cost_this_month").state == "0.60"


async def test_unreadable_stored_costs_are_left_out(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    simulator: MeterSimulator,
    mock_config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    hass_storage[SETTLED_KEY] = {
        "version": 1,
        "minor_version": 1,
        "key": SETTLED_KEY,
        "data": {"sessions": {"x": {"cost": {}}, "7": {"cost": {"format": 99}}}},
    }
    hass_storage[RUNNING_KEY] = {
        "version": 1,
        "minor_version": 1,
        "key": RUNNING_KEY,
        "data": {"accumulator": {"format": 99}},
    }
    entry = await _set_up(hass, mock_config_entry, **{CONF_PRICE_PER_KWH: "0.30"})
    assert "stored cost of ledger record x cannot be read" in caplog.text
    assert "stored cost of ledger record 7 cannot be read" in caplog.text
    assert "running transaction's stored costs cannot be read" in caplog.text
    await _charge(hass, freezer, simulator, entry, ALICE_CARD, "1")
    assert state_of(hass, f"{PREFIX}_cost_this_month").state == "0.30"


@pytest.mark.parametrize(
    ("prices", "error"),
    [
        (
            {CONF_PRICE_PER_KWH: "0.30", CONF_PRICE_ENTITY: PRICE},
            "price_source_conflict",
        ),
        ({CONF_PRICE_ENTITY: "sensor.no_such_tariff"}, "price_entity_missing"),
        ({CONF_PRICE_ENTITY: "sensor.words"}, "price_entity_not_numeric"),
    ],
)
async def test_a_price_entity_that_cannot_hold_a_price_is_refused(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    prices: dict[str, Any],
    error: str,
) -> None:
    hass.states.async_set(PRICE, "0.30")
    hass.states.async_set("sensor.words", "expensive")
    result = await _options(hass, init_integration, prices)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    assert CONF_PRICE_ENTITY not in init_integration.options


@pytest.mark.parametrize("state", ["0.2731", STATE_UNAVAILABLE])
async def test_a_price_entity_is_saved_and_shown_again(
    hass: HomeAssistant, init_integration: MockConfigEntry, state: str
) -> None:
    # Unavailable just now is fine: the price is unknown until it has a number.
    hass.states.async_set(PRICE, state)
    result = await _options(hass, init_integration, {CONF_PRICE_ENTITY: PRICE})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert init_integration.options[CONF_PRICE_ENTITY] == PRICE
    assert CONF_PRICE_PER_KWH not in init_integration.options
    form = await hass.config_entries.options.async_init(init_integration.entry_id)
    schema = form["data_schema"]
    assert schema is not None
    prices = next(
        value for key, value in schema.schema.items() if key == "prices_and_drivers"
    )
    suggested = {
        str(key): key.description["suggested_value"]
        for key in prices.schema.schema
        if key.description and "suggested_value" in key.description
    }
    assert suggested[CONF_PRICE_ENTITY] == PRICE


def _running(book: CostBook) -> CostAccumulator | None:
    return book.accumulator


async def test_polls_go_to_the_tuple_of_their_own_transaction(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    charger = Charger(tmp_path, START)
    book = CostBook(hass, "meter")
    await book.async_load()
    gap_after = timedelta(seconds=30)
    older = session_from_tuple(charger.charge(ALICE_CARD, timedelta(hours=1)))

    charger.begin(JUERGEN_CARD)
    for _ in range(3):
        book.add_poll(charger.now, charger.transaction_register, ONE, gap_after)
        charger.run(timedelta(seconds=1), current=100)
    # The poll interval option changes mid-transaction: the polls stay.
    book.add_poll(charger.now, charger.transaction_register, ONE, gap_after * 2)
    running = book.accumulator
    assert running is not None
    assert running.max_poll_interval == gap_after * 2
    assert running.polled_energy_kwh > 0
    # A tuple that ended before the first poll was stored late: not these polls.
    assert book.accumulator_for(older) is None
    assert _running(book) is running

    ended = session_from_tuple(charger.end())
    assert book.accumulator_for(ended) is running
    book.keep(
        ended,
        priced_at(ended.energy_kwh, ONE, PriceMethod.ENTITY, settled=True),
        running,
    )
    assert _running(book) is None  # a call, so mypy does not narrow
    # A second copy of the same tuple (a later ledger record) gets the same polls.
    copy = replace(ended, sequence=ended.sequence + 1)
    assert book.accumulator_for(copy) is running

    # Polls of a transaction whose tuple the meter lost do not price a later one.
    charger.now += timedelta(hours=5)
    charger.begin(ALICE_CARD)
    book.add_poll(charger.now, charger.transaction_register, ONE, gap_after)
    charger.run(timedelta(seconds=5), current=100)
    book.add_poll(charger.now, charger.transaction_register, ONE, gap_after)
    charger.meter.power_cycle()
    charger.now += timedelta(hours=1)
    later = session_from_tuple(charger.charge(GUEST_CARD, timedelta(minutes=10)))
    assert book.accumulator_for(later) is None
    assert _running(book) is None  # a call, so mypy does not narrow


async def test_a_new_transaction_after_a_lost_tuple_starts_its_costs_afresh(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    simulator: MeterSimulator,
    mock_config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    meter = Meter(hass, freezer, simulator)
    meter.set_price("0.30")
    entry = await _set_up(hass, mock_config_entry, **{CONF_PRICE_ENTITY: PRICE})
    await start(hass, entry, identification_data=ALICE_CARD, transaction_id="lost")
    await meter.poll()
    meter.charge("5")
    await meter.poll()
    # The meter loses the transaction (power failure) and its tuple.
    simulator.state.power_cycle()
    for _ in range(3):
        await meter.poll()
    await start(hass, entry, identification_data=GUEST_CARD, transaction_id="next")
    await meter.poll()
    meter.charge("1")
    await meter.poll()
    await stop(hass, entry)
    await poll(hass, freezer)

    [cost] = _stored_costs(hass_storage)
    assert cost.energy_kwh == Decimal("1.000")
    assert cost.cost == Decimal("0.30")
    assert cost.polled_energy_kwh == Decimal("1.000")
    assert cost.gaps == ()
