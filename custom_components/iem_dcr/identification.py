"""The OCMF identification enumerations (OCMF spec tables 11 and 13 to 17)."""

from __future__ import annotations

from typing import Final

IDENTIFICATION_LEVELS: Final = (
    "NONE",
    "HEARSAY",
    "TRUSTED",
    "VERIFIED",
    "CERTIFIED",
    "SECURE",
    "MISMATCH",
    "INVALID",
    "OUTDATED",
    "UNKNOWN",
)

IDENTIFICATION_FLAGS: Final = (
    "RFID_NONE",
    "RFID_PLAIN",
    "RFID_RELATED",
    "RFID_PSK",
    "OCPP_NONE",
    "OCPP_RS",
    "OCPP_AUTH",
    "OCPP_RS_TLS",
    "OCPP_AUTH_TLS",
    "OCPP_CACHE",
    "OCPP_WHITELIST",
    "OCPP_CERTIFIED",
    "ISO15118_NONE",
    "ISO15118_PNC",
    "PLMN_NONE",
    "PLMN_RING",
    "PLMN_SMS",
)

# What the meter accepts in POST /user `IT` (the reference driver maps anything
# else to NONE).
IDENTIFICATION_TYPES: Final = (
    "NONE",
    "DENIED",
    "UNDEFINED",
    "ISO14443",
    "ISO15693",
    "EMAID",
    "EVCCID",
    "EVCOID",
    "ISO7812",
    "CARD_TXN_NR",
    "CENTRAL",
    "CENTRAL_1",
    "CENTRAL_2",
    "LOCAL",
    "LOCAL_1",
    "LOCAL_2",
    "PHONE_NUMBER",
    "KEY_CODE",
)


def default_identification_level(identification_data: str | None) -> str:
    """Return the OCMF `IL` for a start that names none.

    `NONE` (no user assigned) without identification data; `HEARSAY` (read, but
    not checked, e.g. a card UID) with it. Never `UNKNOWN`, the reference driver's
    choice: it is an error level, which the Transparenzsoftware reports.
    """
    return "HEARSAY" if identification_data else "NONE"
