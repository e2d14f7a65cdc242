"""Energy and cost this month and last month, from the stored sessions."""

from __future__ import annotations

from datetime import datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.iem_dcr.const import CONF_PRICE_PER_KWH
from iem_dcr_simulator import MeterSimulator

from .charging import ALICE_CARD, GUEST_CARD
from .helpers import copy_with_options, poll, start, state_of, stop

PREFIX = "sensor.iem_dcr_1isa0200001132"


async def _charge(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    simulator: MeterSimulator,
    entry: MockConfigEntry,
    card: str,
    kwh: str,
    name: str,
) -> None:
    await start(hass, entry, identification_data=card, transaction_id=name)
    freezer.tick(timedelta(minutes=20))
    simulator.state.add_energy(kwh)
    await poll(hass, freezer)
    await stop(hass, entry)
    await poll(hass, freezer)


async def test_totals_of_this_month_move_to_last_month_when_it_ends(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    simulator: MeterSimulator,
    mock_config_entry: MockConfigEntry,
) -> None:
    hass.config.currency = "EUR"
    entry = copy_with_options(
        mock_config_entry,
        {**mock_config_entry.options, CONF_PRICE_PER_KWH: "0.30"},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert state_of(hass, f"{PREFIX}_energy_this_month").state == "0"

    await _charge(hass, freezer, simulator, entry, ALICE_CARD, "12.345", "a")
    await _charge(hass, freezer, simulator, entry, GUEST_CARD, "1.5", "b")
    this_month = state_of(hass, f"{PREFIX}_energy_this_month")
    assert this_month.state == "13.845"
    assert this_month.attributes[ATTR_UNIT_OF_MEASUREMENT] == "kWh"
    cost = state_of(hass, f"{PREFIX}_cost_this_month")
    assert cost.state == "4.15"  # 3.70 (12.345 * 0.30) + 0.45
    assert cost.attributes[ATTR_UNIT_OF_MEASUREMENT] == "EUR"
    assert state_of(hass, f"{PREFIX}_energy_last_month").state == "0"

    # Just after midnight on the first of the next month, local time.
    zone = dt_util.get_default_time_zone()
    freezer.move_to(datetime(2026, 12, 1, 0, 0, 5, tzinfo=zone))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert state_of(hass, f"{PREFIX}_energy_this_month").state == "0"
    assert state_of(hass, f"{PREFIX}_cost_this_month").state == "0"
    assert state_of(hass, f"{PREFIX}_energy_last_month").state == "13.845"
    assert state_of(hass, f"{PREFIX}_cost_last_month").state == "4.15"


async def test_cost_is_unknown_without_a_price(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    simulator: MeterSimulator,
    init_integration: MockConfigEntry,
) -> None:
    await _charge(hass, freezer, simulator, init_integration, ALICE_CARD, "2", "a")
    assert state_of(hass, f"{PREFIX}_energy_this_month").state == "2.000"
    assert state_of(hass, f"{PREFIX}_cost_this_month").state == "unknown"
