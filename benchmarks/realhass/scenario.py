"""One measured run: a contender, N meters, a window of polling."""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
from dataclasses import dataclass
import os
from pathlib import Path
import shutil
import sqlite3
import statistics
import tempfile
import time

from . import ha_config, probe
from .processes import HomeAssistant, Meters, cpu_seconds, free_port

WARM_UP_POLLS = 5  # polls per meter before the window opens


@dataclass(frozen=True)
class RunResult:
    """What one window measured."""

    contender: str
    meters: int
    recorder: str  # one of ha_config.RECORDER_MODES
    cpu_ms_per_poll: float
    polls: int
    window_s: float
    core_share: float  # CPU seconds per wall second
    lag_p50_ms: float | None
    lag_p99_ms: float | None
    db_mb_per_hour: float | None
    db_rows_per_hour: float | None = None
    lag_max_ms: float | None = None  # the longest the loop was late in the window


def _database(config_dir: Path) -> tuple[int, int]:
    """Return the database's size and its count of state rows, WAL folded in.

    The write-ahead log grows to a few MB and is then reused, so its size says
    little about how the database grows: it is checkpointed into the database
    first (as SQLite does by itself from time to time).
    """
    path = config_dir / "home-assistant_v2.db"
    if not path.exists():
        return 0, 0
    with contextlib.closing(sqlite3.connect(path, timeout=10)) as database:
        database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        try:
            (rows,) = database.execute("SELECT COUNT(*) FROM states").fetchone()
        except sqlite3.OperationalError:
            rows = 0  # the recorder has not made its tables yet
    return path.stat().st_size, int(rows)


def _percentile(values: list[float], share: float) -> float | None:
    if len(values) < 2:
        return None
    return statistics.quantiles(values, n=100, method="inclusive")[int(share) - 1]


def run(
    contender: str,
    meters: int,
    window: float,
    *,
    recorder: str,
    lag_probe: bool = False,
) -> RunResult:
    """Start the meters and Home Assistant, poll, measure one window, stop."""
    stand_in = Meters(meters)
    stand_in.start()
    try:
        with _home_assistant(contender) as hass:
            config_dir = hass.config_dir
            ha_config.write(
                config_dir,
                contender=contender,
                meters=stand_in.ports,
                http_port=hass.http_port,
                recorder=recorder,
                lag_probe=lag_probe,
            )
            hass.start()
            _wait_for_polls(stand_in, meters * WARM_UP_POLLS, timeout=120)
            time.sleep(2)  # let set-up work (registries, first states) settle
            served0, cpu0, (db0, rows0) = (
                stand_in.served(),
                cpu_seconds(hass.pid),
                _database(config_dir),
            )
            began = time.monotonic()
            time.sleep(window)
            ended = time.monotonic()
            served1, cpu1, (db1, rows1) = (
                stand_in.served(),
                cpu_seconds(hass.pid),
                _database(config_dir),
            )
            time.sleep(1.2)  # the probe writes its samples once a second
            lags = probe.lag_samples(config_dir, began, ended)
    finally:
        stand_in.stop()
    polls = served1 - served0
    elapsed = ended - began
    return RunResult(
        contender=contender + ("+probe" if lag_probe else ""),
        meters=meters,
        recorder=recorder,
        cpu_ms_per_poll=(cpu1 - cpu0) * 1000 / polls if polls else float("nan"),
        polls=polls,
        window_s=elapsed,
        core_share=(cpu1 - cpu0) / elapsed,
        lag_p50_ms=_percentile(lags, 50),
        lag_p99_ms=_percentile(lags, 99),
        lag_max_ms=max(lags) if lags else None,
        db_mb_per_hour=(
            (db1 - db0) / 1e6 * 3600 / elapsed
            if recorder != ha_config.RECORDER_OFF
            else None
        ),
        db_rows_per_hour=(
            (rows1 - rows0) * 3600 / elapsed
            if recorder != ha_config.RECORDER_OFF
            else None
        ),
    )


def idle(window: float) -> float:
    """Return CPU ms per second of a Home Assistant with nothing configured.

    What a process costs that wakes now and then for its own timers: part of
    every poll's cost at one meter, the same for both contenders. At least
    30 s: its timers fire seconds apart.
    """
    window = max(window, 30.0)
    with _home_assistant("idle") as hass:
        ha_config.write(
            hass.config_dir,
            contender="iem_dcr",
            meters=[],
            http_port=hass.http_port,
            recorder=ha_config.RECORDER_OFF,
        )
        hass.start()
        time.sleep(15)  # let start-up work settle
        cpu0, began = cpu_seconds(hass.pid), time.monotonic()
        time.sleep(window)
        cpu1, ended = cpu_seconds(hass.pid), time.monotonic()
    return (cpu1 - cpu0) * 1000 / (ended - began)


@contextlib.contextmanager
def _home_assistant(prefix: str) -> Iterator[HomeAssistant]:
    """Give a Home Assistant on a fresh config folder; stop it at the end.

    The folder goes afterwards, unless BENCH_KEEP is set or the run failed (its
    log, bench_stdout.log, tells why).
    """
    work = ha_config.REPO / ".bench"
    work.mkdir(exist_ok=True)
    config_dir = Path(tempfile.mkdtemp(prefix=f"{prefix}-", dir=work))
    hass = HomeAssistant(config_dir, free_port())
    try:
        yield hass
    finally:
        hass.stop()
    if not os.environ.get("BENCH_KEEP"):
        shutil.rmtree(config_dir, ignore_errors=True)


def _wait_for_polls(stand_in: Meters, count: int, timeout: float) -> None:
    first = stand_in.served()
    deadline = time.monotonic() + timeout
    while stand_in.served() - first < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"fewer than {count} polls in {timeout} s")
        time.sleep(0.5)
