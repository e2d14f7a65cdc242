"""Signed meter data in the Open Charge Metering Format (OCMF).

Parse a record without losing the signed text, verify its ECDSA signature the
way the S.A.F.E. Transparenzsoftware does (plus the key and signature shapes
real meters send), list calibration-law issues, and write the Transparenzsoftware
XML container. Standard library and `cryptography` only; no Home Assistant.
"""

from __future__ import annotations

from .eichrecht import EichrechtIssue, eichrecht_issues
from .errors import OcmfError
from .model import OcmfPayload, OcmfReading, OcmfRecord, OcmfSignature, TimeStatus
from .parser import parse
from .transparency import TransparencyEntry, transparency_xml
from .verify import verify_signature

__all__ = [
    "EichrechtIssue",
    "OcmfError",
    "OcmfPayload",
    "OcmfReading",
    "OcmfRecord",
    "OcmfSignature",
    "TimeStatus",
    "TransparencyEntry",
    "eichrecht_issues",
    "parse",
    "transparency_xml",
    "verify_signature",
]
