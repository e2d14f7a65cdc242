"""The "Charging sessions" calendar and driver names, against the simulator."""

from __future__ import annotations

from datetime import timedelta
import logging
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.tag import async_scan_tag
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.iem_dcr.const import CONF_DRIVERS, CONF_PRICE_PER_KWH
from iem_dcr_simulator import MeterSimulator

from .charging import ALICE_CARD, GUEST_CARD, JUERGEN_CARD
from .conftest import START
from .helpers import copy_with_options, poll, start, state_of, stop

CALENDAR = "calendar.iem_dcr_1isa0200001132_charging_sessions"


async def _scan_tag(hass: HomeAssistant, uid: str) -> str:
    """Scan a tag (Home Assistant adds it to Settings → Tags); return its entity."""
    assert await async_setup_component(hass, "tag", {})
    await async_scan_tag(hass, uid, None)
    await hass.async_block_till_done()
    entity_id = er.async_get(hass).async_get_entity_id("tag", "tag", uid)
    assert entity_id is not None
    return entity_id


async def _name_tag(hass: HomeAssistant, uid: str, name: str) -> None:
    """Name a scanned tag as the user does in Settings → Tags (its entity's name)."""
    er.async_get(hass).async_update_entity(await _scan_tag(hass, uid), name=name)


async def _charge(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    simulator: MeterSimulator,
    entry: MockConfigEntry,
    card: str,
    kwh: str,
    number: int,
) -> None:
    await start(hass, entry, identification_data=card, transaction_id=f"tx-{number}")
    freezer.tick(timedelta(minutes=30))
    simulator.state.add_energy(kwh)
    await poll(hass, freezer)
    await stop(hass, entry)
    await poll(hass, freezer, 3600)


async def _events(hass: HomeAssistant, hours: float) -> list[dict[str, Any]]:
    answer = await hass.services.async_call(
        "calendar",
        "get_events",
        {
            "entity_id": CALENDAR,
            "start_date_time": START.isoformat(),
            "end_date_time": (START + timedelta(hours=hours)).isoformat(),
        },
        blocking=True,
        return_response=True,
    )
    assert answer is not None
    calendar = answer[CALENDAR]
    assert isinstance(calendar, dict)
    events = calendar["events"]
    assert isinstance(events, list)
    return [dict(event) for event in events if isinstance(event, dict)]


@pytest.fixture
def priced_entry(mock_config_entry: MockConfigEntry) -> MockConfigEntry:
    """A meter at 0.30 per kWh; Jürgen named in the options, with his own price."""
    options = {
        **mock_config_entry.options,
        CONF_PRICE_PER_KWH: "0.30",
        CONF_DRIVERS: {JUERGEN_CARD: {"name": "Jürgen Größe", "price": "0.40"}},
    }
    return copy_with_options(
        mock_config_entry,
        options,
    )


async def test_sessions_of_several_drivers_are_events_with_names_and_costs(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    simulator: MeterSimulator,
    priced_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    hass.config.currency = "EUR"
    await _name_tag(hass, ALICE_CARD, "Alice")
    priced_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(priced_entry.entry_id)
    await hass.async_block_till_done()

    await _charge(hass, freezer, simulator, priced_entry, ALICE_CARD, "12.345", 1)
    await _charge(hass, freezer, simulator, priced_entry, JUERGEN_CARD, "2.5", 2)
    await _charge(hass, freezer, simulator, priced_entry, GUEST_CARD, "1", 3)

    events = await _events(hass, 24)
    assert [event["summary"] for event in events] == [
        "12.345 kWh · Alice · €3.70",  # 12.345 * 0.30 = 3.7035
        "2.500 kWh · Jürgen Größe · €1.00",  # his own price, 0.40
        "1.000 kWh · €0.30",  # nobody named the guest's card: no name, no UID
    ]
    assert all("Signature: valid" in event["description"] for event in events)
    assert [event["description"].splitlines()[0] for event in events] == [
        "OCMF: T1",
        "OCMF: T2",
        "OCMF: T3",
    ]
    # The calendar's state shows the latest session.
    assert state_of(hass, CALENDAR).attributes["message"] == "1.000 kWh · €0.30"

    # A range holding only the first session returns only it.
    assert [event["summary"] for event in await _events(hass, 0.75)] == [
        "12.345 kWh · Alice · €3.70"
    ]
    for card in (ALICE_CARD, JUERGEN_CARD, GUEST_CARD):
        # Our own log only: the tag integration logs the UIDs it scans itself.
        assert not [
            record
            for record in caplog.records
            if record.name.startswith("custom_components.iem_dcr")
            and card in record.getMessage()
        ]
        assert all(card not in str(event) for event in events)
    assert card not in str(state_of(hass, CALENDAR).attributes)


async def test_a_tag_keeps_its_default_name_until_named(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    simulator: MeterSimulator,
    init_integration: MockConfigEntry,
) -> None:
    """A scanned but unnamed tag is called "Tag <UID>": that is no driver's name."""
    tag_entity = await _scan_tag(hass, ALICE_CARD)

    await _charge(hass, freezer, simulator, init_integration, ALICE_CARD, "1", 1)
    assert [event["summary"] for event in await _events(hass, 24)] == ["1.000 kWh"]

    er.async_get(hass).async_update_entity(tag_entity, name="Alice")
    await _charge(hass, freezer, simulator, init_integration, ALICE_CARD, "1", 2)
    # Names are read when the sessions are read: both show the name now.
    assert [event["summary"] for event in await _events(hass, 24)] == [
        "1.000 kWh · Alice",
        "1.000 kWh · Alice",
    ]
