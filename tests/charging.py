"""Real signed sessions for the HA-free tests: the simulator's meter and a ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric import ec

from custom_components.iem_dcr.ledger import Ledger, LedgerEntry
from iem_dcr_simulator import MeterState, UserIdentification

if TYPE_CHECKING:
    from pathlib import Path

BERLIN = ZoneInfo("Europe/Berlin")
METER_KEY = ec.derive_private_key(0x5E55_1015, ec.SECP256R1())
ALICE_CARD = "04A1B2C3D4E5F6"
JUERGEN_CARD = "04FFEEDDCCBBAA"
GUEST_CARD = "0433445566778899"
DRIVERS = {ALICE_CARD: "Alice", JUERGEN_CARD: "Jürgen Größe"}


@dataclass(frozen=True)
class StoredRecord:
    """Any object with a ledger entry's attributes (what sessions read)."""

    sequence: int
    recorded_at: datetime
    ocmf: str
    public_key: str
    signature_valid: bool | None


class Charger:
    """Charges on a simulated IEM-DCR; every signed tuple goes into a ledger."""

    def __init__(self, folder: Path, start: datetime) -> None:
        """Power up a meter whose clock is `now`, set to Berlin time."""
        self.now = start
        self.meter = MeterState(clock=lambda: self.now, private_key=METER_KEY)
        posted = start.astimezone(BERLIN).strftime("%Y-%m-%dT%H:%M:%S,000%z")
        self.meter.set_gateway("EVSEID", "DE*ABC*E123456*1", posted)
        self.ledger = Ledger(folder / "ledger.jsonl", fsync=False)
        self.ledger.load()

    @property
    def public_key(self) -> str:
        """Return the meter's public key (DER hex)."""
        return self.meter.public_key_hex

    @property
    def total_register(self) -> Decimal:
        """Return the import register as the meter's poll shows it (Wh resolution)."""
        return _as_polled(self.meter.energy_import_total)

    @property
    def transaction_register(self) -> Decimal:
        """Return the running transaction's import register, as polled."""
        return _as_polled(self.meter.energy_import_transaction)

    def begin(self, card: str | None, *, level: str = "VERIFIED") -> None:
        """Begin a transaction with an RFID card (or none)."""
        self.meter.stage_user(
            UserIdentification(
                identification_status=card is not None,
                identification_level=level,
                identification_flags=("RFID_PSK",) if card else (),
                identification_type="ISO14443" if card else "NONE",
                identification_data=card or "",
                show_user_id=False,
            )
        )
        self.meter.begin_transaction()

    def run(self, duration: timedelta, *, current: float = 16.0) -> None:
        """Let current flow at 400 V for `duration` (clock moves on)."""
        self.meter.set_measurements(voltage=400, current=current)
        self.now += duration
        self.meter.set_measurements(current=0)

    def end(self) -> LedgerEntry:
        """End the transaction and store its signed tuple."""
        ocmf = self.meter.end_transaction()
        return self.store(ocmf)

    def store(self, ocmf: str, *, signature_valid: bool | None = True) -> LedgerEntry:
        """Store a tuple in the ledger as the integration does."""
        result = self.ledger.append(
            meter_serial=self.meter.serial,
            pagination=f"T{self.meter.pagination}",
            ocmf=ocmf,
            public_key=self.public_key,
            signature_valid=signature_valid,
            reason="stopped",
            recorded_at=self.now,
        )
        return result.entry

    def charge(
        self,
        card: str | None,
        duration: timedelta,
        *,
        current: float = 16.0,
        level: str = "VERIFIED",
        pause: timedelta = timedelta(hours=20),
    ) -> LedgerEntry:
        """One whole session, then a pause before the next."""
        self.begin(card, level=level)
        self.run(duration, current=current)
        entry = self.end()
        self.now += pause
        return entry


def _as_polled(kwh: Decimal) -> Decimal:
    # /metervalue prints registers with three decimals, truncated like the meter.
    return kwh.quantize(Decimal("0.001"), rounding="ROUND_DOWN")


def entry_at(
    sequence: int,
    ocmf: str,
    *,
    recorded_at: datetime,
    public_key: str = "",
    signature_valid: bool | None = None,
) -> StoredRecord:
    """Return a stored record for a hand-made OCMF text."""
    return StoredRecord(sequence, recorded_at, ocmf, public_key, signature_valid)
