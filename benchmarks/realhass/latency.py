"""Start and stop latency through a real Home Assistant, split into the meter's waits and ours.

Home Assistant (`python -m homeassistant`) and the simulator run in their own
processes, as in tests/realhass. Home Assistant talks to the simulator through a
pass-through TCP proxy in this process that notes, for every connection, when
the request's first byte arrived and when the answer's last byte went back. The
integration opens one connection per request, so each connection is one
request to the meter.

For each `start_transaction` and `stop_transaction` (called over the REST API
with `?return_response`, timed here from sending the call to reading its
answer):

- waiting for the meter's answers: the time during which a request to the meter
  was open (the union of the proxy's intervals inside the call);
- the configured pauses: what the sequence sleeps by design (transaction.py:
  SETTLE_DELAY before every begin, RECEIPT_DELAY before reading a receipt,
  `retry_delay` before each repeated request), counted from the requests the
  meter saw;
- our own time: the rest (Home Assistant's REST API, the integration's work
  between requests, verifying the signature, the ledger append with fsync,
  events, the entities' updates, and the loopback hops).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
import contextlib
from dataclasses import dataclass, field, replace
import itertools
from pathlib import Path
import statistics
import tempfile
import threading
import time
from typing import Any

from custom_components.iem_dcr.const import DEFAULT_RETRY_DELAY
from custom_components.iem_dcr.transaction import RECEIPT_DELAY, SETTLE_DELAY
from tests.realhass.harness import (
    HarnessError,
    HassClient,
    HomeAssistantProcess,
    SimulatorProcess,
)

RUNS = 20
RETRY_DELAY = DEFAULT_RETRY_DELAY / 1000
POLL_INTERVAL = (
    60  # s: no poll runs between the calls (each call's refresh restarts it)
)


@dataclass(frozen=True)
class MeterRequest:
    """One request to the meter as the proxy saw it."""

    method: str
    path: str
    status: int
    began: float  # time.monotonic() of the request's first byte
    ended: float  # ... of the answer's last byte


@dataclass(frozen=True)
class Split:
    """One call's wall time and its parts, in seconds."""

    total: float
    meter: float
    pauses: float

    @property
    def ours(self) -> float:
        """What is neither the meter nor a configured pause."""
        return self.total - self.meter - self.pauses


def union_inside(
    intervals: Sequence[tuple[float, float]], began: float, ended: float
) -> float:
    """Length of the union of ``intervals`` clipped to [began, ended]."""
    clipped = sorted(
        (max(start, began), min(end, ended))
        for start, end in intervals
        if end > began and start < ended
    )
    total = 0.0
    current_start = current_end = None
    for start, end in clipped:
        if current_end is None or start > current_end:
            if current_end is not None and current_start is not None:
                total += current_end - current_start
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    if current_end is not None and current_start is not None:
        total += current_end - current_start
    return total


def _retried(previous: MeterRequest, request: MeterRequest) -> bool:
    """Whether ``request`` repeats ``previous`` after a pause of `retry_delay`."""
    if (previous.method, previous.path) != (request.method, request.path):
        return False
    # A failed answer is repeated; so is a receipt that is still the previous tuple.
    return previous.status >= 300 or (
        request.method == "GET" and request.path.endswith("/receipt")
    )


def configured_pauses(kind: str, requests: Sequence[MeterRequest]) -> float:
    """Return the pauses transaction.py sleeps in a call that made ``requests``."""
    pauses = SETTLE_DELAY if kind == "start" else 0.0
    if any(r.method == "GET" and r.path.endswith("/receipt") for r in requests):
        pauses += RECEIPT_DELAY  # once before the (first) receipt read
    repeats = sum(
        _retried(previous, request)
        for previous, request in itertools.pairwise(requests)
    )
    return pauses + repeats * RETRY_DELAY


