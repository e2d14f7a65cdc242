"""The XML container the S.A.F.E. Transparenzsoftware reads (ocmf.md 8).

    <values><value transactionId="7" context="Transaction.End">
      <signedData format="OCMF" encoding="plain">OCMF|...|...</signedData>
      <publicKey encoding="hex">3059...</publicKey>
    </value></values>

The OCMF text goes in character for character: no whitespace around it, and
"&", "<", ">" and carriage returns escaped so that any XML parser gives back the
exact signed text. Every record the meter signed is exported, also one whose
content cannot be read; each with a public key.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass
import json
import re

from .curves import curve_for_algorithm
from .errors import MissingPublicKeyError, OcmfError
from .keys import (
    KeyForm,
    PublicKey,
    canonical_der,
    decode_hex_or_base64,
    load_public_key,
    signature_value,
)
from .model import OcmfRecord, OcmfSignature
from .parser import OcmfSections, parse, parse_signature, split_sections
from .tps import SIGNATURE_SHAPES, signature_shape_issues
from .verify import matching_values

_CONTEXT_BEGIN = "Transaction.Begin"
_CONTEXT_END = "Transaction.End"
# The Transparenzsoftware reads transactionId as an integer (JAXB BigInteger).
_TRANSACTION_ID = re.compile(r"[0-9]+")
_HEX = re.compile(r"[0-9A-Fa-f]+")
# Characters XML 1.0 cannot carry at all, not even as a character reference.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
# JSON tokens of a signature section: strings, structure, and the rest.
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|\s+|[^"{}\[\]:,\s]+')


@dataclass(frozen=True)
class TransparencyEntry:
    """One signed record for the container, with the key that checks it.

    `public_key` may be "" when it is unknown: the key embedded in the record
    (a fourth `|` section) is used then. `transaction_id` pairs begin and end
    records of one transaction; the Transparenzsoftware needs decimal digits.
    """

    ocmf: str
    public_key: str = ""
    transaction_id: str | None = None


def transparency_xml(
    entries: Iterable[TransparencyEntry], *, canonical_signatures: bool = False
) -> str:
    """Return the XML document (UTF-8 declared) holding `entries` in order.

    With `canonical_signatures`, a signature the Transparenzsoftware 1.4.1
    cannot read (a DER INTEGER with a superfluous leading byte, raw r||s) is
    written as canonical DER of the same r and s, if it verifies with the
    entry's key. Only the unsigned signature section changes; the signed
    payload bytes stay as they are.

    A text that is not even split into OCMF sections goes in as it is. Raises
    OcmfError, naming the entry, for text that holds characters XML cannot
    carry, or a transaction id that is not decimal digits; MissingPublicKeyError
    for an entry without any public key.
    """
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', "<values>"]
    for number, entry in enumerate(entries, start=1):
        try:
            lines.extend(_value_lines(entry, canonical_signatures))
        except MissingPublicKeyError as err:
            raise MissingPublicKeyError(f"entry {number}: {err}", number) from None
        except OcmfError as err:
            raise OcmfError(f"entry {number}: {err}") from None
    lines.append("</values>")
    return "\n".join(lines) + "\n"


def _value_lines(entry: TransparencyEntry, canonical: bool) -> list[str]:
    try:
        sections: OcmfSections | None = split_sections(entry.ocmf)
    except OcmfError:
        # Not even its sections are there (cut off on the way): the text the
        # meter handed out is exported all the same, for a person to look at.
        sections = None
    text = sections.text if sections is not None else entry.ocmf.strip()
    if _NOT_XML.search(text):
        raise OcmfError("the OCMF text holds a character XML cannot carry")
    key_text = entry.public_key
    if not key_text.strip() and sections is not None:
        key_text = sections.embedded_public_key or ""
    if not key_text.strip():
        raise MissingPublicKeyError(
            "no public key: none is known for it and none is embedded in the record"
        )
    if _NOT_XML.search(key_text):
        raise OcmfError("the public key holds a character XML cannot carry")
    attributes = ""
    if entry.transaction_id is not None:
        if not _TRANSACTION_ID.fullmatch(entry.transaction_id):
            raise OcmfError("transaction id must be decimal digits")
        attributes += f' transactionId="{entry.transaction_id}"'
    context = _context(sections) if sections is not None else None
    if context is not None:
        attributes += f' context="{context}"'
    signature, key = (
        _signature_and_key(sections, key_text) if sections is not None else (None, None)
    )
    if canonical and sections is not None and signature is not None and key is not None:
        text = _with_canonical_signature(sections, signature, key)
    encoding, key_output = _key_output(key_text, key)
    encoding_attribute = f' encoding="{encoding}"' if encoding else ""
    return [
        f"  <value{attributes}>",
        (
            '    <signedData format="OCMF" encoding="plain">'
            f"{text.translate(_TEXT_ESCAPES)}</signedData>"
        ),
        (
            f"    <publicKey{encoding_attribute}>"
            f"{key_output.translate(_TEXT_ESCAPES)}</publicKey>"
        ),
        "  </value>",
    ]


def _context(sections: OcmfSections) -> str | None:
    # A record holding both begin and end needs no partner: no context then.
    try:
        record: OcmfRecord = parse(sections.text)
    except OcmfError:  # no payload object: the record still goes in, without context
        return None
    begin, end = record.payload.begin, record.payload.end
    if begin is not None and end is None:
        return _CONTEXT_BEGIN
    if end is not None and begin is None:
        return _CONTEXT_END
    return None


def _signature_and_key(
    sections: OcmfSections, key_text: str
) -> tuple[OcmfSignature | None, PublicKey | None]:
    """Return the signature and the key read on its curve, each None if unreadable."""
    try:
        signature = parse_signature(sections.signature_text)
    except OcmfError:
        return None, None
    try:
        return signature, load_public_key(
            key_text, curve_for_algorithm(signature.algorithm)
        )
    except OcmfError:
        return signature, None


def _with_canonical_signature(
    sections: OcmfSections, signature: OcmfSignature, key: PublicKey
) -> str:
    """Return the record with `SD` as canonical DER if the TPS cannot read it."""
    try:
        value = signature_value(signature, key.curve)
        matched = matching_values(sections.payload_text, key, value)
    except OcmfError:
        return sections.text
    if matched is None:  # a signature that does not verify is left as it came
        return sections.text
    issues = signature_shape_issues(value, matched)
    if not any(issue.code in SIGNATURE_SHAPES for issue in issues):
        return sections.text
    blob = canonical_der(*matched)
    if signature.encoding.strip().lower() == "base64":
        data = base64.b64encode(blob).decode("ascii")
    else:
        data = blob.hex().upper()
    signature_text = _replace_signature_data(sections.signature_text, data)
    parts = sections.text.split("|")
    parts[2] = signature_text
    return "|".join(parts)


def _replace_signature_data(text: str, data: str) -> str:
    """Put `data` in place of the value of the (last) top-level `SD` key.

    Everything else in the section stays as written; without an `SD` key at
    the top level, the section comes back unchanged.
    """
    span: tuple[int, int] | None = None
    depth = 0
    tokens = [match for match in _JSON_TOKEN.finditer(text) if match.group().strip()]
    for index, token in enumerate(tokens):
        value = token.group()
        if value in "{[":
            depth += 1
        elif value in "}]":
            depth -= 1
        elif (
            depth == 1
            and value.startswith('"')
            and index + 2 < len(tokens)
            and tokens[index + 1].group() == ":"
            and tokens[index + 2].group() not in "{}[]:,"
            and json.loads(value) == "SD"
        ):
            span = tokens[index + 2].span()
    if span is None:
        return text
    return text[: span[0]] + json.dumps(data) + text[span[1] :]


def _key_output(text: str, key: PublicKey | None) -> tuple[str | None, str]:
    """Return (encoding, key text) for `publicKey`.

    A DER key is written as given (what the charger shows), without whitespace.
    A raw point or PEM, which the Transparenzsoftware cannot read, becomes DER
    hex. A key that cannot be read is still written: the signed data matters most.
    """
    compact = "".join(text.split())
    if key is not None and key.form is not KeyForm.DER:
        return "hex", key.der().hex().upper()
    if len(compact) % 2 == 0 and _HEX.fullmatch(compact):
        return "hex", compact
    if decode_hex_or_base64(compact):
        return "base64", compact
    return None, compact
