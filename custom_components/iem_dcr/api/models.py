"""Typed, immutable views of the meter's JSON, parsed strictly.

Every ``from_json`` accepts any decoded JSON value and either returns the model
or raises :class:`IemDcrResponseError` naming the endpoint and the field; no
``KeyError``/``TypeError``/``ValueError`` escapes, whatever the meter sends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
import math
import re
from typing import Any, ClassVar, Self

from .errors import IemDcrResponseError
from .meter_time import MeterTime, parse_meter_time

HEALTHY_ERROR_CODE = "0x0000, 0x00000000, 0x00, 0x00"
"""``XC`` of a meter without errors; the reference driver compares it verbatim."""

ENERGY_UNIT = "kWh"
TOTAL_IMPORT_REGISTER = "1-b:1.8.e"
TOTAL_EXPORT_REGISTER = "1-b:2.8.e"
TRANSACTION_IMPORT_REGISTER = "transaction_1-b:1.8.e"
TRANSACTION_EXPORT_REGISTER = "transaction_1-b:2.8.e"

_ENERGY_REGISTERS = frozenset(
    {
        TOTAL_IMPORT_REGISTER,
        TOTAL_EXPORT_REGISTER,
        TRANSACTION_IMPORT_REGISTER,
        TRANSACTION_EXPORT_REGISTER,
    }
)

# The meter zero-pads (``00000446.540``); anything but plain digits is refused so
# that signs, exponents, "NaN" or "Infinity" never turn into a reading.
_PLAIN_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def _describe(value: object) -> str:
    """Show a bad value briefly; bodies can be large."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


class _Reader:
    """Reads fields of one JSON object, naming the endpoint and path on failure."""

    def __init__(
        self, endpoint: str, data: object, array: str = "", index: int | None = None
    ) -> None:
        self.endpoint = endpoint
        # The path (``RD[2]``) is only spelled out for a message.
        self._array = array
        self._index = index
        if not isinstance(data, dict):
            raise self.error(None, f"expected an object, got {_describe(data)}")
        self.data: dict[str, object] = data

    def where(self, key: str | None) -> str | None:
        """Return the field path for messages, e.g. ``RD[2].WV``."""
        path = f"{self._array}[{self._index}]" if self._index is not None else ""
        if key is None:
            return path or None
        return f"{path}.{key}" if path else key

    def error(self, key: str | None, problem: str) -> IemDcrResponseError:
        """Build the error for ``key`` (or the object itself)."""
        return IemDcrResponseError(
            problem, endpoint=self.endpoint, field=self.where(key)
        )

    def get(self, key: str) -> object:
        """Return a required field."""
        try:
            return self.data[key]
        except KeyError:
            raise self.error(key, "missing") from None

    def string(self, key: str) -> str:
        """Return a required string field."""
        value = self.get(key)
        if not isinstance(value, str):
            raise self.error(key, f"expected a string, got {_describe(value)}")
        return value

    def nullable_string(self, key: str) -> str | None:
        """Return a string field that must be present but may be null."""
        if self.get(key) is None:
            return None
        return self.string(key)

    def optional_string(self, key: str) -> str | None:
        """Return a string field that may be absent or null."""
        if self.data.get(key) is None:
            return None
        return self.string(key)

    def boolean(self, key: str) -> bool:
        """Return a required boolean field."""
        value = self.get(key)
        if not isinstance(value, bool):
            raise self.error(key, f"expected a boolean, got {_describe(value)}")
        return value

    def number(self, key: str) -> float:
        """Return a required finite number; a boolean is not a number."""
        value = self.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(key, f"expected a number, got {_describe(value)}")
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            raise self.error(key, f"expected a finite number, got {_describe(value)}")
        return number

    def time(self, key: str) -> MeterTime:
        """Return a required meter time field."""
        text = self.string(key)
        try:
            return parse_meter_time(text)
        except ValueError:
            raise self.error(
                key, f"expected a meter time, got {_describe(text)}"
            ) from None

    def decimal(self, key: str) -> Decimal:
        """Return a plain non-negative decimal string as an exact Decimal."""
        value = self.get(key)
        if not isinstance(value, str) or not _PLAIN_DECIMAL.fullmatch(value):
            raise self.error(key, f"expected a decimal string, got {_describe(value)}")
        return Decimal(value)

    def array(self, key: str) -> list[object]:
        """Return a required array field."""
        value = self.get(key)
        if not isinstance(value, list):
            raise self.error(key, f"expected an array, got {_describe(value)}")
        return value


