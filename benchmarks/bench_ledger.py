"""Time ledger appends and loads at different ledger sizes.

Run from the repository root:
    ../shared/ci/py314 .venv/bin/python -m benchmarks.bench_ledger
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
import statistics
import tempfile
import time

from custom_components.iem_dcr.ledger import Ledger

SIZES = (0, 1_000, 10_000)
APPENDS_WITHOUT_FSYNC = 500
APPENDS_WITH_FSYNC = 100
LOADS = 5
START = datetime(2025, 1, 1, tzinfo=UTC)


def make_ocmf(number: int) -> str:
    """Build a record shaped like an IEM-DCR receipt (about 700 bytes)."""
    payload = (
        '{"FV":"1.0","GI":"IEM-DCR-125-1000-32-00-006-B_000","GS":"1ISA0200001132",'
        f'"GV":"DU-02.00.12_SU-02.00.08","PG":"T{number}","MV":"Isabellenhuette",'
        '"MM":"IEM-DCR-125-1000-32-00-006-B_000","MS":"1ISA0200001132",'
        '"IS":true,"IL":"TRUSTED","IF":["RFID_PLAIN"],"IT":"ISO14443",'
        '"ID":"04A1B2C3D4E5F6","TT":"0,20 EUR/kWh","CT":"EVSEID","CI":"DE*ABC*E1*1",'
        '"RD":[{"TM":"2025-01-01T12:00:00,000+0100 I","TX":"B","RV":"00000446.540",'
        '"RI":"1-b:1.8.e","RU":"kWh","RT":"DC","EF":"","ST":"G"},'
        '{"TM":"2025-01-01T12:45:10,000+0100 I","TX":"E","RV":"00000471.120",'
        '"RI":"1-b:1.8.e","RU":"kWh","RT":"DC","EF":"","ST":"G"}]}'
    )
    signature = "3044" + "0220" + "A1" * 32 + "0220" + "B3" * 32
    return f'OCMF|{payload}|{{"SA":"ECDSA-secp256r1-SHA256","SD":"{signature}"}}'


def append(ledger: Ledger, number: int) -> None:
    """Append record ``number`` (pagination T<number>)."""
    ledger.append(
        meter_serial="1ISA0200001132",
        pagination=f"T{number}",
        ocmf=make_ocmf(number),
        public_key="3059301306072A8648CE3D020106082A8648CE3D030107034200" + "04" * 65,
        signature_valid=True,
        reason="stopped",
        recorded_at=START + timedelta(minutes=number),
    )


def build(path: Path, size: int) -> None:
    """Fill a ledger file with ``size`` records, without fsync (setup only)."""
    ledger = Ledger(path, fsync=False)
    ledger.load()
    for number in range(1, size + 1):
        append(ledger, number)


def time_appends(path: Path, size: int, count: int, *, fsync: bool) -> list[float]:
    """Return the duration of ``count`` appends to a ledger of ``size`` records."""
    ledger = Ledger(path, fsync=fsync)
    ledger.load()
    durations = []
    for number in range(size + 1, size + count + 1):
        began = time.perf_counter()
        append(ledger, number)
        durations.append(time.perf_counter() - began)
    return durations


def describe(durations: list[float]) -> str:
    """Format median, mean and maximum in microseconds."""
    micro = [d * 1e6 for d in durations]
    return (
        f"median {statistics.median(micro):9.1f} us   "
        f"mean {statistics.fmean(micro):9.1f} us   max {max(micro):9.1f} us"
    )


def main() -> None:
    """Print the timings."""
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        print(f"temp dir: {root}")
        for size in SIZES:
            for fsync, count in (
                (False, APPENDS_WITHOUT_FSYNC),
                (True, APPENDS_WITH_FSYNC),
            ):
                path = root / f"size{size}-fsync{fsync}" / "ledger.jsonl"
                build(path, size)
                durations = time_appends(path, size, count, fsync=fsync)
                print(
                    f"append at size {size:>6}, fsync={fsync!s:5}, {count:>3} appends: "
                    f"{describe(durations)}"
                )

        path = root / "load" / "ledger.jsonl"
        build(path, 10_000)
        loads = []
        for _ in range(LOADS):
            ledger = Ledger(path)
            began = time.perf_counter()
            ledger.load()
            loads.append(time.perf_counter() - began)
        megabytes = path.stat().st_size / 1e6
        print(
            f"load 10,000 records ({megabytes:.1f} MB), {LOADS} runs: "
            f"median {statistics.median(loads) * 1e3:.1f} ms, "
            f"min {min(loads) * 1e3:.1f} ms"
        )


if __name__ == "__main__":
    main()
