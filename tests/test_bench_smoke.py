"""Quick checks of scripts/bench's pieces: options, table, config folders (no timing)."""

from __future__ import annotations

from dataclasses import replace
from fnmatch import fnmatch
import json
import os
from pathlib import Path
import sqlite3
import time

import pytest

from benchmarks.realhass import __main__ as driver, ha_config, probe, scenario, table
from benchmarks.realhass.processes import cpu_seconds
from benchmarks.realhass.scenario import RunResult


def _result(
    contender: str, meters: int, ms: float, *, recorder: str = "off"
) -> RunResult:
    return RunResult(
        contender=contender,
        meters=meters,
        recorder=recorder,
        cpu_ms_per_poll=ms,
        polls=100,
        window_s=45.0,
        core_share=0.01,
        lag_p50_ms=None,
        lag_p99_ms=None,
        db_mb_per_hour=12.0 if recorder != "off" else None,
    )


def test_quick_means_one_short_run() -> None:
    """--quick shortens the window and runs once; --meters is split."""
    arguments = driver.parse(["--quick", "--meters", "1,50"])
    assert (arguments.window, arguments.runs) == (10.0, 1)
    assert arguments.meter_counts == [1, 50]
    assert driver.parse([]).meter_counts == [1, 10, 50]


def test_table_gives_medians_runs_and_ratio() -> None:
    """The median of the runs, each run, and ours divided by rest's."""
    results = [
        _result("rest", 1, 2.0),
        _result("rest", 1, 4.0),
        _result("rest", 1, 3.0),
        _result("iem_dcr", 1, 1.5),
        _result("iem_dcr", 1, 1.0),
        _result("iem_dcr", 1, 2.0),
    ]
    rows = table.rows(results, [("floor", "0.50 ms")])
    assert rows[1][:5] == [
        "1",
        "off",
        "3.00 ms (2.00, 4.00, 3.00)",
        "1.50 ms (1.50, 1.00, 2.00)",
        "0.50",
    ]
    assert rows[-1][0] == "floor"
    markdown = table.render(rows, markdown=True).splitlines()
    assert markdown[1].count("---") == len(rows[0])
    assert markdown[2].startswith("| 1 | off |")


def test_iem_dcr_folder_has_an_entry_per_meter(tmp_path: Path) -> None:
    """Each stand-in meter becomes a config entry with its own serial and port."""
    meters: list[dict[str, object]] = [
        {"port": 4001, "serial": "A"},
        {"port": 4002, "serial": "B"},
    ]
    ha_config.write(
        tmp_path, contender="iem_dcr", meters=meters, http_port=1, recorder="off"
    )
    stored = json.loads((tmp_path / ".storage" / "core.config_entries").read_text())
    entries = stored["data"]["entries"]
    assert [(e["unique_id"], e["data"]["port"]) for e in entries] == [
        ("A", 4001),
        ("B", 4002),
    ]
    text = (tmp_path / "configuration.yaml").read_text()
    assert "recorder:" not in text
    assert "bench_probe:" not in text  # its timers would cost CPU


def test_rest_folder_has_twelve_entities_per_meter(tmp_path: Path) -> None:
    """11 template sensors and one binary sensor per /metervalue resource."""
    ha_config.write(
        tmp_path,
        contender="rest",
        meters=[{"port": 4001, "serial": "A"}],
        http_port=1,
        recorder="on",
    )
    text = (tmp_path / "configuration.yaml").read_text()
    assert text.count("value_template") == 12
    assert "recorder:" in text
    assert "exclude" not in text


def test_recorder_without_live_values_is_the_readme_exclusion(tmp_path: Path) -> None:
    """The bench's third recorder mode writes the globs the README recommends."""
    ha_config.write(
        tmp_path,
        contender="iem_dcr",
        meters=[{"port": 4001, "serial": "A"}],
        http_port=1,
        recorder=ha_config.RECORDER_LIVE_EXCLUDED,
    )
    text = (tmp_path / "configuration.yaml").read_text()
    globs = [
        line.strip().removeprefix("- ").strip('"')
        for line in text.split("entity_globs:")[1].splitlines()
        if line.strip().startswith("- ")
    ]
    assert globs == list(ha_config.LIVE_VALUE_GLOBS)
    readme = (ha_config.REPO / "README.md").read_text()
    for glob in (
        "sensor.iem_dcr_*_power",
        "sensor.iem_dcr_*_voltage",
        "sensor.iem_dcr_*_current",
    ):
        assert glob in readme
        assert any(fnmatch(glob.replace("*", "1isa"), pattern) for pattern in globs)


