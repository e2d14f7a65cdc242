"""Check an OCMF signature: ECDSA over SHA-256 of the payload exactly as sent."""

from __future__ import annotations

from dataclasses import dataclass
import hashlib

from .curves import curve_for_algorithm
from .errors import OcmfError
from .keys import PublicKey, SignatureValue, load_public_key, signature_value
from .model import OcmfRecord, OcmfSignature
from .parser import parse_signature, split_sections


@dataclass(frozen=True)
class SignatureCheck:
    """The outcome of checking a signature, and which reading of `SD` matched."""

    valid: bool
    key: PublicKey
    value: SignatureValue
    matched: tuple[int, int] | None


def verify_signature(record: OcmfRecord | str, public_key: str | None = None) -> bool:
    """Return whether the record's signature matches `public_key`.

    Only the payload bytes as sent (between the first and the second `|`) and
    the signature section count: the payload's content is never read, so a
    payload that is odd, or no JSON at all, still gets an answer. Without
    `public_key`, the key embedded as a fourth section is used; a given key
    always wins, because an embedded key travels with the data it vouches for.
    Returns False for a signature that does not match; raises OcmfError only
    when no check is possible: no or undecodable `SD`, unknown `SA`, no or an
    unreadable key, a key on another curve than `SA` names.
    """
    return check_signature(record, public_key).valid


def check_signature(
    record: OcmfRecord | str, public_key: str | None = None
) -> SignatureCheck:
    """Check like `verify_signature`, and tell which reading of `SD` matched."""
    payload_text, signature, embedded_key = _signed_parts(record)
    key_text = public_key if public_key is not None else embedded_key
    if key_text is None:
        raise OcmfError("no public key given and none embedded in the record")
    curve = curve_for_algorithm(signature.algorithm)
    key = load_public_key(key_text, curve)
    value = signature_value(signature, curve)
    matched = matching_values(payload_text, key, value)
    return SignatureCheck(
        valid=matched is not None, key=key, value=value, matched=matched
    )


def matching_values(
    payload_text: str, key: PublicKey, value: SignatureValue
) -> tuple[int, int] | None:
    """Return the reading (r, s) of `SD` that signs the payload, None if none does."""
    try:
        signed = payload_text.encode("utf-8")
    except UnicodeEncodeError:
        raise OcmfError("payload is not valid Unicode") from None
    digest = hashlib.sha256(signed).digest()
    for r, s in value.candidates():
        if key.verify(r, s, digest):
            return r, s
    return None


def _signed_parts(
    record: OcmfRecord | str,
) -> tuple[str, OcmfSignature, str | None]:
    """Return the payload text, the signature and the embedded key of a record."""
    if isinstance(record, str):
        sections = split_sections(record)
        return (
            sections.payload_text,
            parse_signature(sections.signature_text),
            sections.embedded_public_key,
        )
    if not isinstance(record, OcmfRecord):
        raise OcmfError(f"expected an OCMF record, not {type(record).__name__}")
    # A record whose signature could not be read: say why, from its own text.
    signature = record.signature or parse_signature(record.signature_text)
    return record.payload_text, signature, record.embedded_public_key
