"""An event entity per meter: transaction started and stopped."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import IemDcrEntity
from .transaction import signal_transaction

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
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: IemDcrConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the transaction event entity of a meter."""
    async_add_entities([IemDcrTransactionEvent(entry, TRANSACTION_EVENT)])


class IemDcrTransactionEvent(IemDcrEntity, EventEntity):
    """Fires when a transaction starts and when its signed tuple is stored.

    The attributes carry no identification data and not the OCMF text (which
    holds it); the `iem_dcr_transaction_stopped` bus event has the full tuple.
    """

    def __init__(
        self, entry: IemDcrConfigEntry, description: EventEntityDescription
    ) -> None:
        """Keep the entry id for the dispatcher signal."""
        super().__init__(entry, description)
        self._entry_id = entry.entry_id

    @property
    def available(self) -> bool:
        """Events come from service calls and polls; the last one stays visible."""
        return True

    async def async_added_to_hass(self) -> None:
        """Listen for transaction news."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass, signal_transaction(self._entry_id), self._handle_news
            )
        )

    @callback
    def _handle_news(self, kind: str, signed: SignedTuple | None) -> None:
        self._trigger_event(kind, signed.summary() if signed else None)
        self.async_write_ha_state()
