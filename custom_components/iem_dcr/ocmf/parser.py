"""Read OCMF text into typed objects, keeping the signed payload text untouched.

Reading is as lenient as the Transparenzsoftware's: whatever leaves a payload
object is read, and each deviation from the specification becomes a finding on
the record instead of an error (a time that cannot be read keeps its text, a
reading without a time status letter or a number written `0100.000` is taken as
it is). Only text that is no OCMF record, or whose payload is no JSON object,
raises OcmfError.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
import re
from types import MappingProxyType
from typing import Any

from .errors import OcmfError, quoted as _quote
from .json_reader import (
    DUPLICATE_KEY,
    JsonDeviation,
    JsonNumber,
    JsonSyntaxError,
    path_name,
    read_json,
)
from .model import (
    OcmfFinding,
    OcmfPayload,
    OcmfReading,
    OcmfRecord,
    OcmfSignature,
    TimeStatus,
    split_pagination,
)

_HEADER = "OCMF"
# Spec form `2023-01-01T12:00:00,000+0100 S`; "." for "," and "+01:00"/"Z" tolerated.
_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:[,.]([0-9]{1,9}))?(Z|[+-][0-9]{2}:?[0-9]{2})(?:[ \t]+(\S+))?[ \t]*"
)
# RV written as a string: digits padded with zeros or spaces ("00000446.540").
_NUMERIC_TEXT = re.compile(
    r"[ \t]*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[ \t]*"
)
# Reading fields that repeat the previous reading's value may be left out (OCMF
# table 7). TX is not among them: the Transparenzsoftware does not inherit it,
# and a second register read at the begin (LEM DCBM) is no second begin.
_INHERITED = ("TM", "RI", "RU", "RT", "EF", "ST")
_READING_KEYS = frozenset({"TM", "TX", "RV", "RI", "RU", "RT", "CL", "EF", "ST"})
_PAYLOAD_KEYS = frozenset(
    {
        *("FV", "GI", "GS", "GV", "PG", "MV", "MM", "MS", "MF"),
        *("IS", "IL", "IF", "IT", "ID", "TT", "CF", "LC", "CT", "CI", "RD"),
    }
)
_SIGNATURE_KEYS = frozenset({"SA", "SE", "SM", "SD"})
# "\ud83d\ude00" is a valid pair; a lone half decodes to text nothing can store.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_REPLACEMENT_CHARACTER = "\ufffd"


@dataclass(frozen=True, slots=True)
class OcmfSections:
    """The `|`-separated sections of a record, exactly as written."""

    text: str
    payload_text: str
    signature_text: str
    embedded_public_key: str | None


def split_sections(text: str) -> OcmfSections:
    """Split `OCMF|payload|signature[|public key]` without reading any section.

    Surrounding whitespace is dropped. Raises OcmfError for text that is no
    OCMF record: another header, or fewer than three or more than four sections.
    """
    if not isinstance(text, str):
        raise OcmfError(f"OCMF record must be text, not {type(text).__name__}")
    record = text.strip()
    try:
        record.encode("utf-8")
    except UnicodeEncodeError as err:
        raise OcmfError(f"character {err.start + 1} is not valid Unicode") from None
    sections = record.split("|")
    if sections[0] != _HEADER:
        raise OcmfError("record does not start with 'OCMF|'")
    if not 3 <= len(sections) <= 4:
        raise OcmfError(
            f"record has {len(sections)} '|'-separated sections; expected "
            "OCMF|payload|signature with an optional public key section"
        )
    embedded_key = sections[3].strip() if len(sections) == 4 else None
    return OcmfSections(
        text=record,
        payload_text=sections[1],
        signature_text=sections[2],
        embedded_public_key=embedded_key or None,
    )


def parse(text: str) -> OcmfRecord:
    """Parse `OCMF|payload|signature[|public key]` leniently.

    Raises OcmfError only when there is no payload object to read: the text is
    no OCMF record, or its payload section is no JSON object. Everything else
    that departs from the specification is listed in the record's findings.
    """
    sections = split_sections(text)
    reader = _Reader()
    if sections.embedded_public_key is None and sections.text.count("|") == 3:
        reader.finding(
            "embedded_key_empty",
            "the public key section (after the third '|') is empty",
            affects_billing=False,
        )
    try:
        payload = reader.payload(reader.json_object(sections.payload_text, "payload"))
    except RecursionError:
        raise OcmfError("payload section is nested too deeply") from None
    signature: OcmfSignature | None = None
    try:
        signature = reader.signature(
            reader.json_object(sections.signature_text, "signature")
        )
    except OcmfError as err:
        reader.finding("signature_unreadable", str(err), affects_billing=False)
    except RecursionError:
        reader.finding(
            "signature_unreadable",
            "signature section is nested too deeply",
            affects_billing=False,
        )
    return OcmfRecord(
        text=sections.text,
        payload_text=sections.payload_text,
        signature_text=sections.signature_text,
        payload=payload,
        signature=signature,
        embedded_public_key=sections.embedded_public_key,
        findings=tuple(reader.findings),
    )


def parse_signature(text: str) -> OcmfSignature:
    """Read a signature section on its own (it is not signed).

    Raises OcmfError when it is no JSON object or has no readable `SD`, `SA`,
    `SE` or `SM`.
    """
    reader = _Reader()
    try:
        return reader.signature(reader.json_object(text, "signature"))
    except RecursionError:
        raise OcmfError("signature section is nested too deeply") from None


class _Reader:
    """Typed reading of parsed JSON that notes deviations instead of failing."""

    def __init__(self) -> None:
        self.findings: list[OcmfFinding] = []

    def finding(self, code: str, message: str, *, affects_billing: bool) -> None:
        self.findings.append(OcmfFinding(code, message, affects_billing))

    # --- sections -------------------------------------------------------------

    def json_object(self, text: str, where: str) -> dict[str, Any]:
        try:
            value, deviations = read_json(text)
        except JsonSyntaxError as err:
            raise OcmfError(
                f"{where} section is not valid JSON: {err.message} "
                f"at character {err.position + 1}"
            ) from None
        if not isinstance(value, dict):
            raise OcmfError(f"{where} section is not a JSON object")
        document: dict[str, Any] = value
        for deviation in deviations:
            self._deviation(where, deviation)
        if _SURROGATE_ESCAPE.search(text):
            fixed = _without_lone_surrogates(document)
            if fixed != document:
                self.finding(
                    "lone_surrogate",
                    f"{where} section escapes a lone UTF-16 surrogate "
                    "(\\uD800-DFFF); it is shown as U+FFFD",
                    affects_billing=False,
                )
                document = fixed
        return document

    def _deviation(self, where: str, deviation: JsonDeviation) -> None:
        place = f"{where} {deviation.path}" if deviation.path else where
        # Two values under one signed key: a reader may show another than a
        # verifier. In the unsigned signature section it only names the SD used.
        ambiguous = deviation.code == DUPLICATE_KEY and where == "payload"
        self.finding(
            deviation.code, f"{place}: {deviation.detail}", affects_billing=ambiguous
        )

    # --- payload --------------------------------------------------------------

    def payload(self, data: dict[str, Any]) -> OcmfPayload:
        return OcmfPayload(
            format_version=self.text(data, "FV", "payload"),
            gateway_id=self.text(data, "GI", "payload"),
            gateway_serial=self.text(data, "GS", "payload"),
            gateway_version=self.text(data, "GV", "payload"),
            pagination=self._pagination(data),
            meter_vendor=self.text(data, "MV", "payload"),
            meter_model=self.text(data, "MM", "payload"),
            meter_serial=self.text(data, "MS", "payload"),
            meter_firmware=self.text(data, "MF", "payload"),
            identification_status=self._boolean(data, "IS", "payload"),
            identification_level=self.text(data, "IL", "payload"),
            identification_flags=self._text_list(data, "IF", "payload"),
            identification_type=self.text(data, "IT", "payload"),
            identification_data=self.text(data, "ID", "payload"),
            tariff_text=self.text(data, "TT", "payload"),
            charge_controller_version=self.text(data, "CF", "payload"),
            loss_compensation=self._object(data, "LC", "payload"),
            charge_point_id_type=self.text(data, "CT", "payload"),
            charge_point_id=self.text(data, "CI", "payload"),
            readings=self._readings(data.get("RD")),
            extra=self._extra(data, _PAYLOAD_KEYS, "payload"),
        )

    def _pagination(self, data: Mapping[str, Any]) -> str | None:
        pagination = self.text(data, "PG", "payload")
        if pagination is None:
            if "PG" not in data or data["PG"] is None:
                self.finding(
                    "pagination_missing",
                    "payload PG (pagination) is missing",
                    affects_billing=True,
                )
            return None
        if split_pagination(pagination) is None:
            self.finding(
                "pagination_invalid",
                f"payload PG {_quote(pagination)} is not T or F followed by digits",
                affects_billing=True,
            )
        return pagination

    def _readings(self, value: Any) -> tuple[OcmfReading, ...]:
        if value is None or not isinstance(value, list) or not value:
            if value is None:
                problem = "payload RD (readings) is missing"
            elif not isinstance(value, list):
                problem = f"payload RD must be an array, not {_json_type(value)}"
            else:
                problem = "payload RD holds no reading"
            self.finding("readings_missing", problem, affects_billing=True)
            return ()
        readings = []
        inherited: dict[str, Any] = {}
        for index, item in enumerate(value):
            where = f"payload RD[{index}]"
            if not isinstance(item, dict):
                self.finding(
                    "reading_invalid",
                    f"{where} must be an object, not {_json_type(item)}; it is left out",
                    affects_billing=True,
                )
                continue
            for key in _INHERITED:
                if item.get(key) is not None:
                    inherited[key] = item[key]
            readings.append(self._reading({**item, **inherited}, where))
        return tuple(readings)

    def _reading(self, data: dict[str, Any], where: str) -> OcmfReading:
        time_text = self.text(data, "TM", where)
        time: datetime | None = None
        status: TimeStatus | None = None
        if time_text is None:
            if data.get("TM") is None:
                self.finding(
                    "time_missing",
                    f"{where} TM (time) is missing",
                    affects_billing=True,
                )
        else:
            time, status = self._time(time_text, where)
        value, value_text = self._number(data.get("RV"), "RV", where)
        cumulated_loss, _ = self._number(data.get("CL"), "CL", where)
        return OcmfReading(
            time=time,
            time_text=time_text,
            time_status=status,
            reason=self.text(data, "TX", where),
            value=value,
            value_text=value_text,
            obis=self.text(data, "RI", where),
            unit=self.text(data, "RU", where),
            current_type=self.text(data, "RT", where),
            cumulated_loss=cumulated_loss,
            error_flags=self.text(data, "EF", where) or "",
            status=self.text(data, "ST", where),
            extra=self._extra(data, _READING_KEYS, where),
        )

    def _time(self, text: str, where: str) -> tuple[datetime | None, TimeStatus | None]:
        match = _TIME.fullmatch(text)
        if match is None:
            self.finding(
                "time_unreadable",
                f"{where} TM {_quote(text)} is not of the form "
                "YYYY-MM-DDThh:mm:ss,fff+hhmm S; it is kept as text",
                affects_billing=True,
            )
            return None, None
        *parts, flag = match.groups()
        moment = self._moment(text, where, parts)
        if flag is None:
            self.finding(
                "time_status_missing",
                f"{where} TM has no time status (U, I, S or R)",
                affects_billing=False,
            )
            return moment, None
        try:
            return moment, TimeStatus(flag)
        except ValueError:
            self.finding(
                "time_status_unknown",
                f"{where} TM time status {_quote(flag)} is not U, I, S or R",
                affects_billing=False,
            )
            return moment, None

    def _moment(self, text: str, where: str, parts: list[str]) -> datetime | None:
        year, month, day, hour, minute, second, fraction, offset = parts
        zone = UTC
        if offset != "Z":
            hours, minutes = int(offset[1:3]), int(offset[-2:])
            if hours > 23 or minutes > 59:
                self.finding(
                    "time_unreadable",
                    f"{where} TM offset {_quote(offset)} is out of range; "
                    "the time is kept as text",
                    affects_billing=True,
                )
                return None
            delta = timedelta(hours=hours, minutes=minutes)
            zone = timezone(-delta if offset[0] == "-" else delta)
        try:
            return datetime(
                int(year),
                int(month),
                int(day),
                int(hour),
                int(minute),
                int(second),
                int((fraction or "0").ljust(6, "0")[:6]),
                tzinfo=zone,
            )
        except ValueError:
            self.finding(
                "time_unreadable",
                f"{where} TM {_quote(text)} is not a valid date; it is kept as text",
                affects_billing=True,
            )
            return None

    def _number(
        self, value: Any, key: str, where: str
    ) -> tuple[Decimal | None, str | None]:
        """Read a number written as JSON number or numeric string, keeping its text."""
        if value is None:
            return None, None
        if isinstance(value, JsonNumber):
            literal = value.literal
        elif isinstance(value, str) and _NUMERIC_TEXT.fullmatch(value):
            literal = value
        elif isinstance(value, str):
            self.finding(
                "value_unreadable",
                f"{where} {key} {_quote(value)} is not a number",
                affects_billing=True,
            )
            return None, value
        else:
            self.finding(
                "field_type",
                f"{where} {key} must be a number, not {_json_type(value)}; "
                "it is left out",
                affects_billing=True,
            )
            return None, None
        try:
            return Decimal(literal.strip(" \t")), literal
        except InvalidOperation:
            self.finding(
                "value_unreadable",
                f"{where} {key} {_quote(literal)} is out of range",
                affects_billing=True,
            )
            return None, literal

    # --- typed fields ---------------------------------------------------------

    def text(self, data: Mapping[str, Any], key: str, where: str) -> str | None:
        # A number stands for its literal text: field data has "FV":1.0 and "CT":0.
        value = data.get(key)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, JsonNumber):
            return value.literal
        self._wrong_type(f"{where} {key}", "a string", value)
        return None

    def _wrong_type(self, where: str, expected: str, value: Any) -> None:
        self.finding(
            "field_type",
            f"{where} must be {expected}, not {_json_type(value)}; it is left out",
            affects_billing=True,
        )

    def _text_list(
        self, data: Mapping[str, Any], key: str, where: str
    ) -> tuple[str, ...]:
        value = data.get(key)
        if value is None:
            return ()
        if not isinstance(value, list):
            self._wrong_type(f"{where} {key}", "an array", value)
            return ()
        items = []
        for index, item in enumerate(value):
            if isinstance(item, JsonNumber):
                items.append(item.literal)
            elif isinstance(item, str):
                items.append(item)
            else:
                self._wrong_type(f"{where} {key}[{index}]", "a string", item)
        return tuple(items)

    def _boolean(self, data: Mapping[str, Any], key: str, where: str) -> bool | None:
        value = data.get(key)
        if value is None or isinstance(value, bool):
            return value
        self._wrong_type(f"{where} {key}", "true or false", value)
        return None

    def _object(
        self, data: Mapping[str, Any], key: str, where: str
    ) -> Mapping[str, Any] | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            self._wrong_type(f"{where} {key}", "an object", value)
            return None
        frozen: Mapping[str, Any] = self._frozen(value, f"{where} {key}")
        return frozen

    def _extra(
        self, data: Mapping[str, Any], known: frozenset[str], where: str
    ) -> Mapping[str, Any]:
        return MappingProxyType(
            {
                key: self._frozen(value, path_name(where, key))
                for key, value in data.items()
                if key not in known
            }
        )

    def _frozen(self, value: Any, where: str) -> Any:
        """Turn parsed JSON into read-only values; numbers become int or Decimal."""
        if isinstance(value, dict):
            return MappingProxyType(
                {k: self._frozen(v, path_name(where, k)) for k, v in value.items()}
            )
        if isinstance(value, list):
            return tuple(
                self._frozen(item, f"{where}[{index}]")
                for index, item in enumerate(value)
            )
        if isinstance(value, JsonNumber):
            literal = value.literal
            try:
                if not any(mark in literal for mark in ".eE"):
                    return int(literal)
                return Decimal(literal)
            except ValueError:  # more digits than int() converts
                return Decimal(literal)
            except InvalidOperation:
                self.finding(
                    "number_out_of_range",
                    f"{where}: number {literal[:40]} is out of range; "
                    "it is kept as text",
                    affects_billing=False,
                )
                return literal
        return value

    # --- signature ------------------------------------------------------------

    def signature(self, data: dict[str, Any]) -> OcmfSignature:
        """Read the signature fields; an unreadable one raises OcmfError."""
        given: dict[str, str] = {}
        for name, key in (
            ("data", "SD"),
            ("algorithm", "SA"),
            ("encoding", "SE"),
            ("mime_type", "SM"),
        ):
            value = data.get(key)
            if isinstance(value, JsonNumber):
                value = value.literal
            if value is not None and not isinstance(value, str):
                raise OcmfError(
                    f"signature {key} must be a string, not {_json_type(value)}"
                )
            # Only a missing (or null) SA, SE or SM means the default; "" is a value.
            if value is not None:
                given[name] = value
        if "data" not in given:
            raise OcmfError("signature SD (signature data) is missing")
        return OcmfSignature(
            extra=self._extra(data, _SIGNATURE_KEYS, "signature"), **given
        )


def _without_lone_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return _LONE_SURROGATE.sub(_REPLACEMENT_CHARACTER, value)
    if isinstance(value, dict):
        return {
            _without_lone_surrogates(key): _without_lone_surrogates(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_without_lone_surrogates(item) for item in value]
    return value


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, JsonNumber):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "null"
