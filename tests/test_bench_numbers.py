"""The ledger and start/stop parts of scripts/bench: set-up, split, proxy, rows (no timing)."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
import threading
import urllib.error
import urllib.request

import pytest

from benchmarks.bench_ledger import build
from benchmarks.realhass import __main__ as driver, latency, ledger_numbers
from benchmarks.realhass.latency import MeterRequest, Split
from custom_components.iem_dcr.ledger import Ledger
from custom_components.iem_dcr.transaction import RECEIPT_DELAY, SETTLE_DELAY


def _request(method: str, endpoint: str, status: int = 200) -> MeterRequest:
    return MeterRequest(
        method=method,
        path=f"/counter/v1/ocmf/{endpoint}",
        status=status,
        began=0.0,
        ended=0.0,
    )


def test_written_records_are_the_bytes_appends_write(tmp_path: Path) -> None:
    """The fast set-up writes what appending the same records writes, and loads."""
    appended = tmp_path / "appended" / "ledger.jsonl"
    written = tmp_path / "written" / "ledger.jsonl"
    build(appended, 25)
    ledger_numbers.write_records(written, 25)
    assert written.read_bytes() == appended.read_bytes()
    ledger = Ledger(written)
    report = ledger.load()
    assert (report.entries, report.skipped_corrupt, report.skipped_torn) == (25, 0, 0)
    assert ledger.gaps() == []


def test_ledger_rows_give_each_size_the_ratio_and_its_verdict() -> None:
    numbers = ledger_numbers.LedgerNumbers(
        append_us={10: 200.0, 10_000: 220.0, 100_000: 400.0},
        load_ms=2000.4,
        load_mib=209.2,
        file_mb=137.0,
    )
    rows = dict(ledger_numbers.rows(numbers))
    assert rows[
        "ledger append with fsync at 10 / 10,000 / 100,000 records, median of 100"
    ] == ("0.20 / 0.22 / 0.40 ms")
    assert rows["ledger append at 100,000 / at 10"] == "2.00 x (over 1.5)"
    assert rows["ledger load, 100,000 records (137 MB)"] == "2000 ms"
    assert rows["ledger memory, 100,000 records loaded"] == "209 MiB"
    assert ledger_numbers.ratio_text({10: 200.0, 10_000: 1.0, 100_000: 300.0}) == (
        "1.50 x (ok)"
    )


def test_union_counts_overlaps_once_and_clips_to_the_call() -> None:
    intervals = [(0.0, 2.0), (1.0, 3.0), (5.0, 6.0), (9.0, 12.0), (20.0, 21.0)]
    # [1, 3] + [5, 6] + [9, 10] inside [1, 10]; (20, 21) lies outside.
    assert latency.union_inside(intervals, 1.0, 10.0) == pytest.approx(4.0)
    assert latency.union_inside([], 0.0, 1.0) == 0.0


def test_start_pauses_settle_once_and_retry_per_repeat() -> None:
    """A refused end before the begin reads no receipt; a failed user is repeated."""
    plain = [
        _request("GET", "gw"),
        _request("GET", "metervalue"),
        _request("POST", "receipt", 428),
        _request("GET", "transaction"),
        _request("POST", "user"),
        _request("POST", "receipt"),
        _request("GET", "metervalue"),
    ]
    assert latency.configured_pauses("start", plain) == SETTLE_DELAY
    retried = [*plain[:4], _request("POST", "user", 500), *plain[4:]]
    assert latency.configured_pauses("start", retried) == pytest.approx(
        SETTLE_DELAY + latency.RETRY_DELAY
    )
    # An accepted end before the begin: its receipt is read after RECEIPT_DELAY.
    superseding = [*plain[:2], _request("POST", "receipt"), _request("GET", "receipt")]
    assert latency.configured_pauses("start", superseding) == pytest.approx(
        SETTLE_DELAY + RECEIPT_DELAY
    )


def test_stop_pauses_before_the_receipt_and_for_a_stale_one() -> None:
    stop = [
        _request("GET", "metervalue"),
        _request("POST", "receipt"),
        _request("GET", "receipt"),
        _request("GET", "metervalue"),
    ]
    assert latency.configured_pauses("stop", stop) == RECEIPT_DELAY
    stale = [*stop[:3], _request("GET", "receipt"), stop[3]]
    assert latency.configured_pauses("stop", stale) == pytest.approx(
        RECEIPT_DELAY + latency.RETRY_DELAY
    )
    # Ended elsewhere: the last transaction is read, nothing is paused.
    assert (
        latency.configured_pauses("stop", [*stop[:1], _request("GET", "transaction")])
        == 0
    )


def test_split_uses_only_requests_inside_the_call() -> None:
    def at(endpoint: str, began: float, ended: float) -> MeterRequest:
        return MeterRequest("GET", f"/counter/v1/ocmf/{endpoint}", 200, began, ended)

    requests = [
        at("metervalue", 0.0, 0.5),  # a poll before the call
        at("metervalue", 10.0, 10.01),
        at("receipt", 10.30, 10.32),
        at("metervalue", 10.33, 10.34),
    ]
    result = latency.split("stop", 10.0, 10.35, requests)
    assert result.total == pytest.approx(0.35)
    assert result.meter == pytest.approx(0.04)
    assert result.pauses == RECEIPT_DELAY
    assert result.ours == pytest.approx(0.35 - 0.04 - RECEIPT_DELAY)


def test_latency_rows_are_medians_of_each_part() -> None:
    starts = [
        Split(0.262, 0.004, 0.25),
        Split(0.270, 0.010, 0.25),
        Split(0.264, 0.006, 0.25),
    ]
    rows = latency.rows(starts, starts[:1])
    assert rows[0] == (
        "start_transaction, median of 3",
        "264 ms = meter's waits 256.0 (answers 6.0, pauses 250) + ours 8.0",
    )
    assert rows[1][0] == "stop_transaction, median of 1"


class _Answer(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(428 if body == b"refuse" else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        """Quiet."""


def test_proxy_passes_answers_through_and_notes_each_request(
    socket_enabled: None,
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    serving = threading.Thread(target=server.serve_forever)
    serving.start()
    proxy = latency.TimingProxy(server.server_address[1])
    proxy.start()
    try:
        url = f"http://127.0.0.1:{proxy.port}/counter/v1/ocmf/receipt"
        with urllib.request.urlopen(url, data=b"hello", timeout=10) as answer:
            assert answer.read() == b"hello"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url, data=b"refuse", timeout=10)
        assert refused.value.code == 428
        refused.value.close()
    finally:
        proxy.stop()
        server.shutdown()
        server.server_close()
        serving.join()
    assert [(r.method, r.path, r.status) for r in proxy.requests] == [
        ("POST", "/counter/v1/ocmf/receipt", 200),
        ("POST", "/counter/v1/ocmf/receipt", 428),
    ]
    assert all(r.began <= r.ended for r in proxy.requests)
    assert proxy.requests[0].ended <= proxy.requests[1].began


def test_skip_poll_and_latency_runs_options() -> None:
    arguments = driver.parse(["--skip-poll", "--latency-runs", "5"])
    assert (arguments.skip_poll, arguments.latency_runs) == (True, 5)
    defaults = driver.parse([])
    assert (defaults.skip_poll, defaults.latency_runs) == (False, latency.RUNS)
