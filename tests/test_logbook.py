"""Logbook descriptions of the transaction events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.core import Event, HomeAssistant

from custom_components.iem_dcr.const import (
    DOMAIN,
    EVENT_TRANSACTION_STARTED,
    EVENT_TRANSACTION_STOPPED,
)
from custom_components.iem_dcr.logbook import async_describe_events

Describer = Callable[[Event], dict[str, str]]


def _describers(hass: HomeAssistant) -> dict[str, Describer]:
    found: dict[str, Describer] = {}

    def register(domain: str, event_type: str, describe: Describer) -> None:
        assert domain == DOMAIN
        found[event_type] = describe

    async_describe_events(hass, register)
    return found


async def test_logbook_describes_both_events(hass: HomeAssistant) -> None:
    describers = _describers(hass)
    started = describers[EVENT_TRANSACTION_STARTED](
        Event(EVENT_TRANSACTION_STARTED, {"meter_serial": "1ISA1"})
    )
    assert started == {"name": "IEM-DCR 1ISA1", "message": "started a transaction"}

    data: dict[str, Any] = {
        "meter_serial": "1ISA1",
        "pagination": "T7",
        "energy_kwh": 12.3456,
        "signature_valid": True,
        "ocmf": 'OCMF|{"ID":"04A1B2C3D4E5F6"}|{}',
    }
    stopped = describers[EVENT_TRANSACTION_STOPPED](
        Event(EVENT_TRANSACTION_STOPPED, data)
    )
    assert stopped["message"] == "stored signed tuple T7: 12.346 kWh, signature valid"
    assert "04A1B2C3D4E5F6" not in str(stopped)

    data |= {"signature_valid": False, "energy_kwh": None}
    invalid = describers[EVENT_TRANSACTION_STOPPED](
        Event(EVENT_TRANSACTION_STOPPED, data)
    )
    assert invalid["message"] == (
        "stored signed tuple T7: energy unknown, SIGNATURE INVALID"
    )
