"""Typed, frozen objects for one OCMF record (see ocmf.md sections 2 and 3)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
import re
from typing import Any

BEGIN_REASON = "B"
END_REASONS = frozenset("ELRAP")
_PAGINATION = re.compile(r"([TF])([0-9]+)")
# int() refuses longer digit strings (CPython's conversion limit).
_MAX_PAGINATION_DIGITS = 4000


class TimeStatus(StrEnum):
    """Synchronisation state written after a reading's time (OCMF table 19)."""

    UNKNOWN = "U"
    INFORMATIVE = "I"
    SYNCHRONIZED = "S"
    RELATIVE = "R"


def split_pagination(pagination: str | None) -> tuple[str, int] | None:
    """Return context and counter of a `PG` such as "T5"; None if it is none."""
    if pagination is None or len(pagination) > _MAX_PAGINATION_DIGITS:
        return None
    match = _PAGINATION.fullmatch(pagination)
    if match is None:
        return None
    return match.group(1), int(match.group(2))


@dataclass(frozen=True)
class OcmfFinding:
    """A way a record departs from the OCMF specification, read leniently.

    `affects_billing` tells whether the deviation keeps the record from being
    billed (an unreadable time, a missing pagination, an ambiguous key); such
    findings are also calibration-law issues (see `eichrecht_issues`).
    """

    code: str
    message: str
    affects_billing: bool


@dataclass(frozen=True, kw_only=True)
class OcmfReading:
    """One entry of `RD`, with the fields it inherits from earlier readings.

    `time_text` is `TM` as written; `time` is None when that text cannot be
    read as a time, `time_status` when its status letter is missing or unknown.
    """

    time: datetime | None
    time_text: str | None
    time_status: TimeStatus | None
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
    pagination: str | None
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
    def pagination_context(self) -> str | None:
        """Return "T" (transaction) or "F" (fiscal); None without a valid PG."""
        parts = split_pagination(self.pagination)
        return parts[0] if parts is not None else None

    @property
    def pagination_number(self) -> int | None:
        """Return the pagination counter; None without a valid PG."""
        parts = split_pagination(self.pagination)
        return parts[1] if parts is not None else None

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
    re-serialised. `signature` is None when the signature section cannot be
    read (a finding says why). `findings` lists every deviation from the
    specification that was read leniently.
    """

    text: str
    payload_text: str
    signature_text: str
    payload: OcmfPayload
    signature: OcmfSignature | None
    embedded_public_key: str | None
    findings: tuple[OcmfFinding, ...] = ()
