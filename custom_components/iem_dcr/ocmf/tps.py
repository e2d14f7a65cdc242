"""Whether the S.A.F.E. Transparenzsoftware 1.4.1 can check a record as it is.

This package verifies more shapes than the Transparenzsoftware (TPS) reads
(ocmf.md 0.2, 8). A customer checks a bill with the TPS, so every record it
would refuse although it verifies here is flagged, with the reason:

- a DER INTEGER with a superfluous leading byte: BouncyCastle 1.72 refuses
  `00` followed by a byte below 0x80 (measured), and by the same rule
  (`ASN1Integer.isMalformed`) `FF` followed by a byte from 0x80. The IEM-DCR's
  fixed-width encoding gives the first when r or s is below 2^247 and the
  second when it is at least 2^256 - 2^247;
- a raw r||s signature, or no readable signature at all;
- a public key that is no DER SubjectPublicKeyInfo (raw point, PEM);
- a format version (FV) it has no reader for (it reads 0.1 to 1.3), or none;
- a key written twice at the top of the payload (Gson reads it into a map
  that refuses duplicates).

The export can rewrite the signature section of a record with a superfluous
INTEGER byte or a raw r||s signature as canonical DER of the same r and s
(see `transparency_xml`); it always writes the key as DER.
"""

from __future__ import annotations

from dataclasses import dataclass
import re

from .curves import curve_for_algorithm
from .errors import OcmfError, quoted
from .json_reader import DUPLICATE_KEY as _JSON_DUPLICATE_KEY, read_json
from .keys import KeyForm, SignatureValue, load_public_key, signature_value
from .model import OcmfRecord
from .parser import parse, parse_signature
from .verify import matching_values

SUPERFLUOUS_ZERO = "superfluous_zero"
SUPERFLUOUS_FF = "superfluous_ff"
RAW_SIGNATURE = "raw_signature"
SIGNATURE_UNREADABLE = "signature_unreadable"
KEY_NOT_DER = "public_key_not_der"
FORMAT_VERSION = "format_version"
DUPLICATE_KEY = "duplicate_key"
PAYLOAD_UNREADABLE = "payload_unreadable"
# What a canonical DER re-encoding of the signature repairs.
SIGNATURE_SHAPES = frozenset({SUPERFLUOUS_ZERO, SUPERFLUOUS_FF, RAW_SIGNATURE})

