"""Logbook descriptions of the transaction events."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.core import Event, HomeAssistant, callback

from .const import DOMAIN, EVENT_TRANSACTION_STARTED, EVENT_TRANSACTION_STOPPED


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, str]]], None],
) -> None:
    """Describe the events; never with identification data."""

    @callback
    def describe_started(event: Event) -> dict[str, str]:
        data: Mapping[str, Any] = event.data
        return {
            LOGBOOK_ENTRY_NAME: f"IEM-DCR {data.get('meter_serial', '')}".strip(),
            LOGBOOK_ENTRY_MESSAGE: "started a transaction",
        }

    @callback
    def describe_stopped(event: Event) -> dict[str, str]:
        data: Mapping[str, Any] = event.data
        energy = data.get("energy_kwh")
        amount = (
            f"{energy:.3f} kWh"
            if isinstance(energy, (int, float))
            else "energy unknown"
        )
        verdict = {
            True: "signature valid",
            False: "SIGNATURE INVALID",
            None: "signature not checked",
        }.get(data.get("signature_valid"), "signature not checked")
        return {
            LOGBOOK_ENTRY_NAME: f"IEM-DCR {data.get('meter_serial', '')}".strip(),
            LOGBOOK_ENTRY_MESSAGE: (
                f"stored signed tuple {data.get('pagination', '?')}: {amount}, {verdict}"
            ),
        }

    async_describe_event(DOMAIN, EVENT_TRANSACTION_STARTED, describe_started)
    async_describe_event(DOMAIN, EVENT_TRANSACTION_STOPPED, describe_stopped)
