"""`MeterSimulator`: the simulated meter served on a loopback socket."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Self

from aiohttp import web

from .app import build_app, is_meter_path
from .faults import METER_ENDPOINTS, Fault, FaultKind, FaultPlan
from .front import Front, FrontSettings
from .meter_api import RecordedRequest
from .state import DEFAULT_SERIAL, MeterState
from .transport import BEHAVIOURS, Transport

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime
    from types import TracebackType

    from cryptography.hazmat.primitives.asymmetric import ec

_LOGGER = logging.getLogger(__name__)

# Handlers finish quickly once hangs are released; this only bounds a stuck stop().
_SHUTDOWN_TIMEOUT = 2.0
DEFAULT_IDLE_TIMEOUT = 1.0  # seconds an idle connection lives in IDLE_DROP
DEFAULT_BODY_DELAY = 0.05  # seconds between head and body in SLOW_BODY
_LOOPBACK = "127.0.0.1"


class MeterSimulator:
    """An IEM-DCR on 127.0.0.1, with faults to inject and knobs to turn.

    Use `async with MeterSimulator() as sim:` or call start() and stop().
    `transport` chooses how it speaks HTTP (see Transport); every mode but
    `aiohttp` is served by a front that passes requests on to the simulator's
    application on a second, private loopback port.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        serial: str = DEFAULT_SERIAL,
        clock: Callable[[], datetime] | None = None,
        private_key: ec.EllipticCurvePrivateKey | None = None,
        transport: Transport | str = Transport.AIOHTTP,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        body_delay: float = DEFAULT_BODY_DELAY,
    ) -> None:
        """Prepare a meter; nothing listens before start().

        `idle_timeout` is how long IDLE_DROP keeps an idle connection, `body_delay`
        how long SLOW_BODY holds a body back (release_hangs() sends it at once).
        Raises ValueError for an unknown transport or a timing out of range.
        """
        self.transport = Transport(transport)
        if not idle_timeout > 0:
            raise ValueError("idle_timeout must be positive")
        if not body_delay >= 0:
            raise ValueError("body_delay must not be negative")
        self.host = host
        self.port = port
        self.state = MeterState(serial=serial, clock=clock, private_key=private_key)
        self.requests: list[RecordedRequest] = []
        self.faults = FaultPlan()
        self.connections_in_use: set[object] = set()
        self.connections_accepted = 0  # TCP connections accepted on `port`
        self._runner: web.AppRunner | None = None
        self._listener: asyncio.Server | None = None
        self._reopen: asyncio.Task[None] | None = None
        self._backend: asyncio.Server | None = None
        self._front = (
            None
            if self.transport is Transport.AIOHTTP
            else Front(
                FrontSettings(
                    behaviour=BEHAVIOURS[self.transport],
                    idle_timeout=idle_timeout,
                    body_delay=body_delay,
                    is_meter_path=is_meter_path,
                    count_connection=self._count_connection,
                ),
                self.faults,
            )
        )

    @property
    def url(self) -> str:
        """Base URL of the meter, e.g. "http://127.0.0.1:8080"."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def listening(self) -> bool:
        """Whether new connections are accepted right now."""
        return self._listener is not None

    async def __aenter__(self) -> Self:
        """Start serving."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop serving."""
        await self.stop()

    async def start(self) -> None:
        """Bind the listener; afterwards `port` is the bound port."""
        if self._runner is not None:
            raise RuntimeError("the simulator is already running")
        runner = web.AppRunner(
            build_app(self),
            handle_signals=False,
            shutdown_timeout=_SHUTDOWN_TIMEOUT,
            access_log=None,
        )
        await runner.setup()
        self._runner = runner
        try:
            if self._front is not None:
                await self._listen_privately()
            await self._listen()
        except BaseException:
            self._runner = None
            self._close_backend()
            await runner.cleanup()
            raise

    async def stop(self) -> None:
        """Close the listener and every connection; hung requests are released."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        await self._cancel_reopen()
        self.faults.clear()
        self.faults.release_hangs()
        self._close_listener()
        if self._front is not None:
            await self._front.close()
        self._close_backend()
        await runner.cleanup()

    async def refuse_connections(self) -> None:
        """Close the listener: new connections are refused until accept_connections()."""
        await self._cancel_reopen()
        self._stop_listening()

    async def accept_connections(self) -> None:
        """Listen again on the same port (no-op while listening)."""
        await self._cancel_reopen()
        if self._listener is None:
            await self._listen()

    async def wait_until_listening(self) -> None:
        """Wait for a reopen scheduled by REFUSE with seconds or by clear_faults()."""
        task = self._reopen
        if task is not None:
            await asyncio.wait([task])

    async def wait_for_hanging(self, count: int = 1) -> None:
        """Wait until at least `count` requests hang (HANG fault)."""
        await self.faults.wait_for_hanging(count)

    def inject_fault(
        self,
        kind: FaultKind,
        *,
        path: str | None = None,
        count: int | None = None,
        status: int = 500,
        seconds: float | None = None,
        method: str | None = None,
        skip: int = 0,
    ) -> None:
        """Make matching meter-API requests misbehave.

        `path` is the endpoint name after /counter/v1/ocmf/ ("metervalue", ...;
        "transaction" covers v1 and v2), None for all. `count` limits how many
        matching requests are affected, None until clear_faults(). `seconds` bounds a
        HANG, and for REFUSE is how long the listener stays closed (None: until
        accept_connections() or clear_faults()). `method` ("GET" or "POST") limits
        the fault to one method; `skip` lets that many matching requests pass
        first (for example the end the driver sends before every begin). REFUSE
        needs a running event loop.
        """
        kind = FaultKind(kind)
        if path is not None and path not in METER_ENDPOINTS:
            raise ValueError(f"unknown meter endpoint {path!r}")
        if count is not None and count < 1:
            raise ValueError("count must be at least 1")
        if seconds is not None and not seconds > 0:
            raise ValueError("seconds must be positive")
        if not 200 <= status <= 599:
            raise ValueError("status must be a final HTTP status (200-599)")
        if method is not None and method not in {"GET", "POST"}:
            raise ValueError('method must be "GET", "POST" or None')
        if skip < 0:
            raise ValueError("skip must not be negative")
        if kind is FaultKind.REFUSE:
            if path is not None or count is not None or method is not None or skip:
                raise ValueError("refuse affects the listener, not single requests")
            self._refuse_for(seconds)
            return
        self.faults.add(
            Fault(
                kind=kind,
                path=path,
                remaining=count,
                status=status,
                seconds=seconds,
                method=method,
                skip=skip,
            )
        )

    def clear_faults(self) -> None:
        """Heal the meter: drop every fault and listen again if refusing.

        Reopening the listener happens in the background; await
        accept_connections() to be sure it is done.
        """
        self.faults.clear()
        if self._runner is not None and self._listener is None:
            self._schedule_reopen(0)

    def release_hangs(self) -> None:
        """Let every hanging request go on (they are then answered normally)."""
        self.faults.release_hangs()

    # --- listener ---------------------------------------------------------------------

    async def _listen(self) -> None:
        if self._front is not None:
            listener = await asyncio.start_server(
                self._front.serve, self.host, self.port, reuse_address=True
            )
        else:
            assert self._runner is not None
            server = self._runner.server
            assert server is not None

            def counted_connection() -> asyncio.BaseProtocol:
                self._count_connection()
                return server()

            listener = await asyncio.get_running_loop().create_server(
                counted_connection, self.host, self.port, reuse_address=True
            )
        self._listener = listener
        self.port = listener.sockets[0].getsockname()[1]
        _LOGGER.debug("meter simulator listening on %s", self.url)

    async def _listen_privately(self) -> None:
        # The application behind the front, on a port of its own.
        assert self._runner is not None and self._front is not None
        server = self._runner.server
        assert server is not None
        self._backend = await asyncio.get_running_loop().create_server(
            server, _LOOPBACK, 0
        )
        self._front.backend = (_LOOPBACK, self._backend.sockets[0].getsockname()[1])

    def _close_backend(self) -> None:
        backend, self._backend = self._backend, None
        if backend is not None:
            backend.close()

    def _count_connection(self) -> None:
        self.connections_accepted += 1

    def _stop_listening(self) -> None:
        self._close_listener()
        if self._front is not None:
            self._front.drop_idle()
        # Pooled keep-alive connections must fail too, as they would at a dead meter;
        # a request in progress (such as the control request asking for this) is
        # still answered first.
        if self._runner is not None and self._runner.server is not None:
            for connection in self._runner.server.connections:
                if connection in self.connections_in_use:
                    connection.close()
                else:
                    connection.force_close()

    def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()

    def _refuse_for(self, seconds: float | None) -> None:
        if self._runner is None:
            raise RuntimeError("the simulator is not running")
        self._cancel_reopen_now()
        self._stop_listening()
        if seconds is not None:
            self._schedule_reopen(seconds)

    def _schedule_reopen(self, delay: float) -> None:
        self._cancel_reopen_now()
        self._reopen = asyncio.get_running_loop().create_task(
            self._reopen_after(delay), name="iem_dcr_simulator reopen"
        )

    async def _reopen_after(self, delay: float) -> None:
        await asyncio.sleep(delay)
        if self._runner is None or self._listener is not None:
            return
        try:
            await self._listen()
        except OSError:
            _LOGGER.warning("meter simulator cannot listen on %s again", self.url)

    def _cancel_reopen_now(self) -> None:
        if self._reopen is not None:
            self._reopen.cancel()
            self._reopen = None

    async def _cancel_reopen(self) -> None:
        task, self._reopen = self._reopen, None
        if task is None:
            return
        task.cancel()
        # wait() neither raises the task's CancelledError nor swallows our own.
        await asyncio.wait([task])
