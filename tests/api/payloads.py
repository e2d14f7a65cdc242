"""Device payloads from the API notes (docs/iem-dcr-api.md §4), as sent on the wire."""

from __future__ import annotations

import json
from typing import Any

GW_UNSET = '{"CT": "", "CI": "", "TM": "2024-12-16T19:00:22,000+0200 U"}'

METERVALUE = """{
  "MS": "1ISA0200000001",
  "TM": "2024-12-15T22:42:28,000+0200 U",
  "EF": "t",
  "ST": "G",
  "XT": false,
  "RD": [
    {"RV": "00000446.540", "RI": "1-b:1.8.e", "RU": "kWh", "RT": "DC"},
    {"RV": "00000004.881", "RI": "1-b:2.8.e", "RU": "kWh", "RT": "DC"},
    {"WV": "00000001.040", "WI": "transaction_1-b:1.8.e", "WU": "kWh", "WT": "DC"},
    {"WV": "00000002.503", "WI": "transaction_1-b:2.8.e", "WU": "kWh", "WT": "DC"}
  ],
  "U1": 1.089, "U2": 60.1, "U3": 0, "U4": 0,
  "I": 5, "P": 300,
  "XS": "0x0000004000000004",
  "XC": "0x0000, 0x00000000, 0x00, 0x00"
}"""

PUBLICKEY = """{"SA": "ECDSA-secp256r1-SHA256",
 "PK": "3059301306072a8648ce3d020106082a8648ce3d03010703420004A97A28BE22DEDF619A497288FFF217832B37E44B8B1F8918C48EB5FBF5CB8B5FBB717D32CD2211534D968CA4425B9FCBF5A93E60F2CE97BCD63F9CAD287F5E08"}"""

USER_FROM_EVSE_MANAGER = '{"IS":true,"IL":"UNKNOWN","IF":[],"IT":"ISO14443","ID":"04A1B2C3D4E5F6","US":false}'


def load(text: str) -> Any:
    """Decode a payload afresh, so a test can mutate its copy."""
    return json.loads(text)
