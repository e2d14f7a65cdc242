"""The monthly statement blueprint, run by an automation against the simulator."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
import shutil

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    async_mock_service,
)

from custom_components.iem_dcr.const import CONF_PRICE_PER_KWH
from iem_dcr_simulator import MeterSimulator

from .charging import ALICE_CARD
from .helpers import copy_with_options, poll, start, stop

BLUEPRINT = (
    Path(__file__).parents[1] / "blueprints/automation/iem_dcr/monthly_statement.yaml"
)


async def test_first_of_the_month_creates_last_months_statement_and_notifies(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    simulator: MeterSimulator,
    mock_config_entry: MockConfigEntry,
    config_dir: Path,
) -> None:
    hass.config.currency = "EUR"
    entry = copy_with_options(
        mock_config_entry,
        {**mock_config_entry.options, CONF_PRICE_PER_KWH: "0.30"},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await start(hass, entry, identification_data=ALICE_CARD)
    simulator.state.add_energy("12.345")
    await poll(hass, freezer)
    await stop(hass, entry)

    target = config_dir / "blueprints/automation/iem_dcr/monthly_statement.yaml"
    target.parent.mkdir(parents=True)
    shutil.copy(BLUEPRINT, target)
    notified = async_mock_service(hass, "notify", "garage_phone")
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "use_blueprint": {
                    "path": "iem_dcr/monthly_statement.yaml",
                    "input": {
                        "meter": entry.entry_id,
                        "notify_action": "notify.garage_phone",
                    },
                }
            }
        },
    )
    await hass.async_block_till_done()
    zone = dt_util.get_default_time_zone()

    # 06:00 on a day that is not the first: nothing happens.
    freezer.move_to(datetime(2026, 11, 30, 6, 0, 1, tzinfo=zone))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert notified == []

    freezer.move_to(datetime(2026, 12, 1, 6, 0, 1, tzinfo=zone))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert len(notified) == 1
    data = notified[0].data
    assert data["title"] == "Charging statement 2026-11"
    assert data["message"] == "1 sessions, 12.345 kWh, 3.70 EUR."
    assert "media-source" in data["data"]["url"]
    written = sorted((config_dir / "iem_dcr_exports").glob("statement_*_2026-11_*"))
    assert {path.suffix for path in written} == {".pdf", ".csv", ".xml"}
    assert len(written) == 4
    assert Decimal("3.70") == Decimal(data["message"].split(", ")[2].split()[0])
    # Turned off, the automation's time trigger is gone before Home Assistant stops.
    await hass.services.async_call(
        "automation", "turn_off", {"entity_id": "all"}, blocking=True
    )
