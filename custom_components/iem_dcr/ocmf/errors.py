"""The one exception this package raises, and how its messages quote input."""

from __future__ import annotations


class OcmfError(ValueError):
    """An OCMF record, key or signature that cannot be read or checked."""


class MissingPublicKeyError(OcmfError):
    """A record to export without any public key (none given, none embedded).

    `entry` is the 1-based number of the entry in the export, once known.
    """

    def __init__(self, message: str, entry: int | None = None) -> None:
        """Keep the message and the entry it concerns."""
        super().__init__(message)
        self.entry = entry


def quoted(text: str) -> str:
    """Quote a value for an error message, cut short: messages end up in logs."""
    return repr(text if len(text) <= 40 else text[:37] + "...")
