"""Signed meter data in the Open Charge Metering Format (OCMF).

Parse a record leniently without losing the signed text (each deviation from
the specification becomes a finding), verify its ECDSA signature over the
payload bytes as sent the way the S.A.F.E. Transparenzsoftware does (plus the
key and signature shapes real meters send), tell whether the
Transparenzsoftware can check it, list calibration-law issues, and write the
Transparenzsoftware XML container. Standard library and `cryptography` only
(secp192k1 in pure Python); no Home Assistant.
"""

from __future__ import annotations

from .eichrecht import EichrechtIssue, eichrecht_issues
from .errors import MissingPublicKeyError, OcmfError
from .model import (
    OcmfFinding,
    OcmfPayload,
    OcmfReading,
    OcmfRecord,
    OcmfSignature,
    TimeStatus,
)
from .parser import parse, parse_signature
from .tps import TpsCompatibility, TpsIssue, tps_compatibility
from .transparency import TransparencyEntry, transparency_xml
from .verify import verify_signature

__all__ = [
    "EichrechtIssue",
    "MissingPublicKeyError",
    "OcmfError",
    "OcmfFinding",
    "OcmfPayload",
    "OcmfReading",
    "OcmfRecord",
    "OcmfSignature",
    "TimeStatus",
    "TpsCompatibility",
    "TpsIssue",
    "TransparencyEntry",
    "eichrecht_issues",
    "parse",
    "parse_signature",
    "tps_compatibility",
    "transparency_xml",
    "verify_signature",
]