def _read_registers(endpoint: str, entries: list[object]) -> dict[str, Decimal]:
    """Find the energy registers in ``RD`` by identifier, not by position.

    The reference driver reads ``RD[2]``/``RD[3]`` by index; a firmware that
    reorders or adds registers would silently feed it the wrong value.
    Total registers use ``RI``/``RV``/``RU``, transaction registers ``WI``/``WV``/``WU``.
    """
    found: dict[str, Decimal] = {}
    for index, entry in enumerate(entries):
        reader = _Reader(endpoint, entry, "RD", index)
        prefix = "R" if "RI" in reader.data else "W" if "WI" in reader.data else None
        if prefix is None:
            continue  # a register kind this client does not know
        identifier = reader.string(f"{prefix}I")
        if identifier not in _ENERGY_REGISTERS:
            continue
        if identifier in found:
            raise reader.error(f"{prefix}I", f"register {identifier} appears twice")
        unit = reader.string(f"{prefix}U")
        if unit != ENERGY_UNIT:
            raise reader.error(
                f"{prefix}U", f"expected {ENERGY_UNIT!r}, got {_describe(unit)}"
            )
        found[identifier] = reader.decimal(f"{prefix}V")
    missing = sorted(_ENERGY_REGISTERS - found.keys())
    if missing:
        raise IemDcrResponseError(
            f"register {', '.join(missing)} missing", endpoint=endpoint, field="RD"
        )
    return found


def meter_time_from_json(data: object) -> MeterTime:
    """Parse the ``{"TM": ...}`` body of ``GET datetime``."""
    return _Reader("datetime", data).time("TM")


@dataclass(frozen=True)
class Gateway:
    """Charge point identification written once per power cycle (``GET gw``)."""

    ENDPOINT: ClassVar[str] = "gw"

    charge_point_id_type: str
    charge_point_id: str
    time: MeterTime | None

    @property
    def is_configured(self) -> bool:
        """Return True once CT and CI are written; they reset on power-up."""
        return bool(self.charge_point_id_type and self.charge_point_id)

    @classmethod
    def from_json(cls, data: object) -> Self:
        """Parse ``{"CT","CI","TM"}``.

        ``null`` for CT/CI is read as unset (""): the reference driver only spots a
        power-cycled meter when CT is null (bug B3), so both spellings must mean
        the same here. TM is never used by the reference driver, so it may be
        absent; when present it must parse.
        """
        reader = _Reader(cls.ENDPOINT, data)
        return cls(
            charge_point_id_type=reader.nullable_string("CT") or "",
            charge_point_id=reader.nullable_string("CI") or "",
            time=reader.time("TM") if reader.data.get("TM") is not None else None,
        )


