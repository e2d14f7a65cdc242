"""Driver names for identification data (RFID UIDs).

A name comes from Home Assistant's tags first (Settings → Tags: a scanned tag
the user named), then from the meter's options ("Prices and drivers"). The UID
itself is personal data: it stays in the signed tuple and is never logged or
shown where a name exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from .const import CONF_DRIVERS, CONF_PRICE_PER_KWH
from .pricing import Tariff

# The tag integration names its entities "Tag <id>" until the user names them;
# that default repeats the UID, so it is no name.
_TAG_DOMAIN = "tag"


def normalise_uid(uid: str) -> str:
    """Return a UID as the meter signs it: hex digits, upper case, no separators."""
    return "".join(uid.split()).replace(":", "").replace("-", "").upper()


def configured_drivers(options: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Return the drivers of the options, keyed by normalised UID."""
    drivers = options.get(CONF_DRIVERS) or {}
    return {normalise_uid(uid): dict(driver) for uid, driver in drivers.items()}


class DriverDirectory:
    """Resolves identification data to a driver's name, and a driver's own price."""

    def __init__(self, hass: HomeAssistant, options: Mapping[str, Any]) -> None:
        """Read the drivers of one meter's options."""
        self._hass = hass
        self._drivers = configured_drivers(options)

    def name(self, uid: str | None) -> str | None:
        """Return the driver's name for a UID, or None when nobody named it."""
        if not uid:
            return None
        key = normalise_uid(uid)
        return self._tag_name(uid, key) or self._drivers.get(key, {}).get("name")

    def prices(self) -> dict[str, Decimal]:
        """Return each named driver's own price per kWh (drivers without one left out)."""
        prices: dict[str, Decimal] = {}
        for uid, driver in self._drivers.items():
            name = self.name(uid)
            price = driver.get("price")
            if name is None or price in (None, ""):
                continue
            try:
                prices[name] = Decimal(str(price))
            except InvalidOperation:
                continue
        return prices

    def tariff(self, options: Mapping[str, Any]) -> Tariff:
        """Return the meter's tariff: its fixed price and the drivers' own prices."""
        fixed = options.get(CONF_PRICE_PER_KWH)
        return Tariff(
            fixed_price=None if fixed in (None, "") else Decimal(str(fixed)),
            driver_prices=self.prices(),
        )

    def _tag_name(self, uid: str, key: str) -> str | None:
        registry = er.async_get(self._hass)
        for candidate in dict.fromkeys((uid, key)):
            entity_id = registry.async_get_entity_id(
                _TAG_DOMAIN, _TAG_DOMAIN, candidate
            )
            if entity_id is None:
                continue
            entry = registry.async_get(entity_id)
            if entry is None:
                continue
            name = entry.name or entry.original_name
            if name and normalise_uid(candidate) not in normalise_uid(name):
                return name
        return None


class DriverTextError(ValueError):
    """A line of the drivers text cannot be read; `key` names the translated error."""

    def __init__(self, key: str) -> None:
        """Keep the error's translation key (the UID is not part of the message)."""
        super().__init__(key)
        self.key = key


def parse_price(text: str) -> Decimal | None:
    """Read a price per kWh ("0.30" or "0,30"); None for an empty text.

    Raises DriverTextError("price_invalid") or ("price_negative").
    """
    text = text.strip().replace(",", ".")
    if not text:
        return None
    try:
        price = Decimal(text)
    except InvalidOperation:
        raise DriverTextError("price_invalid") from None
    if not price.is_finite():
        raise DriverTextError("price_invalid")
    if price < 0:
        raise DriverTextError("price_negative")
    return price


def parse_drivers(text: str) -> dict[str, dict[str, str]]:
    """Read one driver a line: `UID = Name` or `UID = Name; price per kWh`."""
    drivers: dict[str, dict[str, str]] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        uid, equals, rest = line.partition("=")
        name, _, price_text = rest.partition(";")
        uid, name = normalise_uid(uid), name.strip()
        if not equals or not uid or not name:
            raise DriverTextError("driver_line_invalid")
        driver = {"name": name}
        price = parse_price(price_text)
        if price is not None:
            driver["price"] = str(price)
        drivers[uid] = driver
    return drivers


def drivers_text(drivers: Mapping[str, Mapping[str, Any]]) -> str:
    """Write drivers as `parse_drivers` reads them."""
    lines = []
    for uid, driver in drivers.items():
        line = f"{uid} = {driver['name']}"
        if driver.get("price") not in (None, ""):
            line += f"; {driver['price']}"
        lines.append(line)
    return "\n".join(lines)
