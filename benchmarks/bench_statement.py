"""Time and peak memory of a statement: a month of 100 sessions, a year of 1,500.

The sessions are real signed tuples from the simulator's meter (MeterState),
stored in a ledger on disk, read back and priced, as Home Assistant will do.

Run from the repository root:
    ../shared/ci/py314 .venv/bin/python -m benchmarks.bench_statement
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
import tempfile
import time
import tracemalloc
from zoneinfo import ZoneInfo

from custom_components.iem_dcr.ledger import Ledger
from custom_components.iem_dcr.pricing import Tariff
from custom_components.iem_dcr.sessions import Session, SessionIndex, build_sessions
from custom_components.iem_dcr.statement import (
    LEGAL_BASIS_NOTE,
    MeterInfo,
    Period,
    StatementBundle,
    write_statement,
)
from iem_dcr_simulator import MeterState, UserIdentification

ZONE = ZoneInfo("Europe/Berlin")
CARDS = {"04A1B2C3D4E5F6": "Jürgen Größe", "04FFEEDDCCBBAA": "Şahin Ağaoğlu"}
UIDS = (*CARDS, "0433445566778899")


def signed_ledger(
    ledger_path: Path, count: int, start: datetime, span: timedelta
) -> Ledger:
    """Charge `count` times, spread evenly over `span` from `start`."""
    now = [start]
    meter = MeterState(clock=lambda: now[0])
    meter.set_gateway("EVSEID", "DE*ABC*E123*1", _posted(now[0]))
    ledger = Ledger(ledger_path, fsync=False)
    ledger.load()
    step = span / count
    for number in range(count):
        meter.stage_user(
            UserIdentification(
                True, "VERIFIED", ("RFID_PSK",), "ISO14443", UIDS[number % 3], False
            )
        )
        meter.begin_transaction()
        meter.set_measurements(voltage=400, current=16)
        now[0] += timedelta(minutes=30 + number % 90)
        meter.set_measurements(current=0)
        ocmf = meter.end_transaction()
        ledger.append(
            meter_serial=meter.serial,
            pagination=f"T{meter.pagination}",
            ocmf=ocmf,
            public_key=meter.public_key_hex,
            signature_valid=True,
            reason="stopped",
            recorded_at=now[0],
        )
        now[0] = start + step * (number + 1)
    ledger.load()
    return ledger


def sessions_of(ledger: Ledger) -> list[Session]:
    """Read the ledger into priced sessions."""
    return build_sessions(
        ledger.entries(),
        resolve_driver=CARDS.get,
        tariff=Tariff(Decimal("0.3175"), {"Şahin Ağaoğlu": Decimal("0.29")}),
    )


def measure(action: Callable[[], object], runs: int = 3) -> tuple[float, float]:
    """Return the best wall time of `runs` (s, untraced) and peak traced memory (MiB).

    The best run, because other work on a shared machine only ever adds time.
    """
    elapsed = float("inf")
    for _ in range(runs):
        begin = time.perf_counter()
        action()
        elapsed = min(elapsed, time.perf_counter() - begin)
    tracemalloc.start()
    action()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return elapsed, peak / 2**20


def main() -> None:
    """Print the numbers."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        january = datetime(2026, 1, 1, 6, tzinfo=ZONE)
        november = datetime(2026, 11, 1, 6, tzinfo=ZONE)
        cases = (
            ("a month, 100 sessions", 100, november, Period.month(2026, 11, ZONE)),
            (
                "a year, 1,500 sessions",
                1500,
                january,
                Period.days(january.date(), date(2026, 12, 31), ZONE),
            ),
        )
        for name, count, start, period in cases:
            span = period.end - start - timedelta(hours=12)
            sessions = sessions_of(
                signed_ledger(root / f"{count}.jsonl", count, start, span)
            )
            meter = MeterInfo(
                "Isabellenhütte", "IEM-DCR", "1ISA0200001132", sessions[0].public_key
            )
            bundle = _statement(root / name, sessions, meter, period)
            seconds, mebibytes = measure(
                partial(_statement, root / "again", sessions, meter, period)
            )
            pages = bundle.pdf.read_bytes().count(b"/Type /Page\n")
            print(
                f"{name:23} {bundle.totals.sessions:5} rows, {pages:3} pages: "
                f"{seconds * 1000:6.0f} ms, peak {mebibytes:5.1f} MiB, PDF "
                f"{bundle.pdf.stat().st_size / 1024:4.0f} KiB"
            )

        ledger = signed_ledger(
            root / "ten-years.jsonl", 3650, january, timedelta(days=3650)
        )
        seconds, mebibytes = measure(lambda: sessions_of(ledger))
        sessions = sessions_of(ledger)
        print(
            f"3,650 sessions (ten years, daily) from the ledger: {seconds * 1000:.0f} "
            f"ms, peak {mebibytes:.1f} MiB"
        )
        index_seconds, _ = measure(lambda: SessionIndex(sessions))
        index = SessionIndex(sessions)
        week = datetime(2030, 6, 15, tzinfo=ZONE)
        begin = time.perf_counter()
        for _ in range(1000):
            index.overlapping(week, week + timedelta(days=7))
        per_query = (time.perf_counter() - begin) / 1000 * 1e6
        print(
            f"index of them: built in {index_seconds * 1000:.1f} ms; "
            f"a week's calendar query {per_query:.1f} µs"
        )


def _statement(
    folder: Path, sessions: list[Session], meter: MeterInfo, period: Period
) -> StatementBundle:
    return write_statement(
        folder,
        sessions,
        meter=meter,
        period=period,
        currency="EUR",
        language="de",
        zone=ZONE,
        note=LEGAL_BASIS_NOTE["de"],
        created_at=datetime.now(UTC),
    )


def _posted(moment: datetime) -> str:
    local = moment.astimezone(ZONE)
    return local.strftime("%Y-%m-%dT%H:%M:%S,000%z")


if __name__ == "__main__":
    main()