def split(
    kind: str, began: float, ended: float, requests: Sequence[MeterRequest]
) -> Split:
    """Split one call's wall time with the requests the meter saw during it."""
    inside = [r for r in requests if r.ended > began and r.began < ended]
    return Split(
        total=ended - began,
        meter=union_inside([(r.began, r.ended) for r in inside], began, ended),
        pauses=configured_pauses(kind, inside),
    )


def summary(splits: Sequence[Split]) -> str:
    """Medians in ms: total = the meter's waits (answers + pauses) + our own time."""
    total = statistics.median(s.total for s in splits) * 1e3
    meter = statistics.median(s.meter for s in splits) * 1e3
    pauses = statistics.median(s.pauses for s in splits) * 1e3
    ours = statistics.median(s.ours for s in splits) * 1e3
    return (
        f"{total:.0f} ms = meter's waits {meter + pauses:.1f}"
        f" (answers {meter:.1f}, pauses {pauses:.0f}) + ours {ours:.1f}"
    )


def rows(starts: Sequence[Split], stops: Sequence[Split]) -> list[tuple[str, str]]:
    """Return the `extra` rows of scripts/bench's table."""
    return [
        (f"start_transaction, median of {len(starts)}", summary(starts)),
        (f"stop_transaction, median of {len(stops)}", summary(stops)),
    ]


