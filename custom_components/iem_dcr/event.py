"""An event entity per meter: transaction started and stopped."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import IemDcrTransactionEntity

if TYPE_CHECKING:
    from . import IemDcrConfigEntry
    from .signed_tuple import SignedTuple

PARALLEL_UPDATES = 0

EVENT_STARTED = "started"
EVENT_STOPPED = "stopped"

TRANSACTION_EVENT = EventEntityDescription(
    key="transaction",
    translation_key="transaction",
    event_types=[EVENT_STARTED, EVENT_STOPPED],
    # Each event would be a second logbook line next to the integration's own
    # entry; the bus events carry the same for automations.
    entity_registry_enabled_default=False,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: IemDcrConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the transaction event entity of a meter."""
    async_add_entities([IemDcrTransactionEvent(entry, TRANSACTION_EVENT)])


class IemDcrTransactionEvent(IemDcrTransactionEntity, EventEntity):
    """Fires when a transaction starts and when its signed tuple is stored.

    The attributes carry no identification data and not the OCMF text (which
    holds it); the `iem_dcr_transaction_stopped` bus event has the full tuple.
    """

    @callback
    def _handle_news(self, kind: str, signed: SignedTuple | None) -> None:
        self._trigger_event(kind, signed.summary() if signed else None)
        self.async_write_ha_state()
