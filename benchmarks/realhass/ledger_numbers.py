"""Ledger append at 10, 10,000 and 100,000 records, load time and memory at 100,000.

Appends are what users get: `Ledger(path)` with fsync on every append. The
three ledgers are prepared without fsync (the lines written straight from the
ledger's own encoder), loaded, and then appended to in turns (10, 10,000,
100,000, 10, ...), so that the disk's moods on a shared machine hit all three
alike. Each figure is the median of `APPENDS` appends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import gc
from pathlib import Path
import statistics
import tempfile
import time
import tracemalloc

from benchmarks.bench_ledger import append, make_ocmf
from custom_components.iem_dcr.ledger import Ledger, LedgerEntry, _encode_record

SIZES = (10, 10_000, 100_000)
APPENDS = 100  # per size, with fsync
LOADS = 3
LIMIT = 1.5  # issue 11: the 100,000th append at most 1.5 x the 10th
START = datetime(2025, 1, 1, tzinfo=UTC)
PUBLIC_KEY = "3059301306072A8648CE3D020106082A8648CE3D030107034200" + "04" * 65


@dataclass(frozen=True)
class LedgerNumbers:
    """Medians in microseconds by ledger size, and the load of the largest."""

    append_us: dict[int, float]
    load_ms: float
    load_mib: float  # Python memory held by the loaded ledger (tracemalloc)
    file_mb: float


def write_records(path: Path, count: int) -> None:
    """Write ``count`` records (pagination T1..T<count>) as `bench_ledger.append` would.

    One write of lines from the ledger's own encoder: the same bytes as
    ``count`` appends, without the per-append open and fsync.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as file:
        for number in range(1, count + 1):
            file.write(
                _encode_record(
                    LedgerEntry(
                        sequence=number,
                        recorded_at=START + timedelta(minutes=number),
                        meter_serial="1ISA0200001132",
                        pagination=f"T{number}",
                        reason="stopped",
                        ocmf=make_ocmf(number),
                        public_key=PUBLIC_KEY,
                        signature_valid=True,
                    )
                )
            )


def ratio_text(append_us: dict[int, float]) -> str:
    """Compare the 100,000th append with the 10th against the limit."""
    ratio = append_us[SIZES[-1]] / append_us[SIZES[0]]
    verdict = "ok" if ratio <= LIMIT else f"over {LIMIT}"
    return f"{ratio:.2f} x ({verdict})"


def rows(numbers: LedgerNumbers) -> list[tuple[str, str]]:
    """Return the `extra` rows of scripts/bench's table."""
    sizes = " / ".join(f"{size:,}" for size in SIZES)
    appends = " / ".join(f"{numbers.append_us[size] / 1000:.2f}" for size in SIZES)
    return [
        (
            f"ledger append with fsync at {sizes} records, median of {APPENDS}",
            f"{appends} ms",
        ),
        ("ledger append at 100,000 / at 10", ratio_text(numbers.append_us)),
        (
            f"ledger load, 100,000 records ({numbers.file_mb:.0f} MB)",
            f"{numbers.load_ms:.0f} ms",
        ),
        ("ledger memory, 100,000 records loaded", f"{numbers.load_mib:.0f} MiB"),
    ]


def _timed_load(path: Path) -> float:
    ledger = Ledger(path)
    began = time.perf_counter()
    ledger.load()
    return time.perf_counter() - began


def _memory_of_load(path: Path) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        ledger = Ledger(path)
        ledger.load()
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(ledger) == SIZES[-1]
    return held / 2**20


def measure(directory: Path | None = None) -> LedgerNumbers:
    """Prepare the three ledgers and time appends, load and memory."""
    with tempfile.TemporaryDirectory(dir=directory) as temporary:
        root = Path(temporary)
        paths = {size: root / f"size{size}" / "ledger.jsonl" for size in SIZES}
        for size, path in paths.items():
            write_records(path, size)
        largest = paths[SIZES[-1]]
        loads = [_timed_load(largest) for _ in range(LOADS)]
        memory = _memory_of_load(largest)
        file_mb = largest.stat().st_size / 1e6

        ledgers = {}
        for size, path in paths.items():
            ledger = Ledger(path)
            report = ledger.load()
            assert report.entries == size, report
            ledgers[size] = ledger
        durations: dict[int, list[float]] = {size: [] for size in SIZES}
        for turn in range(APPENDS):
            for size, ledger in ledgers.items():
                began = time.perf_counter()
                append(ledger, size + 1 + turn)
                durations[size].append(time.perf_counter() - began)
        for size, ledger in ledgers.items():
            assert len(ledger) == size + APPENDS
    return LedgerNumbers(
        append_us={size: statistics.median(d) * 1e6 for size, d in durations.items()},
        load_ms=statistics.median(loads) * 1e3,
        load_mib=memory,
        file_mb=file_mb,
    )


if __name__ == "__main__":
    numbers = measure()
    for name, value in rows(numbers):
        print(f"{name}  {value}")
