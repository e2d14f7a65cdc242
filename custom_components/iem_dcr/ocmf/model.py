"""Typed, frozen objects for one OCMF record (see ocmf.md sections 2 and 3)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

BEGIN_REASON = "B"
END_REASONS = frozenset("ELRAP")


class TimeStatus(StrEnum):
    """Synchronisation state written after a reading's time (OCMF table 19)."""

    UNKNOWN = "U"
    INFORMATIVE = "I"
    SYNCHRONIZED = "S"
    RELATIVE = "R"


@dataclass(frozen=True, kw_only=True)
class OcmfReading:
    """One entry of `RD`, with the fields it inherits from earlier readings."""

    time: datetime
    time_status: TimeStatus
    reason: str | None
    value: Decimal | None
    value_text: str | None
    obis: str | None
    unit: str | None
    current_type: str | None
    cumulated_loss: Decimal | None
    error_flags: str
    status: str | None
    extra: Mapping[str, Any]


@dataclass(frozen=True, kw_only=True)
class OcmfPayload:
    """The signed payload section."""

    format_version: str | None
    gateway_id: str | None
    gateway_serial: str | None
    gateway_version: str | None
    pagination: str
    meter_vendor: str | None
    meter_model: str | None
    meter_serial: str | None
    meter_firmware: str | None
    identification_status: bool | None
    identification_level: str | None
    identification_flags: tuple[str, ...]
    identification_type: str | None
    identification_data: str | None
    tariff_text: str | None
    charge_controller_version: str | None
    loss_compensation: Mapping[str, Any] | None
    charge_point_id_type: str | None
    charge_point_id: str | None
    readings: tuple[OcmfReading, ...]
    extra: Mapping[str, Any]

    @property
    def pagination_context(self) -> str:
        """Return "T" (transaction) or "F" (fiscal)."""
        return self.pagination[:1]

    @property
    def pagination_number(self) -> int:
        """Return the pagination counter."""
        return int(self.pagination[1:])

    @property
    def begin(self) -> OcmfReading | None:
        """Return the first reading that begins a transaction."""
        return next((r for r in self.readings if r.reason == BEGIN_REASON), None)

    @property
    def end(self) -> OcmfReading | None:
        """Return the last reading that ends a transaction."""
        return next(
            (r for r in reversed(self.readings) if r.reason in END_REASONS), None
        )


@dataclass(frozen=True, kw_only=True)
class OcmfSignature:
    """The (unsigned) signature section."""

    algorithm: str = "ECDSA-secp256r1-SHA256"
    encoding: str = "hex"
    mime_type: str = "application/x-der"
    data: str
    extra: Mapping[str, Any]


@dataclass(frozen=True, kw_only=True)
class OcmfRecord:
    """A parsed record that keeps the text it was read from.

    `payload_text` holds the exact characters between the first and the second
    `|`: those are what the meter signed, so verification uses them and nothing
    re-serialised.
    """

    text: str
    payload_text: str
    signature_text: str
    payload: OcmfPayload
    signature: OcmfSignature
    embedded_public_key: str | None
