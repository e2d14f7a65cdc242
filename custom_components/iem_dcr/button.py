"""A button that stops the running transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .entity import IemDcrEntity

if TYPE_CHECKING:
    from . import IemDcrConfigEntry

# One press at a time; the meter lock serialises the rest.
PARALLEL_UPDATES = 1

STOP_TRANSACTION = ButtonEntityDescription(
    key="stop_transaction", translation_key="stop_transaction"
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: IemDcrConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the stop button of a meter."""
    async_add_entities([IemDcrStopButton(entry, STOP_TRANSACTION)])


class IemDcrStopButton(IemDcrEntity, ButtonEntity):
    """Ends the running transaction; its signed tuple is stored and announced.

    It stays available while no transaction runs: an unavailable button would
    add two logbook lines to every transaction. A press then says why it does
    nothing.
    """

    def __init__(
        self, entry: IemDcrConfigEntry, description: ButtonEntityDescription
    ) -> None:
        """Keep the transaction manager."""
        super().__init__(entry, description)
        self._transactions = entry.runtime_data.transactions

    def _poll_view(self) -> None:
        """Return nothing: only the button's availability follows the polls."""

    async def async_press(self) -> None:
        """Stop the transaction; refuse when the last poll shows none (`XT`)."""
        if not self.coordinator.data.meter.transaction_active:
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="no_transaction_running"
            )
        await self._transactions.async_stop()