@dataclass(frozen=True)
class MeterValue:
    """One live reading (``GET metervalue``); energies in kWh, exact."""

    ENDPOINT: ClassVar[str] = "metervalue"

    meter_serial: str
    time: MeterTime
    error_flags: str
    status: str
    transaction_active: bool
    energy_import_total: Decimal
    energy_export_total: Decimal
    energy_import_transaction: Decimal
    energy_export_transaction: Decimal
    u1: float
    u2: float
    u3: float
    u4: float
    current: float
    power: float
    status_word: str
    error_code: str

    @property
    def voltage(self) -> float:
        """Return the DC voltage; the meter reports it as ``U2`` (P = U2 x I)."""
        return self.u2

    @property
    def healthy(self) -> bool:
        """Return True if ``XC`` says no error; any other text blocks a start."""
        return self.error_code == HEALTHY_ERROR_CODE

    @classmethod
    def from_json(cls, data: object) -> Self:
        """Parse the metervalue object, reading energy strings whole (no bug B4)."""
        reader = _Reader(cls.ENDPOINT, data)
        registers = _read_registers(cls.ENDPOINT, reader.array("RD"))
        return cls(
            meter_serial=reader.string("MS"),
            time=reader.time("TM"),
            error_flags=reader.string("EF"),
            status=reader.string("ST"),
            transaction_active=reader.boolean("XT"),
            energy_import_total=registers[TOTAL_IMPORT_REGISTER],
            energy_export_total=registers[TOTAL_EXPORT_REGISTER],
            energy_import_transaction=registers[TRANSACTION_IMPORT_REGISTER],
            energy_export_transaction=registers[TRANSACTION_EXPORT_REGISTER],
            u1=reader.number("U1"),
            u2=reader.number("U2"),
            u3=reader.number("U3"),
            u4=reader.number("U4"),
            current=reader.number("I"),
            power=reader.number("P"),
            status_word=reader.string("XS"),
            error_code=reader.string("XC"),
        )

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able dict for diagnostics (Decimals as strings)."""
        return {
            "meter_serial": self.meter_serial,
            "time": self.time.text,
            "error_flags": self.error_flags,
            "status": self.status,
            "transaction_active": self.transaction_active,
            "energy_import_total": str(self.energy_import_total),
            "energy_export_total": str(self.energy_export_total),
            "energy_import_transaction": str(self.energy_import_transaction),
            "energy_export_transaction": str(self.energy_export_transaction),
            "u1": self.u1,
            "u2": self.u2,
            "u3": self.u3,
            "u4": self.u4,
            "current": self.current,
            "power": self.power,
            "status_word": self.status_word,
            "error_code": self.error_code,
        }


@dataclass(frozen=True)
class PublicKey:
    """The meter's signing key (``GET publickey``): PK is hex DER SPKI."""

    ENDPOINT: ClassVar[str] = "publickey"

    algorithm: str
    key: str

    @classmethod
    def from_json(cls, data: object) -> Self:
        """Parse ``{"SA","PK"}``; an empty key is useless and so refused."""
        reader = _Reader(cls.ENDPOINT, data)
        algorithm = reader.string("SA")
        key = reader.string("PK")
        if not key:
            raise reader.error("PK", "empty")
        return cls(algorithm=algorithm, key=key)


@dataclass(frozen=True)
class SignedData:
    """A signed data tuple (OCMF) exactly as the meter sent it.

    Never strip or re-serialise it: the signature covers the exact bytes. The
    record carries the customer's identification (``ID``), so it is left out of
    ``repr``.
    """

    ENDPOINT: ClassVar[str] = "receipt"

    text: str = field(repr=False)

    @classmethod
    def from_json(cls, data: object) -> Self:
        """Accept a non-empty string, for signed data kept as JSON elsewhere."""
        if not isinstance(data, str) or not data:
            raise IemDcrResponseError(
                f"expected non-empty signed data, got {_describe(data)}",
                endpoint=cls.ENDPOINT,
            )
        return cls(text=data)


@dataclass(frozen=True)
class UserData:
    """Identification for the next transaction (``POST user``).

    ``identification_data`` (an RFID UID, say) is personal data: it is left out of
    ``repr`` so that logging the object cannot leak it.
    """

    ENDPOINT: ClassVar[str] = "user"

    identification_status: bool
    identification_level: str | None
    identification_flags: tuple[str, ...]
    identification_type: str
    identification_data: str = field(repr=False)
    show_user_id: bool
    tariff_text: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the request body in the order the manufacturer's driver sends it.

        An absent level is sent as ``"UNKNOWN"``; ``TT`` is sent only when there is
        a tariff text, so the meter falls back to the one from ``POST tariff``.
        """
        body: dict[str, Any] = {
            "IS": self.identification_status,
            "IL": self.identification_level
            if self.identification_level is not None
            else "UNKNOWN",
            "IF": list(self.identification_flags),
            "IT": self.identification_type,
            "ID": self.identification_data,
            "US": self.show_user_id,
        }
        if self.tariff_text:
            body["TT"] = self.tariff_text
        return body

    @classmethod
    def from_json(cls, data: object) -> Self:
        """Parse a user body as :meth:`to_json` writes it (``"UNKNOWN"`` -> None)."""
        reader = _Reader(cls.ENDPOINT, data)
        flags = reader.array("IF")
        for index, flag in enumerate(flags):
            if not isinstance(flag, str):
                raise reader.error(
                    f"IF[{index}]", f"expected a string, got {_describe(flag)}"
                )
        level = reader.string("IL")
        return cls(
            identification_status=reader.boolean("IS"),
            identification_level=None if level == "UNKNOWN" else level,
            identification_flags=tuple(str(flag) for flag in flags),
            identification_type=reader.string("IT"),
            identification_data=reader.string("ID"),
            show_user_id=reader.boolean("US"),
            tariff_text=reader.optional_string("TT"),
        )
