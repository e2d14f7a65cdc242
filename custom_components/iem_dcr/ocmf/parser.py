"""Read OCMF text into typed objects, keeping the signed payload text untouched."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
import json
import re
from types import MappingProxyType
from typing import Any

from .errors import OcmfError, quoted as _quote
from .model import OcmfPayload, OcmfReading, OcmfRecord, OcmfSignature, TimeStatus

_HEADER = "OCMF"
_PAGINATION = re.compile(r"[TF][0-9]+")
# Spec form `2023-01-01T12:00:00,000+0100 S`; "." for "," and "+01:00"/"Z" tolerated.
_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:[,.]([0-9]{1,9}))?(Z|[+-][0-9]{2}:?[0-9]{2}) ([A-Z])"
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


@dataclass(frozen=True, slots=True)
class _Number:
    """A JSON number as the sender wrote it (the spec forbids reformatting)."""

    literal: str


class _BadJsonError(Exception):
    """A JSON feature OCMF has no use for (duplicate key, NaN)."""


def parse(text: str) -> OcmfRecord:
    """Parse `OCMF|payload|signature[|public key]`.

    Raises OcmfError, with what is wrong and where, for anything malformed.
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
    payload_text, signature_text = sections[1], sections[2]
    embedded_key = sections[3].strip() if len(sections) == 4 else None
    if embedded_key == "":
        raise OcmfError("public key section (after the third '|') is empty")
    try:
        payload = _payload(_json_object(payload_text, "payload"))
        signature = _signature(_json_object(signature_text, "signature"))
    except RecursionError:
        raise OcmfError("record is nested too deeply") from None
    return OcmfRecord(
        text=record,
        payload_text=payload_text,
        signature_text=signature_text,
        payload=payload,
        signature=signature,
        embedded_public_key=embedded_key,
    )


def _json_object(text: str, where: str) -> dict[str, Any]:
    try:
        value = json.loads(
            text,
            parse_float=_Number,
            parse_int=_Number,
            parse_constant=_reject_constant,
            object_pairs_hook=_unique_keys,
        )
    except json.JSONDecodeError as err:
        raise OcmfError(
            f"{where} section is not valid JSON: {err.msg} at character {err.pos + 1}"
        ) from None
    except _BadJsonError as err:
        raise OcmfError(f"{where} section: {err}") from None
    if not isinstance(value, dict):
        raise OcmfError(f"{where} section is not a JSON object")
    if _SURROGATE_ESCAPE.search(text) and not _encodable(value):
        raise OcmfError(
            f"{where} section escapes a lone UTF-16 surrogate (\\uD800-DFFF)"
        )
    return value


