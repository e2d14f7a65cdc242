"""Logbook entries of the transaction events: one per start, one per stored tuple.

Each entry names the meter's device as the user sees it (renamed or not), links to
the entity that shows the transaction, has an icon, and is written in Home
Assistant's language. Never with identification data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_ENTITY_ID,
    LOGBOOK_ENTRY_ICON,
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.const import Platform
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.translation import async_get_cached_translations

from .const import DOMAIN, EVENT_TRANSACTION_STARTED, EVENT_TRANSACTION_STOPPED

ICON_STARTED = "mdi:play-circle-outline"
ICON_STORED = "mdi:receipt-text-check-outline"
ICON_UNCHECKED = "mdi:receipt-text-outline"
ICON_INVALID = "mdi:alert-octagon-outline"

# The translations' `common` section; these English texts stand in until Home
# Assistant has loaded them (a test keeps both equal).
TEXTS: dict[str, str] = {
    "logbook_started": "started transaction {transaction_id}",
    "logbook_stopped": (
        "stored signed tuple {pagination} ({reason}): {energy}, {verdict}"
    ),
    "logbook_energy": "{energy} kWh",
    "logbook_driver": "{message}, charged by {driver}",
    "logbook_energy_unknown": "energy unknown",
    "logbook_decimal_separator": ".",
    "logbook_signature_valid": "signature valid",
    "logbook_signature_invalid": "SIGNATURE INVALID",
    "logbook_signature_unchecked": "signature not checked",
    "logbook_reason_stopped": "stopped",
    "logbook_reason_superseded": "ended by the next start",
    "logbook_reason_ended_externally": "ended outside Home Assistant",
    "logbook_reason_recovered": "fetched after an interruption",
}
VERDICTS = {
    True: ("logbook_signature_valid", ICON_STORED),
    False: ("logbook_signature_invalid", ICON_INVALID),
    None: ("logbook_signature_unchecked", ICON_UNCHECKED),
}

type Describer = Callable[[Event], dict[str, str]]


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Describer], None],
) -> None:
    """Describe the transaction events."""

    @callback
    def describe_started(event: Event) -> dict[str, str]:
        data: Mapping[str, Any] = event.data
        text = _Texts(hass)
        return _entry(
            hass,
            data,
            message=text(
                "logbook_started",
                transaction_id=str(data.get("transaction_id") or "?"),
            ),
            icon=ICON_STARTED,
            link=(Platform.BINARY_SENSOR, "transaction_active"),
        )

    @callback
    def describe_stopped(event: Event) -> dict[str, str]:
        data: Mapping[str, Any] = event.data
        text = _Texts(hass)
        energy = data.get("energy_kwh")
        if isinstance(energy, (int, float)) and not isinstance(energy, bool):
            amount = text(
                "logbook_energy",
                energy=f"{energy:.3f}".replace(".", text("logbook_decimal_separator")),
            )
        else:
            amount = text("logbook_energy_unknown")
        verdict, icon = VERDICTS.get(data.get("signature_valid"), VERDICTS[None])
        reason = f"logbook_reason_{data.get('reason')}"
        message = text(
            "logbook_stopped",
            pagination=str(data.get("pagination") or "?"),
            reason=text(reason) if reason in TEXTS else str(data.get("reason")),
            energy=amount,
            verdict=text(verdict),
        )
        if driver := data.get("driver"):
            message = text("logbook_driver", message=message, driver=str(driver))
        return _entry(
            hass,
            data,
            message=message,
            icon=icon,
            link=(Platform.SENSOR, "last_transaction_energy"),
        )

    async_describe_event(DOMAIN, EVENT_TRANSACTION_STARTED, describe_started)
    async_describe_event(DOMAIN, EVENT_TRANSACTION_STOPPED, describe_stopped)


class _Texts:
    """The logbook texts in Home Assistant's language, English where one is missing."""

    def __init__(self, hass: HomeAssistant) -> None:
        self._cached = async_get_cached_translations(
            hass, hass.config.language, "common", DOMAIN
        )

    def __call__(self, key: str, **placeholders: str) -> str:
        template = self._cached.get(f"component.{DOMAIN}.common.{key}", TEXTS[key])
        try:
            return template.format(**placeholders)
        except (KeyError, IndexError, ValueError):
            # A broken translation must not cost the entry.
            return TEXTS[key].format(**placeholders)


def _entry(
    hass: HomeAssistant,
    data: Mapping[str, Any],
    *,
    message: str,
    icon: str,
    link: tuple[Platform, str],
) -> dict[str, str]:
    entry = {
        LOGBOOK_ENTRY_NAME: _meter_name(hass, data),
        LOGBOOK_ENTRY_MESSAGE: message,
        LOGBOOK_ENTRY_ICON: icon,
    }
    if (entity_id := _entity_id(hass, data, *link)) is not None:
        entry[LOGBOOK_ENTRY_ENTITY_ID] = entity_id
    return entry


def _meter_name(hass: HomeAssistant, data: Mapping[str, Any]) -> str:
    """Return the device's name as the user sees it (renamed or not)."""
    device_id = data.get("device_id")
    if isinstance(device_id, str):
        device = dr.async_get(hass).async_get(device_id)
        if device is not None and (name := device.name_by_user or device.name):
            return name
    return f"IEM-DCR {data.get('meter_serial') or ''}".strip()


def _entity_id(
    hass: HomeAssistant, data: Mapping[str, Any], platform: Platform, key: str
) -> str | None:
    """Return the entity of the meter that shows this transaction, if it exists."""
    entry_id = data.get("config_entry_id")
    if not isinstance(entry_id, str):
        return None
    entry = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.unique_id is None:
        return None
    return er.async_get(hass).async_get_entity_id(
        platform, DOMAIN, f"{entry.unique_id}_{key}"
    )
