"""Sensors of the IEM-DCR: live values, registers, status, last transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfPower,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import MeterValue, TimeStatus
from .entity import IemDcrEntity, IemDcrTransactionEntity
from .key_fingerprint import key_fingerprint
from .month_sensors import month_sensors

if TYPE_CHECKING:
    from . import IemDcrConfigEntry
    from .coordinator import IemDcrData

# The coordinator does all the talking to the meter.
PARALLEL_UPDATES = 0

ATTR_PUBLIC_KEY = "public_key"
ATTR_ALGORITHM = "algorithm"

METER_STATUS = {
    "G": "ok",
    "N": "not_present",
    "T": "timeout",
    "D": "disconnected",
    "R": "not_found",
    "M": "manipulated",
    "X": "exchanged",
    "I": "incompatible",
    "O": "out_of_range",
    "S": "substitute",
    "E": "other_error",
    "F": "read_error",
}
CLOCK_STATUS = {
    TimeStatus.UNSYNCHRONIZED: "unsynchronized",
    TimeStatus.INFORMATIVE: "informative",
    TimeStatus.SYNCHRONIZED: "synchronized",
    TimeStatus.RELATIVE: "relative",
}


@dataclass(frozen=True, kw_only=True)
class IemDcrSensorDescription(SensorEntityDescription):
    """A sensor read from one poll."""

    value_fn: Callable[[IemDcrData], str | int | float | Decimal | datetime | None]


def _meter(fn: Callable[[MeterValue], Any]) -> Callable[[IemDcrData], Any]:
    return lambda data: fn(data.meter)


def _energy(
    key: str, value_fn: Callable[[MeterValue], Decimal], *, enabled: bool = True
) -> IemDcrSensorDescription:
    return IemDcrSensorDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=3,
        entity_registry_enabled_default=enabled,
        value_fn=_meter(value_fn),
    )


SENSORS: tuple[IemDcrSensorDescription, ...] = (
    IemDcrSensorDescription(
        key="power",
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.WATT,
        value_fn=_meter(lambda meter: meter.power),
    ),
    IemDcrSensorDescription(
        key="voltage",
        # Only for its DC icon; the device class names it.
        translation_key="voltage",
        device_class=SensorDeviceClass.VOLTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfElectricPotential.VOLT,
        value_fn=_meter(lambda meter: meter.voltage),
    ),
    IemDcrSensorDescription(
        key="current",
        translation_key="current",
        device_class=SensorDeviceClass.CURRENT,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        value_fn=_meter(lambda meter: meter.current),
    ),
    _energy("energy_import_total", lambda meter: meter.energy_import_total),
    _energy("energy_export_total", lambda meter: meter.energy_export_total),
    _energy("energy_import_transaction", lambda meter: meter.energy_import_transaction),
    _energy(
        "energy_export_transaction",
        lambda meter: meter.energy_export_transaction,
        enabled=False,
    ),
    IemDcrSensorDescription(
        key="meter_status",
        translation_key="meter_status",
        device_class=SensorDeviceClass.ENUM,
        options=sorted(set(METER_STATUS.values())),
        value_fn=_meter(lambda meter: METER_STATUS.get(meter.status)),
    ),
    IemDcrSensorDescription(
        key="clock_status",
        translation_key="clock_status",
        device_class=SensorDeviceClass.ENUM,
        options=list(CLOCK_STATUS.values()),
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_meter(lambda meter: CLOCK_STATUS[meter.time.status]),
    ),
    IemDcrSensorDescription(
        key="meter_time",
        translation_key="meter_time",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=_meter(lambda meter: meter.time.value),
    ),
    IemDcrSensorDescription(
        key="error_code",
        translation_key="error_code",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=_meter(lambda meter: meter.error_code),
    ),
    IemDcrSensorDescription(
        key="status_word",
        translation_key="status_word",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=_meter(lambda meter: meter.status_word),
    ),
)

PUBLIC_KEY = SensorEntityDescription(
    key="public_key",
    translation_key="public_key",
    entity_category=EntityCategory.DIAGNOSTIC,
)
LAST_TRANSACTION = SensorEntityDescription(
    key="last_transaction_energy",
    translation_key="last_transaction_energy",
    device_class=SensorDeviceClass.ENERGY,
    native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
    suggested_display_precision=3,
)
LEDGER_SIZE = SensorEntityDescription(
    key="ledger_size",
    translation_key="ledger_size",
    entity_category=EntityCategory.DIAGNOSTIC,
    state_class=SensorStateClass.TOTAL_INCREASING,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: IemDcrConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the sensors of a meter."""
    async_add_entities(
        [
            *(IemDcrSensor(entry, description) for description in SENSORS),
            IemDcrPublicKeySensor(entry, PUBLIC_KEY),
            IemDcrLastTransactionSensor(entry, LAST_TRANSACTION),
            IemDcrLedgerSizeSensor(entry, LEDGER_SIZE),
            *month_sensors(entry, hass),
        ]
    )


class IemDcrSensor(IemDcrEntity, SensorEntity):
    """A value from the last poll."""

    entity_description: IemDcrSensorDescription

    @property
    def native_value(self) -> str | int | float | Decimal | datetime | None:
        """Return the value."""
        return self.entity_description.value_fn(self.coordinator.data)

    def _poll_view(self) -> Any:
        """Return the value: a poll that leaves it unchanged writes nothing."""
        return self.native_value


class IemDcrPublicKeySensor(IemDcrEntity, SensorEntity):
    """The meter's signing key: a short fingerprint, the key itself as an attribute.

    The whole key (182 hex digits) is too long for a state and would be written
    to the recorder and the logbook on every reload; diagnostics carry it too.
    """

    _unrecorded_attributes = frozenset({ATTR_PUBLIC_KEY})

    def _poll_view(self) -> Any:
        """Return the key: the fingerprint is computed only when it changes."""
        return self.coordinator.data.public_key

    @property
    def native_value(self) -> str | None:
        """Return the key's fingerprint."""
        key = self.coordinator.data.public_key
        return key_fingerprint(key.key, key.algorithm) if key else None

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Return the key as the meter sent it, and its algorithm."""
        key = self.coordinator.data.public_key
        if key is None:
            return None
        return {ATTR_PUBLIC_KEY: key.key, ATTR_ALGORITHM: key.algorithm}


class IemDcrLastTransactionSensor(IemDcrTransactionEntity, SensorEntity):
    """The energy of the last stored transaction; no identification data."""

    @property
    def native_value(self) -> float | None:
        """Return the energy of the last transaction."""
        last = self._keeper.last
        return last.energy_kwh if last else None

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Return what identifies the signed tuple, without personal data."""
        last = self._keeper.last
        return last.summary() if last else None


class IemDcrLedgerSizeSensor(IemDcrTransactionEntity, SensorEntity):
    """How many signed tuples the ledger holds."""

    @property
    def native_value(self) -> int:
        """Return the number of stored tuples."""
        return self._keeper.ledger_size
