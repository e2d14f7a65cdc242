"""Binary sensors of the IEM-DCR: transaction running, meter problem."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from homeassistant.components.binary_sensor import (  # type: ignore[attr-defined]  # re-exported from .const
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import MeterValue
from .entity import IemDcrEntity

if TYPE_CHECKING:
    from . import IemDcrConfigEntry

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class IemDcrBinarySensorDescription(BinarySensorEntityDescription):
    """A binary sensor read from one poll."""

    is_on_fn: Callable[[MeterValue], bool]
    attributes_fn: Callable[[MeterValue], dict[str, Any]] | None = None


BINARY_SENSORS: tuple[IemDcrBinarySensorDescription, ...] = (
    IemDcrBinarySensorDescription(
        key="transaction_active",
        translation_key="transaction_active",
        device_class=BinarySensorDeviceClass.RUNNING,
        is_on_fn=lambda meter: meter.transaction_active,
    ),
    IemDcrBinarySensorDescription(
        key="problem",
        device_class=BinarySensorDeviceClass.PROBLEM,
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on_fn=lambda meter: not meter.healthy or bool(meter.error_flags),
        attributes_fn=lambda meter: {
            "error_code": meter.error_code,
            "error_flags": meter.error_flags,
        },
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: IemDcrConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the binary sensors of a meter."""
    async_add_entities(
        IemDcrBinarySensor(entry, description) for description in BINARY_SENSORS
    )


class IemDcrBinarySensor(IemDcrEntity, BinarySensorEntity):
    """A binary value from the last poll."""

    entity_description: IemDcrBinarySensorDescription

    @property
    def is_on(self) -> bool:
        """Return the state."""
        return self.entity_description.is_on_fn(self.coordinator.data.meter)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Return the raw codes behind a problem."""
        if self.entity_description.attributes_fn is None:
            return None
        return self.entity_description.attributes_fn(self.coordinator.data.meter)

    def _poll_view(self) -> Any:
        """Return the state and its attributes, written only when they change."""
        return (self.is_on, self.extra_state_attributes)
