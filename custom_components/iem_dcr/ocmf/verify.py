"""Check an OCMF signature: ECDSA over SHA-256 of the payload exactly as sent."""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    Prehashed,
    encode_dss_signature,
)

from .errors import OcmfError
from .keys import curve_for_algorithm, load_public_key, signature_values
from .model import OcmfRecord
from .parser import parse

_PREHASHED_SHA256 = ec.ECDSA(Prehashed(hashes.SHA256()))


def verify_signature(record: OcmfRecord | str, public_key: str | None = None) -> bool:
    """Return whether the record's signature matches `public_key`.

    Without `public_key`, the key embedded as a fourth section is used; a given
    key always wins, because an embedded key travels with the data it vouches
    for. Returns False for a signature that does not match; raises OcmfError
    only when no check is possible (unknown algorithm, unreadable key or
    signature encoding, key on another curve than `SA` names).
    """
    if isinstance(record, str):
        record = parse(record)
    elif not isinstance(record, OcmfRecord):
        raise OcmfError(f"expected an OCMF record, not {type(record).__name__}")
    key_text = public_key if public_key is not None else record.embedded_public_key
    if key_text is None:
        raise OcmfError("no public key given and none embedded in the record")
    curve = curve_for_algorithm(record.signature.algorithm)
    key = load_public_key(key_text, curve)
    candidates = signature_values(record.signature, curve)
    try:
        signed = record.payload_text.encode("utf-8")
    except UnicodeEncodeError:
        raise OcmfError("payload is not valid Unicode") from None
    digest = hashlib.sha256(signed).digest()
    bound = 1 << curve.key_size
    for r, s in candidates:
        if not (0 < r < bound and 0 < s < bound):
            continue
        try:
            key.verify(encode_dss_signature(r, s), digest, _PREHASHED_SHA256)
        except InvalidSignature:
            continue
        return True
    return False
