"""The meter itself: registers, clock, gateway data, transactions and records.

Pure logic without HTTP. Every method is synchronous; time comes from an injectable
clock so tests can move it explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
import math
from typing import TYPE_CHECKING, Any

from .formats import format_energy, format_meter_time, parse_posted_time
from .ocmf_writer import Reading, RecordContent, payload_text, record_text
from .signing import (
    SIGNATURE_ALGORITHM,
    SignatureShape,
    generate_private_key,
    public_key_hex,
    require_p256,
    sign_payload,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from cryptography.hazmat.primitives.asymmetric import ec

HEALTHY_ERROR_CODE = "0x0000, 0x00000000, 0x00, 0x00"
DEFAULT_SERIAL = "1ISA0200001132"
DEFAULT_ACTIVATION_THRESHOLD = 0.5  # A
# Vendor status word from the only metervalue example; its meaning is unknown.
STATUS_WORD = "0x0000004000000004"

_STATUS_GOOD = "G"
_TIME_UNSYNCHRONISED = "U"
_TIME_INFORMATIVE = "I"
_TIME_ERROR_FLAG = "t"
_MICROSECONDS_PER_HOUR = Decimal(3_600_000_000)
_WATTS_PER_KILOWATT = Decimal(1000)
_NO_ENERGY = Decimal(0)


class MeterRefusedError(Exception):
    """The meter refuses the request in its current state (HTTP 428)."""


@dataclass(frozen=True, slots=True)
class UserIdentification:
    """The identification posted to /user, used in the next record."""

    identification_status: bool  # IS
    identification_level: str  # IL
    identification_flags: tuple[str, ...]  # IF
    identification_type: str  # IT
    identification_data: str  # ID (personal data: never log it)
    show_user_id: bool  # US, display only
    tariff_text: str | None = None  # TT, overrides the /tariff text when given


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _kwh(value: Decimal | float | str) -> Decimal:
    # Via str() a float keeps its short decimal form (0.1, not 0.1000000000000000055...).
    return Decimal(str(value)) if isinstance(value, float) else Decimal(value)


def _finite(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite")
    return float(value)


class MeterState:
    """An IEM-DCR: what survives a power cycle and what does not."""

    def __init__(
        self,
        *,
        serial: str = DEFAULT_SERIAL,
        clock: Callable[[], datetime] | None = None,
        private_key: ec.EllipticCurvePrivateKey | None = None,
    ) -> None:
        """Power up a meter with empty registers and no records."""
        self.serial = serial
        self._clock = clock or _utc_now
        self.private_key = require_p256(private_key or generate_private_key())
        self.activation_threshold = DEFAULT_ACTIVATION_THRESHOLD
        self.error_code = HEALTHY_ERROR_CODE
        self._voltage = 0.0
        self._current = 0.0
        self._import_total = _NO_ENERGY
        self._export_total = _NO_ENERGY
        self._import_transaction = _NO_ENERGY
        self._export_transaction = _NO_ENERGY
        self._integrated_until = self._clock()
        self.pagination = 0
        self.issued: list[str] = []
        # Called after a change a state file must keep (see persistence.py).
        self.on_change: Callable[[], None] | None = None
        self.last_ocmf: str | None = None
        # A test knob, not meter state: it survives power cycles.
        self.signature_shape = SignatureShape.ANY
        self.signature_shape_count: int | None = None
        self._set_power_up_values()

    def _set_power_up_values(self) -> None:
        self.charge_point_id_type = ""
        self.charge_point_id = ""
        self.gateway_set = False
        self.tariff_text = ""
        self.staged_user: UserIdentification | None = None
        self.transaction_active = False
        self._begin_reading: Reading | None = None
        # Wall-clock time posted by the controller and the clock reading at that moment.
        self._posted_time: datetime | None = None
        self._clock_at_post = self._clock()

    # --- measurements and registers ---------------------------------------------------

    @property
    def voltage(self) -> float:
        """DC voltage in V (U2)."""
        return self._voltage

    @voltage.setter
    def voltage(self, value: float) -> None:
        value = _finite(value, "voltage")
        if value < 0:
            raise ValueError("voltage must not be negative")
        self._integrate()
        self._voltage = value

    @property
    def current(self) -> float:
        """DC current in A (I); negative while energy is exported."""
        return self._current

    @current.setter
    def current(self, value: float) -> None:
        value = _finite(value, "current")
        self._integrate()
        self._current = value

    @property
    def power(self) -> float:
        """DC power in W (P)."""
        return self._voltage * self._current

    @property
    def energy_import_total(self) -> Decimal:
        """Total import register 1-b:1.8.e in kWh."""
        self._integrate()
        return self._import_total

    @property
    def energy_export_total(self) -> Decimal:
        """Total export register 1-b:2.8.e in kWh."""
        self._integrate()
        return self._export_total

    @property
    def energy_import_transaction(self) -> Decimal:
        """Import of the running (or last) transaction in kWh."""
        self._integrate()
        return self._import_transaction

    @property
    def energy_export_transaction(self) -> Decimal:
        """Export of the running (or last) transaction in kWh."""
        self._integrate()
        return self._export_transaction

    def set_measurements(
        self, *, voltage: float | None = None, current: float | None = None
    ) -> None:
        """Change what the sensor measures; energy so far is booked at the old power."""
        if voltage is not None:
            self.voltage = voltage
        if current is not None:
            self.current = current

    def add_energy(
        self,
        import_kwh: Decimal | float | str = _NO_ENERGY,
        export_kwh: Decimal | float | str = _NO_ENERGY,
    ) -> None:
        """Book energy in kWh directly (to the transaction registers too while one runs)."""
        import_kwh, export_kwh = _kwh(import_kwh), _kwh(export_kwh)
        if not (import_kwh.is_finite() and export_kwh.is_finite()):
            raise ValueError("energy must be finite")
        if import_kwh < 0 or export_kwh < 0:
            raise ValueError("registers only count up")
        self._integrate()
        self._book(import_kwh, export_kwh)
        self._changed()

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def shape_signatures(
        self, shape: SignatureShape | str, count: int | None = 1
    ) -> None:
        """Sign the next `count` records (None: all from now on) with `shape`.

        `SignatureShape.LEADING_ZERO` gives an r or s below 2^247, which the
        meter's fixed-width DER writes with a superfluous leading 00 byte;
        `ANY` returns to the meter's own behaviour.
        """
        shape = SignatureShape(shape)
        if count is not None and (type(count) is not int or count < 1):
            raise ValueError("count must be a positive integer or None")
        self.signature_shape = shape
        self.signature_shape_count = None if shape is SignatureShape.ANY else count

    def _next_signature_shape(self) -> SignatureShape:
        shape, remaining = self.signature_shape, self.signature_shape_count
        if remaining is not None:
            self.signature_shape_count = remaining - 1
            if self.signature_shape_count == 0:
                self.shape_signatures(SignatureShape.ANY)
        return shape

    def set_error_code(self, xc: str | None) -> None:
        """Set XC; None means healthy."""
        if xc is not None and not isinstance(xc, str):
            raise TypeError("XC must be a string")
        self.error_code = HEALTHY_ERROR_CODE if xc is None else xc

    def _book(self, import_kwh: Decimal, export_kwh: Decimal) -> None:
        self._import_total += import_kwh
        self._export_total += export_kwh
        if self.transaction_active:
            self._import_transaction += import_kwh
            self._export_transaction += export_kwh

    def _integrate(self) -> None:
        """Book power x elapsed clock time since the last booking."""
        now = self._clock()
        elapsed = now - self._integrated_until
        self._integrated_until = now
        if elapsed <= timedelta(0) or self._current == 0 or self._voltage == 0:
            return
        microseconds = Decimal(elapsed // timedelta(microseconds=1))
        watts = Decimal(repr(self._voltage)) * Decimal(repr(abs(self._current)))
        kwh = watts * microseconds / _MICROSECONDS_PER_HOUR / _WATTS_PER_KILOWATT
        if self._current > 0:
            self._book(kwh, _NO_ENERGY)
        else:
            self._book(_NO_ENERGY, kwh)

    # --- clock ------------------------------------------------------------------------

    @property
    def time_set(self) -> bool:
        """True once /gw or /datetime has set the clock since power-up."""
        return self._posted_time is not None

    def meter_time(self) -> str:
        """Return the clock as TM: posted wall time, its offset and I; else UTC and U."""
        now = self._clock()
        if self._posted_time is None:
            return format_meter_time(now.astimezone(UTC), _TIME_UNSYNCHRONISED)
        return format_meter_time(
            self._posted_time + (now - self._clock_at_post), _TIME_INFORMATIVE
        )

    def _set_clock(self, posted_time: str) -> None:
        moment = parse_posted_time(posted_time)
        self._posted_time = moment
        self._clock_at_post = self._clock()

    def _error_flags(self) -> str:
        return "" if self.time_set else _TIME_ERROR_FLAG

    # --- controller requests ----------------------------------------------------------

    def gateway(self) -> dict[str, Any]:
        """GET /gw."""
        return {
            "CT": self.charge_point_id_type,
            "CI": self.charge_point_id,
            "TM": self.meter_time(),
        }

    def set_gateway(self, ct: str, ci: str, tm: str) -> None:
        """POST /gw: accepted once per power cycle; also sets the clock."""
        parse_posted_time(tm)
        if self.gateway_set:
            raise MeterRefusedError("CT and CI are frozen until the next power cycle")
        self._set_clock(tm)
        self.charge_point_id_type = ct
        self.charge_point_id = ci
        self.gateway_set = True

    def set_datetime(self, tm: str) -> None:
        """POST /datetime: refused while a transaction runs."""
        parse_posted_time(tm)
        if self.transaction_active:
            raise MeterRefusedError("the clock cannot be set during a transaction")
        self._set_clock(tm)

    def set_tariff(self, tt: str) -> None:
        """POST /tariff."""
        self.tariff_text = tt

    def stage_user(self, user: UserIdentification) -> None:
        """POST /user: identification for the record written at the next end."""
        self.staged_user = user

    def begin_transaction(self) -> None:
        """POST /receipt {"TX":"B"}."""
        if self.transaction_active:
            raise MeterRefusedError("a transaction is already running")
        self._require_current_below_threshold()
        self._integrate()
        self._import_transaction = _NO_ENERGY
        self._export_transaction = _NO_ENERGY
        self._begin_reading = self._reading("B")
        self.transaction_active = True
        self._changed()

    def end_transaction(self) -> str:
        """POST /receipt {"TX":"E"}: end, sign and return the record."""
        if not self.transaction_active or self._begin_reading is None:
            raise MeterRefusedError("no transaction is running")
        self._require_current_below_threshold()
        self._integrate()
        end_reading = self._reading("E")
        self.pagination += 1
        user = self.staged_user
        content = RecordContent(
            serial=self.serial,
            charge_point_id_type=self.charge_point_id_type,
            charge_point_id=self.charge_point_id,
            identification_status=user.identification_status if user else False,
            identification_level=user.identification_level if user else "NONE",
            identification_flags=user.identification_flags if user else (),
            identification_type=user.identification_type if user else "NONE",
            identification_data=user.identification_data if user else "",
            pagination=self.pagination,
            tariff_text=(
                user.tariff_text
                if user is not None and user.tariff_text is not None
                else self.tariff_text
            ),
            readings=(self._begin_reading, end_reading),
        )
        payload = payload_text(content)
        signature = sign_payload(
            self.private_key, payload, self._next_signature_shape()
        )
        record = record_text(payload, signature)
        self.issued.append(record)
        self.last_ocmf = record
        self.transaction_active = False
        self._begin_reading = None
        self.staged_user = None
        self._changed()
        return record

    def end_transaction_externally(self) -> str:
        """Another controller ends the transaction (same rules as POST /receipt E)."""
        return self.end_transaction()

    def read_receipt(self) -> str:
        """GET /receipt: ends a running transaction first, then the last record."""
        if self.transaction_active:
            return self.end_transaction()
        return self.last_transaction_record()

    def last_transaction_record(self) -> str:
        """GET /transaction: the last record, verbatim."""
        if self.last_ocmf is None:
            raise MeterRefusedError("there has never been a transaction")
        return self.last_ocmf

    def meter_value(self) -> dict[str, Any]:
        """GET /metervalue, in the key order of the only known example."""
        self._integrate()
        return {
            "MS": self.serial,
            "TM": self.meter_time(),
            "EF": self._error_flags(),
            "ST": _STATUS_GOOD,
            "XT": self.transaction_active,
            "RD": [
                {
                    "RV": format_energy(self._import_total),
                    "RI": "1-b:1.8.e",
                    "RU": "kWh",
                    "RT": "DC",
                },
                {
                    "RV": format_energy(self._export_total),
                    "RI": "1-b:2.8.e",
                    "RU": "kWh",
                    "RT": "DC",
                },
                {
                    "WV": format_energy(self._import_transaction),
                    "WI": "transaction_1-b:1.8.e",
                    "WU": "kWh",
                    "WT": "DC",
                },
                {
                    "WV": format_energy(self._export_transaction),
                    "WI": "transaction_1-b:2.8.e",
                    "WU": "kWh",
                    "WT": "DC",
                },
            ],
            "U1": 0,
            "U2": round(self._voltage, 3),
            "U3": 0,
            "U4": 0,
            "I": round(self._current, 3),
            "P": round(self.power, 3),
            "XS": STATUS_WORD,
            "XC": self.error_code,
        }

    def public_key(self) -> dict[str, str]:
        """GET /publickey."""
        return {"SA": SIGNATURE_ALGORITHM, "PK": self.public_key_hex}

    @property
    def public_key_hex(self) -> str:
        """The DER SPKI hex the meter shows for its key."""
        return public_key_hex(self.private_key)

    # --- power ------------------------------------------------------------------------

    def power_cycle(self) -> None:
        """Switch off and on: session data is lost, registers and records survive."""
        self._integrate()
        self._set_power_up_values()

    # --- helpers ----------------------------------------------------------------------

    def _require_current_below_threshold(self) -> None:
        if abs(self._current) > self.activation_threshold:
            raise MeterRefusedError("current above the activation threshold")

    def _reading(self, reason: str) -> Reading:
        return Reading(
            time=self.meter_time(),
            reason=reason,
            error_flags=self._error_flags(),
            status=_STATUS_GOOD,
            import_register=format_energy(self._import_total),
        )
