"""Base entity of the IEM-DCR integration."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DEFAULT_MODEL, DOMAIN, MANUFACTURER
from .coordinator import IemDcrCoordinator

if TYPE_CHECKING:
    from . import IemDcrConfigEntry


class IemDcrEntity(CoordinatorEntity[IemDcrCoordinator]):
    """An entity of one meter; one device per meter serial."""

    _attr_has_entity_name = True

    def __init__(
        self, entry: IemDcrConfigEntry, description: EntityDescription
    ) -> None:
        """Attach the entity to the meter's device."""
        runtime = entry.runtime_data
        super().__init__(runtime.coordinator)
        self.entity_description = description
        serial = entry.unique_id or ""
        self._attr_unique_id = f"{serial}_{description.key}"
        last = runtime.transactions.last
        settings = runtime.settings
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, serial)},
            manufacturer=MANUFACTURER,
            model=(last.model if last and last.model else DEFAULT_MODEL),
            name=f"IEM-DCR {serial}",
            serial_number=serial,
            sw_version=last.firmware if last else None,
            configuration_url=f"http://{settings.host}:{settings.port}/counter/v1/ocmf/metervalue",
        )
