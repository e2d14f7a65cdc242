"""The simulator's state file: a second run continues where the first stopped.

Kept: the energy registers, the pagination counter, the issued tuples and the key, the
things a real meter keeps across power cycles. Written atomically (a temporary file beside
it, then a rename) so a crash never leaves half a file.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
import json
import os
from pathlib import Path
import tempfile
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

if TYPE_CHECKING:
    from .state import MeterState

FORMAT = "iem_dcr_simulator state 1"


class StateFileError(Exception):
    """The state file cannot be read; the message says which file and what to do."""


@dataclass(frozen=True, slots=True)
class SavedState:
    """What a state file holds."""

    private_key: ec.EllipticCurvePrivateKey
    import_kwh: Decimal
    export_kwh: Decimal
    pagination: int
    issued: tuple[str, ...]


def snapshot(state: MeterState) -> dict[str, Any]:
    """Return the state file's content for `state`."""
    pem = state.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return {
        "format": FORMAT,
        "energy_import_total_kwh": str(state.energy_import_total),
        "energy_export_total_kwh": str(state.energy_export_total),
        "pagination": state.pagination,
        "issued": list(state.issued),
        "private_key_pem": pem.decode("ascii"),
    }


def save(path: Path, state: MeterState) -> None:
    """Write `state` to `path` atomically (mode 0600: it holds the key)."""
    text = json.dumps(snapshot(state), indent=1)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load(path: Path) -> SavedState | None:
    """Read `path`; None if it does not exist yet."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        return _parse(text)
    except (ValueError, KeyError, TypeError, AttributeError, InvalidOperation) as err:
        raise StateFileError(
            f"{path} is not a readable simulator state file ({err}); "
            "move it away or delete it to start with a fresh meter"
        ) from err


def _parse(text: str) -> SavedState:
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError("not a simulator state file")
    key = serialization.load_pem_private_key(
        data["private_key_pem"].encode("ascii"), password=None
    )
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TypeError("the key is no EC key")
    pagination = data["pagination"]
    issued = data["issued"]
    if not isinstance(pagination, int) or pagination < 0:
        raise ValueError("pagination must be a counter")
    if not isinstance(issued, list) or not all(isinstance(t, str) for t in issued):
        raise TypeError("issued must be a list of tuples")
    return SavedState(
        private_key=key,
        import_kwh=Decimal(data["energy_import_total_kwh"]),
        export_kwh=Decimal(data["energy_export_total_kwh"]),
        pagination=pagination,
        issued=tuple(issued),
    )


def restore(saved: SavedState, state: MeterState) -> None:
    """Continue `state` (created with `saved.private_key`) from `saved`."""
    state.add_energy(import_kwh=saved.import_kwh, export_kwh=saved.export_kwh)
    state.pagination = saved.pagination
    state.issued[:] = saved.issued
    state.last_ocmf = saved.issued[-1] if saved.issued else None
