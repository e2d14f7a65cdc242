"""An independent OCMF signature check for the simulator tests.

Written from the OCMF spec and the API notes, not from the simulator: the payload is
the text between the first and second "|", the signature is DER with both INTEGERs
read as unsigned (the IEM-DCR omits the sign padding).
"""

from __future__ import annotations

import json

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def read_unsigned_der_signature(signature: bytes) -> tuple[int, int]:
    """Return (r, s) from `30 len 02 len r 02 len s`, INTEGERs taken as unsigned."""
    if len(signature) < 2 or signature[0] != 0x30 or signature[1] >= 0x80:
        raise ValueError("not a short-form DER SEQUENCE")
    if signature[1] != len(signature) - 2:
        raise ValueError("SEQUENCE length does not match")
    integers = []
    position = 2
    while position < len(signature):
        if signature[position] != 0x02 or position + 1 >= len(signature):
            raise ValueError("expected an INTEGER")
        length = signature[position + 1]
        start = position + 2
        if length == 0 or start + length > len(signature):
            raise ValueError("bad INTEGER length")
        integers.append(int.from_bytes(signature[start : start + length], "big"))
        position = start + length
    if len(integers) != 2:
        raise ValueError("expected exactly two INTEGERs")
    return integers[0], integers[1]


def split_record(record: str) -> tuple[str, dict[str, object]]:
    """Return the payload text (verbatim) and the parsed signature section."""
    header, payload, signature = record.split("|")
    if header != "OCMF":
        raise ValueError("not an OCMF record")
    return payload, json.loads(signature)


def signature_verifies(record: str, public_key_hex: str) -> bool:
    """Check the record's ECDSA-P256-SHA256 signature against a hex DER SPKI key."""
    payload, signature = split_record(record)
    key = serialization.load_der_public_key(bytes.fromhex(public_key_hex))
    assert isinstance(key, ec.EllipticCurvePublicKey)
    assert isinstance(key.curve, ec.SECP256R1)
    r, s = read_unsigned_der_signature(bytes.fromhex(str(signature["SD"])))
    try:
        key.verify(
            encode_dss_signature(r, s),
            payload.encode("utf-8"),
            ec.ECDSA(hashes.SHA256()),
        )
    except InvalidSignature:
        return False
    return True