def test_an_unknown_recorder_mode_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown recorder mode"):
        ha_config.write(
            tmp_path, contender="rest", meters=[], http_port=1, recorder="maybe"
        )


def test_lag_samples_are_cut_to_the_window(tmp_path: Path) -> None:
    """Only timers that fired inside the window count."""
    (tmp_path / probe.LAG_FILE).write_text("1.0 0.5\n2.0 7.0\n3.0 1.0\n")
    assert probe.lag_samples(tmp_path, 1.5, 3.0) == [7.0, 1.0]


def test_run_plans() -> None:
    """Every meter count without recorder, then both recorder modes at the first."""
    on, excluded = ha_config.RECORDER_ON, ha_config.RECORDER_LIVE_EXCLUDED
    assert driver.run_plans(driver.parse(["--meters", "1,10"])) == [
        (1, "off"),
        (10, "off"),
        (1, on),
        (1, excluded),
    ]
    assert driver.run_plans(driver.parse(["--recorder-only", "--meters", "1"])) == [
        (1, on),
        (1, excluded),
    ]
    assert driver.run_plans(driver.parse(["--no-recorder", "--meters", "5"])) == [
        (5, "off")
    ]
    assert driver.run_plans(driver.parse(["--skip-poll"])) == []


def test_database_growth_counts_the_write_ahead_log_in(tmp_path: Path) -> None:
    """Rows still in the WAL are counted, and the size is the database's own."""
    assert scenario._database(tmp_path) == (0, 0)
    path = tmp_path / "home-assistant_v2.db"
    writer = sqlite3.connect(path)
    try:
        writer.execute("PRAGMA journal_mode=WAL")
        writer.execute("PRAGMA wal_autocheckpoint=0")  # keep every page in the WAL
        writer.execute("CREATE TABLE states (state TEXT)")
        writer.commit()
        before = scenario._database(tmp_path)
        writer.executemany("INSERT INTO states VALUES (?)", [("x" * 200,)] * 500)
        writer.commit()
        size, rows = scenario._database(tmp_path)
    finally:
        writer.close()

    assert rows == before[1] + 500 == 500
    assert size > before[0] + 500 * 200
    wal = tmp_path / "home-assistant_v2.db-wal"
    assert not wal.exists() or not wal.stat().st_size


def test_cpu_time_is_read_to_the_nanosecond() -> None:
    """The bench's CPU clock agrees with the kernel's own for this process."""
    before_ours, before_kernel = cpu_seconds(os.getpid()), time.process_time()
    deadline = time.process_time() + 0.05
    while time.process_time() < deadline:
        pass  # burn CPU
    spent_ours = cpu_seconds(os.getpid()) - before_ours
    spent_kernel = time.process_time() - before_kernel
    assert spent_kernel >= 0.05
    # Ticks would give a multiple of 10 ms; schedstat agrees to well below one.
    assert abs(spent_ours - spent_kernel) < 0.005


def test_loop_lag_gives_median_percentiles_and_the_worst_of_all_runs() -> None:
    probed = [
        replace(
            _result("iem_dcr+probe", 1, 1.0),
            lag_p50_ms=p50,
            lag_p99_ms=p99,
            lag_max_ms=worst,
        )
        for p50, p99, worst in ((0.1, 1.0, 2.0), (0.2, 1.5, 7.5), (0.3, 2.0, 3.0))
    ]
    rows = table.rows(
        [_result("rest", 1, 2.0), _result("iem_dcr", 1, 1.0), *probed], []
    )
    assert rows[0][5] == "loop lag p50/p99/max (iem_dcr)"
    assert rows[1][5] == "0.2 / 1.5 / 7.5 ms"
