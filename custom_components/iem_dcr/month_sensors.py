"""Energy and cost of this month and of last month, per meter and per driver.

The per-driver sensors exist for each named driver of the options (disabled by
default); their names and ids carry the driver's name, never the card's UID.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
)
from homeassistant.const import UnitOfEnergy
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_change
from homeassistant.util import dt as dt_util, slugify

from .drivers import DriverDirectory, configured_drivers
from .entity import IemDcrTransactionEntity
from .meter_sessions import MeterSessions
from .sessions import Session
from .statement import Period

if TYPE_CHECKING:
    from . import IemDcrConfigEntry

_ZERO = Decimal(0)


@dataclass(frozen=True, kw_only=True)
class MonthSensorDescription(SensorEntityDescription):
    """A month's total: which month (0 this, 1 last) and energy or cost."""

    months_ago: int
    cost: bool


# No state class: a month's total starts again at 0 each month, which neither
# `total_increasing` nor long-term statistics should read as a meter reading.
MONTH_SENSORS = (
    MonthSensorDescription(
        key="energy_this_month",
        translation_key="energy_this_month",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=3,
        months_ago=0,
        cost=False,
    ),
    MonthSensorDescription(
        key="energy_last_month",
        translation_key="energy_last_month",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=3,
        months_ago=1,
        cost=False,
    ),
    MonthSensorDescription(
        key="cost_this_month",
        translation_key="cost_this_month",
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        months_ago=0,
        cost=True,
    ),
    MonthSensorDescription(
        key="cost_last_month",
        translation_key="cost_last_month",
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        months_ago=1,
        cost=True,
    ),
)


def month_period(now: datetime, months_ago: int) -> Period:
    """Return the calendar month `months_ago` before `now`'s, in `now`'s zone."""
    index = now.year * 12 + now.month - 1 - months_ago
    zone = now.tzinfo or dt_util.UTC
    return Period.month(index // 12, index % 12 + 1, zone)


def driver_names(hass: HomeAssistant, entry: IemDcrConfigEntry) -> list[str]:
    """Return the names of the meter's named drivers (tags' names first), sorted."""
    directory = DriverDirectory(hass, entry.options)
    names = {directory.name(uid) for uid in configured_drivers(entry.options)}
    return sorted(name for name in names if name)


def month_sensors(entry: IemDcrConfigEntry, hass: HomeAssistant) -> list[SensorEntity]:
    """Return the month sensors of a meter and its drivers (one read of the ledger)."""
    sessions = MeterSessions(hass, entry)
    sensors: list[SensorEntity] = [
        MonthSensor(entry, description, sessions) for description in MONTH_SENSORS
    ]
    for name in driver_names(hass, entry):
        sensors.extend(
            DriverMonthSensor(entry, description, sessions, name)
            for description in MONTH_SENSORS
        )
    return sensors


class MonthSensor(IemDcrTransactionEntity, SensorEntity):
    """A month's energy or cost of the sessions that began in it."""

    entity_description: MonthSensorDescription

    def __init__(
        self,
        entry: IemDcrConfigEntry,
        description: MonthSensorDescription,
        sessions: MeterSessions,
    ) -> None:
        """Keep the shared sessions."""
        super().__init__(entry, description)
        self._sessions = sessions

    @property
    def native_unit_of_measurement(self) -> str | None:
        """Return kWh, or Home Assistant's currency for a cost."""
        if self.entity_description.cost:
            return self.hass.config.currency
        return self.entity_description.native_unit_of_measurement

    def _chosen(self, sessions: list[Session]) -> list[Session]:
        return sessions

    @property
    def native_value(self) -> Decimal | None:
        """Return the month's total; a cost is None while a session has no price."""
        period = month_period(dt_util.now(), self.entity_description.months_ago)
        chosen = self._chosen(self._sessions.starting_in(period.start, period.end))
        if not self.entity_description.cost:
            return sum((s.energy_kwh or _ZERO for s in chosen), _ZERO)
        costs = [s.cost.cost if s.cost else None for s in chosen]
        if any(cost is None for cost in costs):
            return None
        return sum((cost for cost in costs if cost is not None), _ZERO)

    async def async_added_to_hass(self) -> None:
        """Write the state again when a new month begins (each midnight, cheaply)."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_track_time_change(
                self.hass, self._midnight, hour=0, minute=0, second=0
            )
        )

    @callback
    def _midnight(self, _now: datetime) -> None:
        self.async_write_ha_state()


class DriverMonthSensor(MonthSensor):
    """A month's energy or cost of one named driver's sessions (disabled by default)."""

    _attr_entity_registry_enabled_default = False

    def __init__(
        self,
        entry: IemDcrConfigEntry,
        description: MonthSensorDescription,
        sessions: MeterSessions,
        driver: str,
    ) -> None:
        """Name the sensor after the driver; the UID appears nowhere."""
        super().__init__(
            entry,
            replace(
                description,
                key=f"driver_{slugify(driver)}_{description.key}",
                translation_key=f"driver_{description.key}",
            ),
            sessions,
        )
        self._driver = driver
        self._attr_translation_placeholders = {"driver": driver}

    def _chosen(self, sessions: list[Session]) -> list[Session]:
        return [session for session in sessions if session.driver == self._driver]
