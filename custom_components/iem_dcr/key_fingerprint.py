"""A short, comparable fingerprint of the meter's public key.

The first 16 hex digits of the SHA-256 of the key's DER SubjectPublicKeyInfo, in
groups of four (`3A7F 09C2 1B44 E0D5`). The key is read whatever shape the meter
sends (hex in any case, base64, PEM, a raw point) and re-encoded as DER first, so
the same key always gives the same fingerprint. No Home Assistant imports.
"""

from __future__ import annotations

from functools import lru_cache
import hashlib

from .ocmf import OcmfError
from .ocmf.curves import curve_for_algorithm
from .ocmf.keys import load_public_key

FINGERPRINT_DIGITS = 16
GROUP = 4


# The sensor asks on every state write; the key rarely changes.
@lru_cache(maxsize=8)
def key_fingerprint(key: str, algorithm: str) -> str | None:
    """Return the fingerprint of a public key, or None when the key is unreadable."""
    try:
        public_key = load_public_key(key, curve_for_algorithm(algorithm))
    except OcmfError:
        return None
    der = public_key.der()
    digits = hashlib.sha256(der).hexdigest()[:FINGERPRINT_DIGITS].upper()
    return " ".join(
        digits[start : start + GROUP] for start in range(0, len(digits), GROUP)
    )