def _encodable(value: Any) -> bool:
    """Tell whether every string in parsed JSON can be written as UTF-8."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
    return True


def _reject_constant(name: str) -> Any:
    raise _BadJsonError(f"{name} is not a JSON number")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Two values under one key would let a reader show another value than a verifier.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _BadJsonError(f"key {_quote(key)} appears twice")
        result[key] = value
    return result


def _payload(data: dict[str, Any]) -> OcmfPayload:
    pagination = _text(data, "PG", "payload")
    if pagination is None:
        raise OcmfError("payload PG (pagination) is missing")
    if not _PAGINATION.fullmatch(pagination):
        raise OcmfError(
            f"payload PG {_quote(pagination)} is not T or F followed by digits"
        )
    try:
        int(pagination[1:])
    except ValueError:
        raise OcmfError("payload PG has too many digits") from None
    return OcmfPayload(
        format_version=_text(data, "FV", "payload"),
        gateway_id=_text(data, "GI", "payload"),
        gateway_serial=_text(data, "GS", "payload"),
        gateway_version=_text(data, "GV", "payload"),
        pagination=pagination,
        meter_vendor=_text(data, "MV", "payload"),
        meter_model=_text(data, "MM", "payload"),
        meter_serial=_text(data, "MS", "payload"),
        meter_firmware=_text(data, "MF", "payload"),
        identification_status=_boolean(data, "IS", "payload"),
        identification_level=_text(data, "IL", "payload"),
        identification_flags=_text_list(data, "IF", "payload"),
        identification_type=_text(data, "IT", "payload"),
        identification_data=_text(data, "ID", "payload"),
        tariff_text=_text(data, "TT", "payload"),
        charge_controller_version=_text(data, "CF", "payload"),
        loss_compensation=_object(data, "LC", "payload"),
        charge_point_id_type=_text(data, "CT", "payload"),
        charge_point_id=_text(data, "CI", "payload"),
        readings=_readings(data.get("RD")),
        extra=_extra(data, _PAYLOAD_KEYS),
    )


def _readings(value: Any) -> tuple[OcmfReading, ...]:
    if value is None:
        raise OcmfError("payload RD (readings) is missing")
    if not isinstance(value, list):
        raise OcmfError(f"payload RD must be an array, not {_json_type(value)}")
    if not value:
        raise OcmfError("payload RD holds no reading")
    readings = []
    inherited: dict[str, Any] = {}
    for index, item in enumerate(value):
        where = f"payload RD[{index}]"
        if not isinstance(item, dict):
            raise OcmfError(f"{where} must be an object, not {_json_type(item)}")
        for key in _INHERITED:
            if item.get(key) is not None:
                inherited[key] = item[key]
        readings.append(_reading({**item, **inherited}, where))
    return tuple(readings)


def _reading(data: dict[str, Any], where: str) -> OcmfReading:
    time_text = _text(data, "TM", where)
    if time_text is None:
        raise OcmfError(f"{where} TM (time) is missing")
    time, status = _time(time_text, where)
    value, value_text = _number(data.get("RV"), "RV", where)
    cumulated_loss, _ = _number(data.get("CL"), "CL", where)
    return OcmfReading(
        time=time,
        time_status=status,
        reason=_text(data, "TX", where),
        value=value,
        value_text=value_text,
        obis=_text(data, "RI", where),
        unit=_text(data, "RU", where),
        current_type=_text(data, "RT", where),
        cumulated_loss=cumulated_loss,
        error_flags=_text(data, "EF", where) or "",
        status=_text(data, "ST", where),
        extra=_extra(data, _READING_KEYS),
    )


def _time(text: str, where: str) -> tuple[datetime, TimeStatus]:
    match = _TIME.fullmatch(text)
    if match is None:
        raise OcmfError(
            f"{where} TM {_quote(text)} is not of the form "
            "YYYY-MM-DDThh:mm:ss,fff+hhmm S"
        )
    year, month, day, hour, minute, second, fraction, offset, flag = match.groups()
    try:
        status = TimeStatus(flag)
    except ValueError:
        raise OcmfError(
            f"{where} TM time status {_quote(flag)} is not U, I, S or R"
        ) from None
    zone = UTC
    if offset != "Z":
        hours, minutes = int(offset[1:3]), int(offset[-2:])
        if hours > 23 or minutes > 59:
            raise OcmfError(f"{where} TM offset {_quote(offset)} is out of range")
        delta = timedelta(hours=hours, minutes=minutes)
        zone = timezone(-delta if offset[0] == "-" else delta)
    try:
        moment = datetime(
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
        raise OcmfError(f"{where} TM {_quote(text)} is not a valid date") from None
    return moment, status


def _number(value: Any, key: str, where: str) -> tuple[Decimal | None, str | None]:
    """Read a number written as JSON number or numeric string, keeping its text."""
    if value is None:
        return None, None
    if isinstance(value, _Number):
        literal = value.literal
    elif isinstance(value, str) and _NUMERIC_TEXT.fullmatch(value):
        literal = value
    elif isinstance(value, str):
        raise OcmfError(f"{where} {key} {_quote(value)} is not a number")
    else:
        raise OcmfError(f"{where} {key} must be a number, not {_json_type(value)}")
    try:
        return Decimal(literal.strip(" \t")), literal
    except InvalidOperation:
        raise OcmfError(f"{where} {key} {_quote(literal)} is out of range") from None


def _text(data: Mapping[str, Any], key: str, where: str) -> str | None:
    # A number stands for its literal text: field data has "FV":1.0 and "CT":0.
    return _as_text(data.get(key), f"{where} {key}")


def _as_text(value: Any, where: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, _Number):
        return value.literal
    raise OcmfError(f"{where} must be a string, not {_json_type(value)}")


def _text_list(data: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = data.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise OcmfError(f"{where} {key} must be an array, not {_json_type(value)}")
    items = []
    for index, item in enumerate(value):
        text = _as_text(item, f"{where} {key}[{index}]")
        if text is None:
            raise OcmfError(f"{where} {key}[{index}] must be a string, not null")
        items.append(text)
    return tuple(items)


def _boolean(data: Mapping[str, Any], key: str, where: str) -> bool | None:
    value = data.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise OcmfError(f"{where} {key} must be true or false, not {_json_type(value)}")


def _object(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any] | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise OcmfError(f"{where} {key} must be an object, not {_json_type(value)}")
    frozen: Mapping[str, Any] = _frozen(value, f"{where} {key}")
    return frozen


def _extra(data: Mapping[str, Any], known: frozenset[str]) -> Mapping[str, Any]:
    return MappingProxyType(
        {key: _frozen(value, key) for key, value in data.items() if key not in known}
    )


def _frozen(value: Any, where: str) -> Any:
    """Turn parsed JSON into read-only values; numbers become int or Decimal."""
    if isinstance(value, dict):
        return MappingProxyType({k: _frozen(v, where) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_frozen(item, where) for item in value)
    if isinstance(value, _Number):
        literal = value.literal
        try:
            if not any(mark in literal for mark in ".eE"):
                return int(literal)
            return Decimal(literal)
        except ValueError:  # more digits than int() converts
            return Decimal(literal)
        except InvalidOperation:
            raise OcmfError(f"{where}: number {literal[:40]} is out of range") from None
    return value


def _signature(data: dict[str, Any]) -> OcmfSignature:
    signed_data = _text(data, "SD", "signature")
    if signed_data is None:
        raise OcmfError("signature SD (signature data) is missing")
    # Only a missing (or null) SA, SE or SM means the default; "" is a value.
    given = {
        name: text
        for name, key in (("algorithm", "SA"), ("encoding", "SE"), ("mime_type", "SM"))
        if (text := _text(data, key, "signature")) is not None
    }
    return OcmfSignature(data=signed_data, extra=_extra(data, _SIGNATURE_KEYS), **given)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, _Number):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "null"
