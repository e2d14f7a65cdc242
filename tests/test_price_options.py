"""The options' "Prices and drivers" section: what is saved, what is refused."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.iem_dcr.const import CONF_DRIVERS, CONF_PRICE_PER_KWH
from custom_components.iem_dcr.drivers import parse_drivers

from .charging import ALICE_CARD, JUERGEN_CARD
from .test_config_flow import OPTIONS


async def _submit(
    hass: HomeAssistant, entry: MockConfigEntry, prices: dict[str, Any]
) -> dict[str, Any]:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**OPTIONS, "prices_and_drivers": prices}
    )
    await hass.async_block_till_done()
    return dict(result)


async def test_price_and_drivers_are_saved_and_shown_again(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    result = await _submit(
        hass,
        init_integration,
        {
            CONF_PRICE_PER_KWH: "0,30",
            # Separators and lower case as a card reader may print them.
            CONF_DRIVERS: f"{ALICE_CARD.lower()} = Alice\n\n"
            f"04:FF:EE:DD:CC:BB:AA = Jürgen Größe; 0.40",
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert init_integration.options[CONF_PRICE_PER_KWH] == "0.30"
    assert init_integration.options[CONF_DRIVERS] == {
        ALICE_CARD: {"name": "Alice"},
        JUERGEN_CARD: {"name": "Jürgen Größe", "price": "0.40"},
    }
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
    assert suggested == {
        CONF_PRICE_PER_KWH: "0.30",
        CONF_DRIVERS: f"{ALICE_CARD} = Alice\n{JUERGEN_CARD} = Jürgen Größe; 0.40",
    }


async def test_clearing_the_section_removes_price_and_drivers(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    await _submit(
        hass, init_integration, {CONF_PRICE_PER_KWH: "0.3", CONF_DRIVERS: "AB = X"}
    )
    assert CONF_DRIVERS in init_integration.options
    await _submit(hass, init_integration, {CONF_PRICE_PER_KWH: "", CONF_DRIVERS: ""})
    assert CONF_PRICE_PER_KWH not in init_integration.options
    assert CONF_DRIVERS not in init_integration.options


@pytest.mark.parametrize(
    ("prices", "error"),
    [
        ({CONF_PRICE_PER_KWH: "-0.10"}, "price_negative"),
        ({CONF_PRICE_PER_KWH: "thirty cents"}, "price_invalid"),
        ({CONF_PRICE_PER_KWH: "NaN"}, "price_invalid"),
        ({CONF_DRIVERS: f"{ALICE_CARD} Alice"}, "driver_line_invalid"),
        ({CONF_DRIVERS: f"{ALICE_CARD} = "}, "driver_line_invalid"),
        ({CONF_DRIVERS: f"{ALICE_CARD} = Alice; -1"}, "price_negative"),
        ({CONF_DRIVERS: f"{ALICE_CARD} = Alice; cheap"}, "price_invalid"),
    ],
)
async def test_wrong_prices_and_driver_lines_are_refused(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    prices: dict[str, Any],
    error: str,
) -> None:
    options_before = dict(init_integration.options)
    result = await _submit(hass, init_integration, prices)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    assert dict(init_integration.options) == options_before


@pytest.mark.parametrize(
    "written",
    [
        "04A1B2C3D4E5F6",
        "04a1b2c3d4e5f6",
        "04:A1:B2:C3:D4:E5:F6",
        "04-A1-B2-C3-D4-E5-F6",
        "04 A1 B2 C3 D4 E5 F6",
    ],
)
def test_a_uid_may_be_written_as_card_readers_print_it(written: str) -> None:
    assert parse_drivers(f"{written} = Alice") == {ALICE_CARD: {"name": "Alice"}}
