"""Write a sample statement (the README's picture) from simulator-made sessions.

A month of charging by two named drivers and a guest; the meter's price comes
from a price entity that changes during sessions, and Home Assistant is down
during one of them. Run from the repository root:

    ../shared/ci/py314 .venv/bin/python -m benchmarks.statement_sample OUT_FOLDER [de|en]
    pdftoppm -png -r 110 -f 1 -l 1 OUT_FOLDER/statement_*.pdf docs/images/statement
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
import sys
from zoneinfo import ZoneInfo

from custom_components.iem_dcr.ledger import Ledger
from custom_components.iem_dcr.pricing import CostAccumulator, RegisterKind, Tariff
from custom_components.iem_dcr.sessions import Session, build_sessions, settle
from custom_components.iem_dcr.statement import (
    LEGAL_BASIS_NOTE,
    MeterInfo,
    Period,
    StatementBundle,
    write_statement,
)
from iem_dcr_simulator import MeterState, UserIdentification

ZONE = ZoneInfo("Europe/Berlin")
CARDS = {"04A1B2C3D4E5F6": "Alice Schröder", "04FFEEDDCCBBAA": "Jürgen Größe"}
GUEST = "0433445566778899"
# A dynamic tariff: dearer in the evening.
DAY, EVENING = Decimal("0.2790"), Decimal("0.3460")


def price_at(moment: datetime) -> Decimal:
    """Return the price entity's value at `moment`."""
    return EVENING if 17 <= moment.astimezone(ZONE).hour < 21 else DAY


def polled(meter: MeterState) -> Decimal:
    """Return the transaction register as a poll shows it (Wh, truncated)."""
    return meter.energy_import_transaction.quantize(Decimal("0.001"), "ROUND_DOWN")


def sample_sessions(folder: Path) -> list[Session]:
    """Charge through November 2026 and price each session as it ends."""
    now = [datetime(2026, 11, 1, 15, 40, tzinfo=UTC)]
    meter = MeterState(clock=lambda: now[0])
    posted = now[0].astimezone(ZONE).strftime("%Y-%m-%dT%H:%M:%S,000%z")
    meter.set_gateway("EVSEID", "DE*ABC*E123456*1", posted)
    ledger = Ledger(folder / "sample-ledger.jsonl", fsync=False)
    ledger.load()
    tariff = Tariff(driver_prices={"Alice Schröder": Decimal("0.2650")})
    costs = {}
    cards = [*CARDS, GUEST]
    for day in range(24):
        card = cards[day % 3]
        meter.stage_user(
            UserIdentification(True, "VERIFIED", ("RFID_PSK",), "ISO14443", card, False)
        )
        meter.begin_transaction()
        # Polled once a minute here (a quick script); a minute is no gap then.
        accumulator = CostAccumulator(
            register_kind=RegisterKind.TRANSACTION,
            max_poll_interval=timedelta(minutes=2),
        )
        minutes = 50 + (day * 37) % 140
        down = day == 7  # Home Assistant restarts for an update
        meter.set_measurements(voltage=400, current=16 if day % 4 else 10)
        for minute in range(minutes):
            if not (down and 20 <= minute < 80):
                accumulator.add(now[0], polled(meter), price_at(now[0]))
            now[0] += timedelta(minutes=1)
        accumulator.add(now[0], polled(meter), price_at(now[0]))
        meter.set_measurements(current=0)
        ocmf = meter.end_transaction()
        entry = ledger.append(
            meter_serial=meter.serial,
            pagination=f"T{meter.pagination}",
            ocmf=ocmf,
            public_key=meter.public_key_hex,
            signature_valid=True,
            reason="stopped",
            recorded_at=now[0],
        ).entry
        (session,) = build_sessions([entry], resolve_driver=CARDS.get)
        costs[entry.sequence] = settle(
            session,
            tariff=tariff,
            accumulator=accumulator,
            finished_at=now[0],
            price_at_end=price_at(now[0]),
        )
        now[0] += timedelta(hours=30 - minutes / 60)
    sessions = build_sessions(ledger.entries(), resolve_driver=CARDS.get)
    return [replace(s, cost=costs[s.sequence]) for s in sessions]


def write_sample(folder: Path, language: str) -> StatementBundle:
    """Write the sample bundle into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    sessions = sample_sessions(folder)
    return write_statement(
        folder,
        sessions,
        meter=MeterInfo(
            "Isabellenhütte",
            "IEM-DCR-125-1000-32-00-006-B_000",
            sessions[0].meter_serial or "",
            sessions[0].public_key,
        ),
        period=Period.month(2026, 11, ZONE),
        currency="EUR",
        language=language,
        zone=ZONE,
        note=LEGAL_BASIS_NOTE[language],
        created_at=datetime(2026, 12, 1, 7, 30, tzinfo=UTC),
    )


if __name__ == "__main__":
    bundle = write_sample(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "de")
    print(bundle.pdf)
