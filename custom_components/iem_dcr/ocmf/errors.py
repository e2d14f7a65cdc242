"""The one exception this package raises, and how its messages quote input."""

from __future__ import annotations


class OcmfError(ValueError):
    """An OCMF record, key or signature that cannot be read or checked."""


def quoted(text: str) -> str:
    """Quote a value for an error message, cut short: messages end up in logs."""
    return repr(text if len(text) <= 40 else text[:37] + "...")
