"""Kills and restarts of a real Home Assistant process, with the meter in another.

What the pytest harness cannot do: SIGKILL Home Assistant in the middle of a
stop, SIGTERM it while a request hangs, or leave it down while another
controller ends the transaction. Home Assistant and the simulator run as
separate processes (tests/realhass/harness.py) and are driven over HTTP only.
Each scenario compares the ledger file with the tuples the meter issued and the
`iem_dcr_transaction_stopped` events seen over the WebSocket API.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Generator
import contextlib
from dataclasses import dataclass
from pathlib import Path
import threading
from typing import Any

import pytest

from custom_components.iem_dcr.const import EVENT_TRANSACTION_STOPPED
from tests.helpers import UID
from tests.realhass.harness import (
    EventRecorder,
    HassClient,
    HomeAssistantProcess,
    SimulatorProcess,
    wait_until,
)

from .matrix import Outcome, Stopwatch, ledger_records, payload, write_report_line

pytestmark = pytest.mark.realhass


@dataclass
class Site:
    """One meter and one Home Assistant, each in its own process."""

    meter: SimulatorProcess
    hass: HomeAssistantProcess
    entry_id: str

    @property
    def client(self) -> HassClient:
        return self.hass.client()

    def start_transaction(self) -> dict[str, Any]:
        status, answer = self.client.call_service(
            "iem_dcr",
            "start_transaction",
            {
                "config_entry_id": self.entry_id,
                "transaction_id": "tx-real",
                "identification_type": "ISO14443",
                "identification_data": UID,
            },
            return_response=True,
        )
        assert status == 200, answer
        return dict(answer)

    def stop_in_background(self) -> threading.Thread:
        """Call the stop action from a thread; it may never get its answer."""

        def stop() -> None:
            # Home Assistant goes away under the call: the point of the test.
            with contextlib.suppress(OSError):
                self.client.call_service(
                    "iem_dcr",
                    "stop_transaction",
                    {"config_entry_id": self.entry_id},
                    return_response=True,
                )

        thread = threading.Thread(target=stop, name="stop-call")
        thread.start()
        return thread

    def stop_while_the_receipt_hangs(self, interrupt: Callable[[], object]) -> None:
        """Stop with the receipt hanging; `interrupt` Home Assistant once E is done."""
        self.meter.control(
            "POST",
            "faults",
            {"kind": "hang", "path": "receipt", "method": "GET", "count": 1},
        )
        call = self.stop_in_background()
        self.wait_transaction_ended()
        interrupt()
        call.join(timeout=60)
        self.meter.control("POST", "release")
        self.meter.control("DELETE", "faults")

    def wait_transaction_ended(self) -> None:
        wait_until(
            lambda: not self.meter.state()["transaction_active"],
            30,
            "the meter to end the transaction",
        )

    def stop_transaction(self) -> dict[str, Any]:
        status, answer = self.client.call_service(
            "iem_dcr",
            "stop_transaction",
            {"config_entry_id": self.entry_id},
            return_response=True,
        )
        assert status == 200, answer
        return dict(answer)

    def ledger(self) -> list[dict[str, Any]]:
        return ledger_records(self.hass.config_dir, self.meter.state()["serial"])

    def wait_stored(self, timeout: float = 60) -> None:
        """Wait until the ledger holds every tuple the meter issued."""

        def all_stored() -> bool:
            stored = {payload(record["ocmf"]) for record in self.ledger()}
            return all(payload(text) in stored for text in self.meter.issued())

        wait_until(all_stored, timeout, "the ledger to hold every issued tuple")


@pytest.fixture
def site(tmp_path: Path, socket_enabled: None) -> Generator[Site]:
    """A fresh meter and Home Assistant with the meter added through the config flow."""
    meter = SimulatorProcess(log_dir=tmp_path)
    meter.start()
    hass = HomeAssistantProcess(tmp_path / "config")
    try:
        hass.start()
        entry_id = hass.client().add_iem_dcr(
            meter.host, meter.port, "EVSEID", "CP-DE-4711", "0,35 EUR/kWh"
        )
        # Home Assistant saves config entries a moment later; a meter set up long
        # before the fault is the case under test, not a kill within that moment.
        entries = hass.config_dir / ".storage" / "core.config_entries"
        wait_until(
            lambda: entries.exists() and entry_id in entries.read_text("utf-8"),
            30,
            "the config entry to be saved",
        )
        yield Site(meter=meter, hass=hass, entry_id=entry_id)
    finally:
        hass.kill()
        meter.kill()


def _outcome(site: Site, scenario: str, events: list[dict[str, Any]]) -> Outcome:
    issued = [payload(text) for text in site.meter.issued()]
    records = site.ledger()
    stored = [payload(record["ocmf"]) for record in records]
    announced = Counter(payload(event["ocmf"]) for event in events)
    return Outcome(
        scenario=scenario,
        issued=len(issued),
        stored=len(set(stored)),
        announced=len(announced),
        lost=[item for item in issued if item not in set(stored)],
        damaged=[],
        duplicated=[item for item, count in Counter(stored).items() if count > 1],
        announced_twice=[item for item, count in announced.items() if count > 1],
    )


def _check(
    site: Site, scenario: str, recorder: EventRecorder, watch: Stopwatch
) -> None:
    outcome = _outcome(site, scenario, recorder.events)
    clean = outcome.clean and outcome.issued > 0
    write_report_line(outcome, scenario, clean, watch.elapsed)
    assert outcome.issued > 0
    assert outcome.lost == [], f"lost: {outcome.lost}"
    assert outcome.duplicated == [], f"stored twice: {outcome.duplicated}"
    assert outcome.announced_twice == [], f"announced twice: {outcome.announced_twice}"


def test_kill_9_while_the_receipt_hangs(site: Site) -> None:
    """SIGKILL after E, before the receipt came: the restart collects the tuple."""
    watch = Stopwatch()
    with EventRecorder(site.hass, EVENT_TRANSACTION_STOPPED) as recorder:
        site.start_transaction()
        site.stop_while_the_receipt_hangs(site.hass.kill)
        assert site.ledger() == [], "the tuple cannot be stored before the receipt came"

        site.hass.start()
        recorder.wait_connected(2)
        site.wait_stored()
        wait_until(lambda: len(recorder.events) >= 1, 30, "the tuple's announcement")
        _check(site, "real_kill_9_while_the_receipt_hangs", recorder, watch)


def test_sigterm_while_the_receipt_hangs(site: Site) -> None:
    """SIGTERM during a stop: Home Assistant exits cleanly and nothing is lost."""
    watch = Stopwatch()
    with EventRecorder(site.hass, EVENT_TRANSACTION_STOPPED) as recorder:
        site.start_transaction()
        exit_codes: list[int] = []
        site.stop_while_the_receipt_hangs(
            lambda: exit_codes.append(site.hass.terminate())
        )
        assert exit_codes == [0]

        site.hass.start()
        recorder.wait_connected(2)
        # The stop may finish during the shutdown, which waits for it: then the tuple
        # is stored, but its event fires while Home Assistant closes its WebSocket
        # connections and no subscriber sees it (a known limit, in the README).
        site.wait_stored()
        _check(site, "real_sigterm_while_the_receipt_hangs", recorder, watch)


def test_kill_9_then_another_controller_ends_the_transaction(site: Site) -> None:
    """Down while the transaction ends elsewhere: the start-up comparison stores it."""
    watch = Stopwatch()
    with EventRecorder(site.hass, EVENT_TRANSACTION_STOPPED) as recorder:
        site.start_transaction()
        site.hass.kill()
        site.meter.control("POST", "end_transaction")
        site.wait_transaction_ended()

        site.hass.start()
        recorder.wait_connected(2)
        site.wait_stored()
        _check(site, "real_kill_9_then_another_controller_ends", recorder, watch)


def test_kill_9_after_a_stop_keeps_the_ledger_whole(site: Site) -> None:
    """SIGKILL right after a stop answered: no torn or doubled record on restart."""
    watch = Stopwatch()
    with EventRecorder(site.hass, EVENT_TRANSACTION_STOPPED) as recorder:
        site.start_transaction()
        site.stop_transaction()
        site.hass.kill()

        site.hass.start()
        recorder.wait_connected(2)
        site.start_transaction()  # the comparison before the begin sees it stored
        site.stop_transaction()
        site.wait_stored()
        wait_until(lambda: len(recorder.events) >= 2, 30, "both announcements")
        _check(site, "real_kill_9_after_a_stop", recorder, watch)
