"""A start/stop round trip through Home Assistant in every simulator transport mode."""

from __future__ import annotations

from decimal import Decimal
import json
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.iem_dcr.const import DOMAIN
from iem_dcr_simulator import MeterSimulator, Transport

from .helpers import poll, posted, state_of

SERIAL = "1ISA0200001132"
PREFIX = "iem_dcr_1isa0200001132"


def _stored_tuples(hass: HomeAssistant) -> list[str]:
    path = Path(hass.config.path("iem_dcr_ledger", f"{SERIAL}.jsonl"))
    return [json.loads(line)["ocmf"] for line in path.read_text().splitlines() if line]


async def _call(
    hass: HomeAssistant, service: str, data: dict[str, Any]
) -> dict[str, Any]:
    response = await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=True
    )
    assert response is not None
    return dict(response)


@pytest.mark.parametrize(
    "transport",
    [
        pytest.param(mode, marks=pytest.mark.simulator_config(transport=mode))
        for mode in Transport
    ],
)
async def test_start_stop_round_trip(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    freezer: FrozenDateTimeFactory,
    transport: Transport,
) -> None:
    assert simulator.transport is transport
    assert init_integration.state is ConfigEntryState.LOADED
    await poll(hass, freezer)
    assert float(state_of(hass, f"sensor.{PREFIX}_power").state) == 0

    started = await _call(
        hass,
        "start_transaction",
        {
            "config_entry_id": init_integration.entry_id,
            "transaction_id": "tx-1",
            "identification_level": "VERIFIED",
        },
    )
    assert started["status"] == "OK"
    assert simulator.state.transaction_active
    simulator.state.add_energy(import_kwh=Decimal("3.5"))
    stopped = await _call(
        hass, "stop_transaction", {"config_entry_id": init_integration.entry_id}
    )

    assert stopped["status"] == "OK"
    assert stopped["ocmf"] == simulator.state.issued[-1]
    assert stopped["signature_valid"] is True
    assert stopped["energy_kwh"] == pytest.approx(3.5)
    assert _stored_tuples(hass) == [stopped["ocmf"]]
    assert posted(simulator, "receipt") == [{"TX": "E"}, {"TX": "B"}, {"TX": "E"}]
    # Every request on a connection of its own, none sent twice.
    assert simulator.connections_accepted == len(simulator.requests)
