"""What Home Assistant tells about one signed data tuple (service response, event)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from .ocmf import OcmfReading, OcmfRecord, eichrecht_issues, tps_compatibility


@dataclass(frozen=True, kw_only=True)
class SignedTuple:
    """A verified signed data tuple as it was stored in the ledger.

    `ocmf` is the verbatim text the meter sent: it is what a customer checks with
    the Transparenzsoftware, so it is never re-serialised. `tps_compatible`
    tells whether the Transparenzsoftware 1.4.1 can check it as it is (with
    the reason when not). A text that could not be read as OCMF is kept all
    the same: `parse_error` then says why, and only the meter serial and the
    reason are known.
    """

    ocmf: str
    public_key: str
    signature_valid: bool | None
    tps_compatible: bool
    tps_incompatible_reason: str | None
    eichrecht_issues: tuple[tuple[str, str], ...]
    meter_serial: str
    pagination: str | None
    model: str | None
    firmware: str | None
    start_time: datetime | None
    end_time: datetime | None
    start_register: Decimal | None
    end_register: Decimal | None
    reason: str
    parse_error: str | None = None
    # The driver's name for the identification data, where one is known.
    driver: str | None = None

    @classmethod
    def from_record(
        cls,
        record: OcmfRecord,
        *,
        public_key: str,
        signature_valid: bool | None,
        reason: str,
        meter_serial: str,
    ) -> SignedTuple:
        """Describe a parsed record."""
        payload = record.payload
        begin, end = payload.begin, payload.end
        tps = tps_compatibility(record, public_key or None)
        return cls(
            ocmf=record.text,
            public_key=public_key,
            signature_valid=signature_valid,
            tps_compatible=tps.compatible,
            tps_incompatible_reason=tps.reason,
            eichrecht_issues=tuple(
                (issue.code, issue.message) for issue in eichrecht_issues(record)
            ),
            meter_serial=payload.meter_serial or payload.gateway_serial or meter_serial,
            pagination=payload.pagination,
            model=payload.meter_model,
            firmware=payload.gateway_version,
            start_time=_time(begin),
            end_time=_time(end),
            start_register=_value(begin),
            end_register=_value(end),
            reason=reason,
        )

    @classmethod
    def unreadable(
        cls,
        text: str,
        *,
        public_key: str,
        signature_valid: bool | None,
        reason: str,
        meter_serial: str,
        parse_error: str,
    ) -> SignedTuple:
        """Describe a text the meter signed that is not readable OCMF."""
        return cls(
            ocmf=text,
            public_key=public_key,
            signature_valid=signature_valid,
            tps_compatible=False,
            tps_incompatible_reason="the text cannot be read as OCMF",
            eichrecht_issues=(("unreadable", parse_error),),
            meter_serial=meter_serial,
            pagination=None,
            model=None,
            firmware=None,
            start_time=None,
            end_time=None,
            start_register=None,
            end_register=None,
            reason=reason,
            parse_error=parse_error,
        )

    @property
    def ocmf_id(self) -> str:
        """Return the record's identity: meter serial and pagination."""
        return f"{self.meter_serial}/{self.pagination or '-'}"

    @property
    def energy_kwh(self) -> float | None:
        """Return the energy between the begin and end readings."""
        if self.start_register is None or self.end_register is None:
            return None
        return float(self.end_register - self.start_register)

    def summary(self) -> dict[str, Any]:
        """Return the fields that carry no identification data (entity attributes).

        `driver` is there only when the identification data has a name.
        """
        named = {"driver": self.driver} if self.driver else {}
        return {
            **named,
            "ocmf_id": self.ocmf_id,
            "pagination": self.pagination,
            "meter_serial": self.meter_serial,
            "signature_valid": self.signature_valid,
            "tps_compatible": self.tps_compatible,
            "tps_incompatible_reason": self.tps_incompatible_reason,
            "start_time": _iso(self.start_time),
            "end_time": _iso(self.end_time),
            "start_register_kwh": _float(self.start_register),
            "end_register_kwh": _float(self.end_register),
            "energy_kwh": self.energy_kwh,
            "reason": self.reason,
            "parse_error": self.parse_error,
        }

    def as_dict(self) -> dict[str, Any]:
        """Return everything, the verbatim OCMF text included (response, event)."""
        return {
            **self.summary(),
            "ocmf": self.ocmf,
            "public_key": self.public_key,
            "eichrecht_issues": [
                {"code": code, "message": message}
                for code, message in self.eichrecht_issues
            ],
        }


def _time(reading: OcmfReading | None) -> datetime | None:
    return reading.time if reading is not None else None


def _value(reading: OcmfReading | None) -> Decimal | None:
    return reading.value if reading is not None else None


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _float(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None
