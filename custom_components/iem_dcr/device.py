"""Finding the meter's device in the device registry."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from .const import DOMAIN


def meter_device(
    hass: HomeAssistant, entry_id: str, serial: str
) -> dr.DeviceEntry | None:
    """Return the device of the meter with this serial, if registered.

    Looked up through the config entry: the identifier-only lookup is deprecated
    since Home Assistant 2026.10, and its replacement does not exist in 2025.4.
    """
    registry = dr.async_get(hass)
    for device in dr.async_entries_for_config_entry(registry, entry_id):
        if (DOMAIN, serial) in device.identifiers:
            return device
    return None
