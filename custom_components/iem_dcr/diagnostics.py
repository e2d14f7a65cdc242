"""Diagnostics of a meter, with identification data redacted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from homeassistant.components.diagnostics import REDACTED, async_redact_data
from homeassistant.core import HomeAssistant

from .const import CONF_DRIVERS

if TYPE_CHECKING:
    from . import IemDcrConfigEntry

# OCMF texts carry the identification data (ID) of whoever charged.
TO_REDACT = {"ID", "identification_data", "ocmf"}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: IemDcrConfigEntry
) -> dict[str, Any]:
    """Return what helps to understand a problem with a meter."""
    runtime = entry.runtime_data
    coordinator = runtime.coordinator
    keeper = runtime.keeper
    gateway = coordinator.gateway
    last = keeper.last
    data = coordinator.data
    return async_redact_data(
        {
            "entry": {
                "title": entry.title,
                "data": dict(entry.data),
                "options": _options(entry.options),
            },
            "meter_value": data.meter.to_dict() if data else None,
            "gateway": (
                {
                    "CT": gateway.charge_point_id_type,
                    "CI": gateway.charge_point_id,
                }
                if gateway
                else None
            ),
            "public_key": (
                {
                    "SA": coordinator.public_key.algorithm,
                    "PK": coordinator.public_key.key,
                }
                if coordinator.public_key
                else None
            ),
            "coordinator": {
                "last_update_success": coordinator.last_update_success,
                **coordinator.statistics.as_dict(),
            },
            "ledger": {
                "path": str(keeper.ledger.path),
                "size": keeper.ledger_size,
                "held_in_memory": keeper.held,
                "unreadable_pending": keeper.unreadable_pending,
                "gaps": [
                    {
                        "previous": gap.previous,
                        "current": gap.current,
                        "missing": gap.missing,
                    }
                    for gap in keeper.ledger.gaps()
                ],
                "recovery_pending": keeper.recovery_pending,
                "last": last.summary() if last else None,
            },
        },
        TO_REDACT,
    )


def _options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Return the options; drivers are keyed by card UID, so only their prices stay."""
    copy = dict(options)
    if CONF_DRIVERS in copy:
        copy[CONF_DRIVERS] = [
            {"uid": REDACTED, "name": REDACTED, "price": driver.get("price")}
            for driver in copy[CONF_DRIVERS].values()
        ]
    return copy
