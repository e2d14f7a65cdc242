"""Build OCMF records exactly as the IEM-DCR emits them.

Key order, compact separators and raw UTF-8 are part of the signed bytes, so the
payload is produced here once and never re-serialised afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
import json

from .signing import SIGNATURE_ALGORITHM

# Identity of the device behind the EVerest fixture (firmware DU-02.00.12_SU-02.00.08).
FORMAT_VERSION = "1.0"
GATEWAY_IDENTIFICATION = "Isabellenhuette IEM-DCR-125-1000-32-00-006-B_000"
GATEWAY_VERSION = "DU-02.00.12_SU-02.00.08"
METER_VENDOR = "Isabellenhuette"
METER_MODEL = "IEM-DCR-125-1000-32-00-006-B_000"
IMPORT_REGISTER_OBIS = "1-b:1.8.e"


@dataclass(frozen=True, slots=True)
class Reading:
    """One RD entry: the import register at a transaction boundary."""

    time: str  # TM, e.g. "2025-06-06T09:26:24,000+0200 I"
    reason: str  # TX: "B" or "E"
    error_flags: str  # EF: "" or "t"
    status: str  # ST: "G"
    import_register: str  # RV, zero-padded kWh string


@dataclass(frozen=True, slots=True)
class RecordContent:
    """Everything that varies between two records of one meter."""

    serial: str
    charge_point_id_type: str
    charge_point_id: str
    identification_status: bool
    identification_level: str
    identification_flags: tuple[str, ...]
    identification_type: str
    identification_data: str
    pagination: int
    tariff_text: str
    readings: tuple[Reading, ...]


def payload_text(content: RecordContent) -> str:
    """Build the payload section: compact JSON, keys in the meter's order, raw UTF-8."""
    payload = {
        "FV": FORMAT_VERSION,
        "GI": GATEWAY_IDENTIFICATION,
        "GS": content.serial,
        "GV": GATEWAY_VERSION,
        "MV": METER_VENDOR,
        "MM": METER_MODEL,
        "MS": content.serial,
        "CT": content.charge_point_id_type,
        "CI": content.charge_point_id,
        "IS": content.identification_status,
        "IL": content.identification_level,
        "IF": list(content.identification_flags),
        "IT": content.identification_type,
        "ID": content.identification_data,
        "PG": f"T{content.pagination}",
        "TT": content.tariff_text,
        "RD": [
            {
                "TM": reading.time,
                "TX": reading.reason,
                "EF": reading.error_flags,
                "ST": reading.status,
                "RV": reading.import_register,
                "RI": IMPORT_REGISTER_OBIS,
                "RU": "kWh",
                "RT": "DC",
            }
            for reading in content.readings
        ],
    }
    return _compact_json(payload)


def record_text(payload: str, signature_hex: str) -> str:
    """Join header, payload and signature section into `OCMF|payload|signature`."""
    signature = _compact_json({"SA": SIGNATURE_ALGORITHM, "SD": signature_hex})
    return f"OCMF|{payload}|{signature}"


def _compact_json(document: object) -> str:
    # Same shape as nlohmann::ordered_json::dump(): no spaces, non-ASCII unescaped.
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)
