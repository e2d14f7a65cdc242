"""Base entity of the IEM-DCR integration."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DEFAULT_MODEL, DOMAIN, MANUFACTURER
from .coordinator import IemDcrCoordinator
from .tuple_keeper import signal_transaction

if TYPE_CHECKING:
    from . import IemDcrConfigEntry
    from .signed_tuple import SignedTuple


# No state written yet: differs from every view.
_NOT_WRITTEN: Final = object()


class IemDcrEntity(CoordinatorEntity[IemDcrCoordinator]):
    """An entity of one meter; one device per meter serial.

    A poll writes the entity's state only when what it shows has changed
    (`_poll_view`): at one poll a second, writing a dozen unchanged states was
    about a third of what a poll cost Home Assistant.
    """

    _attr_has_entity_name = True
    _written: Any = _NOT_WRITTEN

    def __init__(
        self, entry: IemDcrConfigEntry, description: EntityDescription
    ) -> None:
        """Attach the entity to the meter's device."""
        runtime = entry.runtime_data
        super().__init__(runtime.coordinator)
        self.entity_description = description
        serial = entry.unique_id or ""
        self._attr_unique_id = f"{serial}_{description.key}"
        last = runtime.keeper.last
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, serial)},
            manufacturer=MANUFACTURER,
            model=(last.model if last and last.model else DEFAULT_MODEL),
            name=f"IEM-DCR {serial}",
            serial_number=serial,
            sw_version=last.firmware if last else None,
            # The meter has no web interface, only its REST API; None also clears
            # the JSON link that earlier versions registered.
            configuration_url=None,
        )

    def _poll_view(self) -> Any:
        """Return what the entity shows of the last poll (compared with ==)."""
        return self.coordinator.data

    @callback
    def _handle_coordinator_update(self) -> None:
        """Write the state if availability or the shown value changed."""
        available = self.available
        view = (available, self._poll_view() if available else None)
        if view == self._written:
            return
        self._written = view
        self.async_set_context(self.coordinator.poll_context)
        self.async_write_ha_state()


class IemDcrTransactionEntity(IemDcrEntity):
    """An entity fed by transaction news (starts and stored tuples), not by polls.

    It stays available while the meter is away: what it shows comes from the
    ledger and the service calls.
    """

    def __init__(
        self, entry: IemDcrConfigEntry, description: EntityDescription
    ) -> None:
        """Keep the tuple keeper and the entry id for the signal."""
        super().__init__(entry, description)
        self._keeper = entry.runtime_data.keeper
        self._entry_id = entry.entry_id

    @property
    def available(self) -> bool:
        """Return True: the value does not depend on the last poll."""
        return True

    @callback
    def _handle_coordinator_update(self) -> None:
        """Ignore polls: the state changes with transaction news only."""

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
        """React to a start (`started`) or a stored tuple (`stopped`)."""
        if kind == "stopped":
            self.async_write_ha_state()
