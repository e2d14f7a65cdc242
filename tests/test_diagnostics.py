"""Diagnostics: what helps, with identification data redacted."""

from __future__ import annotations

import json

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from custom_components.iem_dcr.const import DOMAIN
from custom_components.iem_dcr.diagnostics import async_get_config_entry_diagnostics
from iem_dcr_simulator import MeterSimulator

UID = "04A1B2C3D4E5F6"


async def test_diagnostics(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    snapshot: SnapshotAssertion,
) -> None:
    for name in ("start_transaction", "stop_transaction"):
        data = {"config_entry_id": init_integration.entry_id}
        if name == "start_transaction":
            data |= {"transaction_id": "tx-1", "identification_data": UID}
        await hass.services.async_call(DOMAIN, name, data, blocking=True)

    # Called directly: the frozen test clock would expire an HTTP access token.
    diagnostics = await async_get_config_entry_diagnostics(hass, init_integration)
    assert UID not in json.dumps(diagnostics)
    assert diagnostics["entry"]["data"]["port"] == simulator.port
    assert diagnostics["ledger"]["size"] == 1
    assert diagnostics["coordinator"]["polls"] >= 1
    assert diagnostics == snapshot(
        exclude=props("port", "path", "last_poll_duration_s", "polls")
    )


async def test_diagnostics_keep_driver_prices_but_not_cards_or_names(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    hass.config_entries.async_update_entry(
        init_integration,
        options={
            **init_integration.options,
            "drivers": {UID: {"name": "Alice", "price": "0.25"}},
        },
    )
    await hass.async_block_till_done()
    diagnostics = await async_get_config_entry_diagnostics(hass, init_integration)
    text = json.dumps(diagnostics)
    assert UID not in text
    assert "Alice" not in text
    assert diagnostics["entry"]["options"]["drivers"] == [
        {"uid": "**REDACTED**", "name": "**REDACTED**", "price": "0.25"}
    ]
