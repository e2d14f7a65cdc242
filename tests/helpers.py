"""Small helpers for the Home Assistant tests."""

from __future__ import annotations

from datetime import timedelta
import json
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.iem_dcr.const import DOMAIN
from iem_dcr_simulator import MeterSimulator

UID = "04A1B2C3D4E5F6"


async def poll(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float = 1
) -> None:
    """Let `seconds` pass and run whatever timers became due (the next poll)."""
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


def posted(sim: MeterSimulator, name: str) -> list[dict[str, Any]]:
    """Return the JSON bodies of every POST to a meter endpoint, in order."""
    return [
        json.loads(request.body)
        for request in sim.requests
        if request.method == "POST" and request.path.endswith(f"/{name}")
    ]


def requested(sim: MeterSimulator, method: str, name: str) -> int:
    """Count the requests of one method to a meter endpoint."""
    return sum(
        1
        for request in sim.requests
        if request.method == method and request.path.endswith(f"/{name}")
    )


def state_of(hass: HomeAssistant, entity_id: str) -> State:
    """Return an entity's state, failing the test when it has none."""
    state = hass.states.get(entity_id)
    assert state is not None, f"{entity_id} has no state"
    return state


async def sim_control(
    hass: HomeAssistant,
    sim: MeterSimulator,
    name: str,
    payload: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Call the simulator's HTTP control API (`POST /_sim/<name>`)."""
    session = async_get_clientsession(hass)
    async with session.post(f"{sim.url}/_sim/{name}", json=payload) as response:
        assert response.status == 200, await response.text()
        answer: dict[str, Any] = await response.json()
        return answer


def running(sim: MeterSimulator) -> bool:
    """Tell whether the meter runs a transaction (a call, so mypy does not narrow)."""
    return sim.state.transaction_active


async def start(
    hass: HomeAssistant, entry: MockConfigEntry, **fields: Any
) -> dict[str, Any]:
    data = {
        "config_entry_id": entry.entry_id,
        "transaction_id": "tx-1",
        "identification_type": "ISO14443",
        "identification_data": UID,
        **fields,
    }
    response = await hass.services.async_call(
        DOMAIN, "start_transaction", data, blocking=True, return_response=True
    )
    assert response is not None
    return dict(response)


async def stop(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, Any]:
    response = await hass.services.async_call(
        DOMAIN,
        "stop_transaction",
        {"config_entry_id": entry.entry_id},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    return dict(response)


def copy_with_options(
    entry: MockConfigEntry, options: dict[str, Any]
) -> MockConfigEntry:
    """The same meter's entry with other options (not yet added to Home Assistant)."""
    return MockConfigEntry(
        domain=entry.domain,
        title=entry.title,
        unique_id=entry.unique_id,
        data=entry.data,
        options=options,
    )
