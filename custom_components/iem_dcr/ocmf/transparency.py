"""The XML container the S.A.F.E. Transparenzsoftware reads (ocmf.md 8).

    <values><value transactionId="7" context="Transaction.End">
      <signedData format="OCMF" encoding="plain">OCMF|...|...</signedData>
      <publicKey encoding="hex">3059...</publicKey>
    </value></values>

The OCMF text goes in character for character: no whitespace around it, and
"&", "<", ">" and carriage returns escaped so that any XML parser gives back the
exact signed text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
import re

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from .errors import OcmfError
from .keys import curve_for_algorithm, decode_hex_or_base64, load_public_key
from .model import OcmfRecord
from .parser import parse

_CONTEXT_BEGIN = "Transaction.Begin"
_CONTEXT_END = "Transaction.End"
# The Transparenzsoftware reads transactionId as an integer (JAXB BigInteger).
_TRANSACTION_ID = re.compile(r"[0-9]+")
_HEX = re.compile(r"[0-9A-Fa-f]+")
# Characters XML 1.0 cannot carry at all, not even as a character reference.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})


@dataclass(frozen=True)
class TransparencyEntry:
    """One signed record for the container, with the key that checks it.

    `public_key` may be "" when it is unknown: the user then pastes it.
    `transaction_id` pairs begin and end records of one transaction; the
    Transparenzsoftware needs decimal digits there.
    """

    ocmf: str
    public_key: str
    transaction_id: str | None = None


def transparency_xml(entries: Iterable[TransparencyEntry]) -> str:
    """Return the XML document (UTF-8 declared) holding `entries` in order.

    Raises OcmfError for an entry whose OCMF text does not parse or holds
    characters XML cannot carry, or whose transaction id is not decimal digits.
    """
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', "<values>"]
    for number, entry in enumerate(entries, start=1):
        try:
            lines.extend(_value_lines(entry))
        except OcmfError as err:
            raise OcmfError(f"entry {number}: {err}") from None
    lines.append("</values>")
    return "\n".join(lines) + "\n"


def _value_lines(entry: TransparencyEntry) -> list[str]:
    record = parse(entry.ocmf)
    if _NOT_XML.search(record.text):
        raise OcmfError("the OCMF text holds a character XML cannot carry")
    attributes = ""
    if entry.transaction_id is not None:
        if not _TRANSACTION_ID.fullmatch(entry.transaction_id):
            raise OcmfError("transaction id must be decimal digits")
        attributes += f' transactionId="{entry.transaction_id}"'
    context = _context(record)
    if context is not None:
        attributes += f' context="{context}"'
    lines = [
        f"  <value{attributes}>",
        (
            '    <signedData format="OCMF" encoding="plain">'
            f"{record.text.translate(_TEXT_ESCAPES)}</signedData>"
        ),
    ]
    key = _public_key(entry.public_key, record)
    if key is not None:
        encoding, text = key
        attribute = f' encoding="{encoding}"' if encoding else ""
        lines.append(
            f"    <publicKey{attribute}>{text.translate(_TEXT_ESCAPES)}</publicKey>"
        )
    lines.append("  </value>")
    return lines


def _context(record: OcmfRecord) -> str | None:
    # A record holding both begin and end needs no partner: no context then.
    begin, end = record.payload.begin, record.payload.end
    if begin is not None and end is None:
        return _CONTEXT_BEGIN
    if end is not None and begin is None:
        return _CONTEXT_END
    return None


def _public_key(text: str, record: OcmfRecord) -> tuple[str | None, str] | None:
    """Return (encoding, key text), or None when no key is known.

    A DER key is written as given (what the charger shows), without whitespace.
    A raw point or PEM, which the Transparenzsoftware cannot read, becomes DER
    hex. A key that cannot be read is still written: the signed data matters most.
    """
    compact = "".join(text.split())
    if not compact:
        return None
    if _NOT_XML.search(compact):
        raise OcmfError("the public key holds a character XML cannot carry")
    try:
        key = load_public_key(text, curve_for_algorithm(record.signature.algorithm))
    except OcmfError:
        key = None
    if key is not None and not _is_der(compact):
        der = key.public_bytes(
            serialization.Encoding.DER,
            serialization.PublicFormat.SubjectPublicKeyInfo,
        )
        return "hex", der.hex().upper()
    if len(compact) % 2 == 0 and _HEX.fullmatch(compact):
        return "hex", compact
    if decode_hex_or_base64(compact):
        return "base64", compact
    return None, compact


def _is_der(compact: str) -> bool:
    for data in decode_hex_or_base64(compact):
        try:
            serialization.load_der_public_key(data)
        except (ValueError, UnsupportedAlgorithm):
            continue
        return True
    return False