@dataclass
class TimingProxy:
    """A TCP pass-through on 127.0.0.1 that notes when each request was open."""

    target_port: int
    requests: list[MeterRequest] = field(default_factory=list)
    port: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _server: asyncio.Server | None = None

    def start(self) -> None:
        """Listen in a thread of its own."""
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            self._server = loop.run_until_complete(
                asyncio.start_server(self._serve, "127.0.0.1", 0)
            )
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            loop.run_forever()
            # Callbacks the closed connections left behind run before the close.
            loop.run_until_complete(asyncio.sleep(0))
            loop.close()

        self._thread = threading.Thread(target=run, name="timing proxy", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("timing proxy did not start")

    def stop(self) -> None:
        """Stop listening, let open connections finish, and end the thread."""
        loop, server = self._loop, self._server
        if loop is None or server is None or self._thread is None:
            return

        async def shut() -> None:
            server.close()
            await server.wait_closed()  # also waits for the connections' handlers
            loop.stop()

        asyncio.run_coroutine_threadsafe(shut(), loop)
        self._thread.join(10)

    async def _serve(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        first = await client_reader.read(65536)
        began = time.monotonic()
        if not first:
            client_writer.close()
            return
        request_line = first.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
        # Noted on arrival and brought up to date before each piece of the answer
        # goes back: whoever has read an answer finds its request complete here.
        noted = MeterRequest(
            method=request_line[0],
            path=request_line[1] if len(request_line) > 1 else "",
            status=0,
            began=began,
            ended=began,
        )
        index = len(self.requests)
        self.requests.append(noted)
        try:
            meter_reader, meter_writer = await asyncio.open_connection(
                "127.0.0.1", self.target_port
            )
        except OSError:
            client_writer.close()
            return
        meter_writer.write(first)

        async def upstream() -> None:
            while chunk := await client_reader.read(65536):
                meter_writer.write(chunk)
                await meter_writer.drain()
            if meter_writer.can_write_eof():
                meter_writer.write_eof()

        async def downstream() -> None:
            nonlocal noted
            while chunk := await meter_reader.read(65536):
                status = noted.status
                if not status:
                    status_line = chunk.split(b"\r\n", 1)[0].split(b" ")
                    status = int(status_line[1]) if len(status_line) > 1 else -1
                noted = replace(noted, status=status, ended=time.monotonic())
                self.requests[index] = noted
                client_writer.write(chunk)
                await client_writer.drain()
            client_writer.close()

        try:
            await asyncio.gather(upstream(), downstream())
        except OSError:
            pass
        finally:
            for writer in (meter_writer, client_writer):
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()


def _set_poll_interval(client: HassClient, entry_id: str) -> None:
    status, flow = client.post(
        "/api/config/config_entries/options/flow", {"handler": entry_id}
    )
    if status != 200:
        raise HarnessError(f"options flow: {status} {flow}")
    answer = {
        "show_user_id": False,
        "clock": {"clock_sync_interval": 2, "time_zone_mode": "home_assistant"},
        "connection": {"poll_interval": POLL_INTERVAL, "request_timeout": 5},
        "transactions": {
            "transaction_retries": 3,
            "retry_delay": DEFAULT_RETRY_DELAY,
        },
    }
    status, flow = client.post(
        f"/api/config/config_entries/options/flow/{flow['flow_id']}", answer
    )
    if status != 200 or flow.get("type") != "create_entry":
        raise HarnessError(f"options flow answer: {status} {flow}")

    def loaded() -> bool:
        status, entries = client.get("/api/config/config_entries/entry")
        return status == 200 and any(
            e["entry_id"] == entry_id and e["state"] == "loaded" for e in entries
        )

    # New options reload the entry.
    client.wait_for(loaded, 60, "the entry to load with the new options")


def _call(client: HassClient, service: str, data: dict[str, Any]) -> None:
    status, body = client.call_service("iem_dcr", service, data, True)
    if status != 200 or body["service_response"].get("status") != "OK":
        raise HarnessError(f"{service}: {status} {body}")


@dataclass(frozen=True)
class Call:
    """One measured service call and the requests the meter saw during it."""

    kind: str  # "start" or "stop"
    split: Split
    requests: tuple[MeterRequest, ...]


def run(runs: int = RUNS, directory: Path | None = None) -> list[Call]:
    """Start and stop ``runs`` transactions after one unmeasured round."""
    with tempfile.TemporaryDirectory(dir=directory) as temporary:
        root = Path(temporary)
        simulator = SimulatorProcess(log_dir=root)
        proxy: TimingProxy | None = None
        hass: HomeAssistantProcess | None = None
        try:
            simulator.start()
            proxy = TimingProxy(simulator.port)
            proxy.start()
            # Without the integration's debug log, which would cost time in the calls.
            hass = HomeAssistantProcess(root / "config", debug_log=False)
            hass.start()
            client = hass.client()
            entry_id = client.add_iem_dcr(
                "127.0.0.1", proxy.port, "EVSEID", "DE*ABC*E1234", "0,35 EUR/kWh"
            )
            _set_poll_interval(client, entry_id)
            return _calls(client, entry_id, proxy, runs)
        finally:
            if hass is not None:
                hass.terminate()
            if proxy is not None:
                proxy.stop()
            simulator.stop()


def _calls(
    client: HassClient, entry_id: str, proxy: TimingProxy, runs: int
) -> list[Call]:
    def start(number: int) -> None:
        _call(
            client,
            "start_transaction",
            {
                "config_entry_id": entry_id,
                "transaction_id": f"bench-{number}",
                "identification_type": "iso14443",
                "identification_data": "04A1B2C3D4E5F6",
            },
        )

    def stop(_: int) -> None:
        _call(client, "stop_transaction", {"config_entry_id": entry_id})

    def first_start() -> bool:
        start(0)
        return True

    # The unmeasured round (imports, caches, the ledger file) waits out the
    # reload the new options set off.
    client.wait_for(first_start, 60, "a first start after the options' reload")
    stop(0)
    calls = []
    for number in range(1, runs + 1):
        for kind, action in (("start", start), ("stop", stop)):
            began = time.monotonic()
            action(number)
            ended = time.monotonic()
            inside = tuple(
                r for r in proxy.requests if r.ended > began and r.began < ended
            )
            calls.append(Call(kind, split(kind, began, ended, inside), inside))
    return calls


def measure(runs: int = RUNS, directory: Path | None = None) -> list[tuple[str, str]]:
    """Start and stop ``runs`` transactions; return the table rows."""
    calls = run(runs, directory)
    return rows(
        [c.split for c in calls if c.kind == "start"],
        [c.split for c in calls if c.kind == "stop"],
    )


if __name__ == "__main__":
    for name, value in measure():
        print(f"{name}  {value}")