_NEWEST_READABLE_VERSION = 1.3
_OLDEST_READABLE_VERSION = 0.1
_VERSION = re.compile(r"[ \t]*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


@dataclass(frozen=True)
class TpsIssue:
    """One reason why the Transparenzsoftware cannot check the record."""

    code: str
    message: str


@dataclass(frozen=True)
class TpsCompatibility:
    """Whether the Transparenzsoftware 1.4.1 can check a record, and if not why."""

    issues: tuple[TpsIssue, ...]

    @property
    def compatible(self) -> bool:
        """Return True when nothing keeps the Transparenzsoftware from checking it."""
        return not self.issues

    @property
    def reason(self) -> str | None:
        """Return every reason in one sentence, or None when compatible."""
        if not self.issues:
            return None
        return "; ".join(issue.message for issue in self.issues)


def tps_compatibility(
    record: OcmfRecord | str, public_key: str | None = None
) -> TpsCompatibility:
    """Tell whether the Transparenzsoftware 1.4.1 can check `record` with this key.

    Without a key (none given, none embedded) only the record is judged. A key
    or signature that cannot be read at all is reported too: the
    Transparenzsoftware cannot read it either.
    """
    if isinstance(record, str):
        try:
            record = parse(record)
        except OcmfError as err:
            return TpsCompatibility(
                (TpsIssue(PAYLOAD_UNREADABLE, f"the record cannot be read: {err}"),)
            )
    issues = [*_payload_issues(record), *_signature_issues(record, public_key)]
    return TpsCompatibility(tuple(issues))


def _payload_issues(record: OcmfRecord) -> list[TpsIssue]:
    issues = []
    version = record.payload.format_version
    if version is None:
        issues.append(
            TpsIssue(
                FORMAT_VERSION,
                "the payload has no format version (FV), which the "
                "Transparenzsoftware 1.4.1 requires",
            )
        )
    elif not (
        _VERSION.fullmatch(version.rstrip(" \t"))
        and _OLDEST_READABLE_VERSION <= float(version) <= _NEWEST_READABLE_VERSION
    ):
        issues.append(
            TpsIssue(
                FORMAT_VERSION,
                f"the format version (FV) {quoted(version)} is not one the "
                "Transparenzsoftware 1.4.1 reads (0.1 to 1.3)",
            )
        )
    _, deviations = read_json(record.payload_text)
    # Gson reads the payload's top level into a map that refuses a second key.
    if any(d.code == _JSON_DUPLICATE_KEY and not d.path for d in deviations):
        issues.append(
            TpsIssue(
                DUPLICATE_KEY,
                "a key appears twice in the payload, which the Transparenzsoftware "
                "refuses to read",
            )
        )
    return issues


def _signature_issues(record: OcmfRecord, public_key: str | None) -> list[TpsIssue]:
    key_text = public_key if public_key is not None else record.embedded_public_key
    try:
        signature = record.signature or parse_signature(record.signature_text)
        curve = curve_for_algorithm(signature.algorithm)
        value = signature_value(signature, curve)
    except OcmfError as err:
        return [TpsIssue(SIGNATURE_UNREADABLE, f"the signature cannot be read: {err}")]
    issues = []
    matched: tuple[int, int] | None = None
    if key_text is not None and key_text.strip():
        try:
            key = load_public_key(key_text, curve)
        except OcmfError as err:
            issues.append(
                TpsIssue(KEY_NOT_DER, f"the public key cannot be read: {err}")
            )
        else:
            if key.form is not KeyForm.DER:
                issues.append(_key_form_issue(key.form))
            matched = matching_values(record.payload_text, key, value)
    issues.extend(signature_shape_issues(value, matched))
    return issues


def _key_form_issue(form: KeyForm) -> TpsIssue:
    shape = "a raw point" if form is KeyForm.RAW_POINT else "PEM text"
    return TpsIssue(
        KEY_NOT_DER,
        f"the public key is {shape}, not the DER SubjectPublicKeyInfo (hex or "
        "base64) the Transparenzsoftware reads (the export writes it as DER)",
    )


def signature_shape_issues(
    value: SignatureValue, matched: tuple[int, int] | None
) -> list[TpsIssue]:
    """Return why the TPS cannot read `SD`; `matched` is the reading that verified."""
    # The DER reading counts unless only the raw reading matched the key.
    if value.der is None or (matched is not None and matched != value.der):
        if value.raw is None:
            return [
                TpsIssue(
                    SIGNATURE_UNREADABLE,
                    "the signature data (SD) is neither DER nor raw r||s",
                )
            ]
        return [
            TpsIssue(
                RAW_SIGNATURE,
                "the signature is raw r||s, not the DER the Transparenzsoftware "
                "reads (the export can write it as canonical DER)",
            )
        ]
    assert value.der_integers is not None
    issues = []
    for name, content in zip("rs", value.der_integers, strict=True):
        if len(content) < 2:
            continue
        if content[0] == 0x00 and content[1] < 0x80:
            issues.append(
                TpsIssue(
                    SUPERFLUOUS_ZERO,
                    f"the signature's INTEGER {name} starts with a superfluous 00 "
                    "byte, which the Transparenzsoftware 1.4.1 (BouncyCastle) "
                    "refuses (the export can write canonical DER)",
                )
            )
        elif content[0] == 0xFF and content[1] >= 0x80:
            issues.append(
                TpsIssue(
                    SUPERFLUOUS_FF,
                    f"the signature's INTEGER {name} starts with a superfluous FF "
                    "byte, which the Transparenzsoftware 1.4.1 (BouncyCastle) "
                    "refuses (the export can write canonical DER)",
                )
            )
    return issues
