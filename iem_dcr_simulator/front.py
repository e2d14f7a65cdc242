"""The front that serves every transport mode but `aiohttp`, written without aiohttp.

It reads each request with its own HTTP/1.x reader (`http1.py`), passes the bytes
on unchanged to the simulator's aiohttp application on a private loopback port,
and writes the answer back in its mode's way. So the meter logic, faults, the
control API and request recording are the same in every mode; only the HTTP on
the wire differs. An answer the application never gives (a disconnect fault) is
never given here either: the client's connection is closed without one.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
import logging
from typing import TYPE_CHECKING

from .http1 import (
    CONTINUE,
    ConnectionEndedError,
    Head,
    MessageError,
    Request,
    Response,
    chunked,
    header_lines,
    read_request,
    read_response,
    status_line,
)
from .transport import Behaviour, Framing, Persistence

if TYPE_CHECKING:
    from collections.abc import Callable

    from .faults import FaultPlan

_LOGGER = logging.getLogger(__name__)

CHUNK_SIZE = 32  # small, so that even short answers come in several chunks
# What IDLE_DROP promises; it drops idle connections much earlier.
ADVERTISED_KEEP_ALIVE = 60
# Header fields the front sets itself, never passed on from the application.
_OWN_FIELDS = frozenset(
    {"connection", "keep-alive", "content-length", "transfer-encoding"}
)
_JSON = "application/json"
_JSON_AS_TEXT = "text/plain; charset=utf-8"


@dataclass(eq=False)
class _Connection:
    writer: asyncio.StreamWriter
    task: asyncio.Task[None] | None
    busy: bool = False
    closing: bool = False  # close after the answer in progress


@dataclass
class FrontSettings:
    """How the front behaves and where it passes requests on to."""

    behaviour: Behaviour
    idle_timeout: float
    body_delay: float
    is_meter_path: Callable[[str], bool]
    count_connection: Callable[[], None] = field(default=lambda: None)


class Front:
    """Serves connections in one transport mode; one instance per simulator."""

    def __init__(self, settings: FrontSettings, faults: FaultPlan) -> None:
        """Prepare; the backend address is set before the first connection."""
        self._settings = settings
        self._faults = faults
        self._connections: set[_Connection] = set()
        self.backend: tuple[str, int] | None = None

    async def serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Serve one client connection until it ends (asyncio.start_server callback)."""
        self._settings.count_connection()
        connection = _Connection(writer=writer, task=asyncio.current_task())
        self._connections.add(connection)
        try:
            await self._serve(reader, connection)
        except MessageError as err:
            _LOGGER.debug("front: bad request: %s", err)
            await self._write_bad_request(writer)
        except (ConnectionEndedError, ConnectionError, TimeoutError):
            pass
        finally:
            self._connections.discard(connection)
            writer.close()

    def drop_idle(self) -> None:
        """Close idle connections now and busy ones after their answer."""
        for connection in list(self._connections):
            connection.closing = True
            if not connection.busy:
                connection.writer.close()

    async def close(self) -> None:
        """Close every connection and wait until each is done."""
        tasks = []
        for connection in list(self._connections):
            connection.writer.close()
            if connection.task is not None and not connection.task.done():
                connection.task.cancel()
                tasks.append(connection.task)
        if tasks:
            await asyncio.wait(tasks)

    async def _serve(
        self, reader: asyncio.StreamReader, connection: _Connection
    ) -> None:
        while not connection.closing:
            connection.busy = False
            request = await self._next_request(reader, connection)
            if request is None:
                return
            connection.busy = True
            answer = await self._pass_on(request)
            if answer is None:
                return  # the meter dropped it unanswered: so does the front
            if not await self._write(connection, request, answer):
                return

    async def _next_request(
        self, reader: asyncio.StreamReader, connection: _Connection
    ) -> Request | None:
        behaviour = self._settings.behaviour

        async def before_body(head: Head) -> None:
            if behaviour.answers_continue and head.has_token("expect", "100-continue"):
                connection.writer.write(CONTINUE)
                await connection.writer.drain()

        if behaviour.persistence is not Persistence.KEEP_ALIVE_THEN_DROP:
            return await read_request(reader, before_body)
        try:
            async with asyncio.timeout(self._settings.idle_timeout):
                return await read_request(reader, before_body)
        except TimeoutError:
            _LOGGER.debug("front: dropping an idle connection")
            return None

    async def _pass_on(self, request: Request) -> Response | None:
        assert self.backend is not None
        reader, writer = await asyncio.open_connection(*self.backend)
        try:
            writer.write(request.raw)
            await writer.drain()
            return await read_response(reader, request.method)
        except (ConnectionEndedError, ConnectionError):
            return None
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _write(
        self, connection: _Connection, request: Request, answer: Response
    ) -> bool:
        """Write the answer the mode's way; return whether the connection stays."""
        behaviour = self._settings.behaviour
        keep = self._keeps_open(request, connection)
        fields = [
            (name, value)
            for name, value in answer.head.fields
            if name.lower() not in _OWN_FIELDS
        ]
        if behaviour.json_as_text and self._settings.is_meter_path(request.target):
            fields = [_as_text(name, value) for name, value in fields]
        body = b"" if request.method == "HEAD" else answer.body
        match behaviour.framing:
            case Framing.LENGTH:
                fields.append(("Content-Length", _length(request, answer)))
                payload = body
            case Framing.CHUNKED:
                fields.append(("Transfer-Encoding", "chunked"))
                payload = b"" if request.method == "HEAD" else chunked(body, CHUNK_SIZE)
            case Framing.CLOSE:
                payload = body
        fields.extend(_persistence_fields(behaviour.persistence, keep))
        writer = connection.writer
        writer.write(
            status_line(behaviour.version, answer.status, answer.reason)
            + header_lines(fields)
        )
        if behaviour.delays_body and payload:
            await writer.drain()
            # A held body counts as hanging: release_hangs() sends it at once.
            await self._faults.hold(self._settings.body_delay)
        writer.write(payload)
        await writer.drain()
        return keep

    def _keeps_open(self, request: Request, connection: _Connection) -> bool:
        behaviour = self._settings.behaviour
        if connection.closing or behaviour.framing is Framing.CLOSE:
            return False
        match behaviour.persistence:
            case Persistence.COMPLIANT:
                return not request.wants_close
            case Persistence.KEEP_ALIVE_THEN_DROP:
                return True
        return False

    async def _write_bad_request(self, writer: asyncio.StreamWriter) -> None:
        fields = [("Content-Length", "0")]
        if self._settings.behaviour.persistence is not Persistence.CLOSE_SILENTLY:
            fields.append(("Connection", "close"))
        with contextlib.suppress(ConnectionError):
            writer.write(
                status_line(self._settings.behaviour.version, 400)
                + header_lines(fields)
            )
            await writer.drain()


def _as_text(name: str, value: str) -> tuple[str, str]:
    if (
        name.lower() == "content-type"
        and value.split(";", maxsplit=1)[0].strip() == _JSON
    ):
        return name, _JSON_AS_TEXT
    return name, value


def _length(request: Request, answer: Response) -> str:
    if request.method == "HEAD":
        return answer.head.get("content-length") or "0"
    return str(len(answer.body))


def _persistence_fields(persistence: Persistence, keep: bool) -> list[tuple[str, str]]:
    match persistence:
        case Persistence.KEEP_ALIVE_THEN_DROP if keep:
            return [
                ("Connection", "keep-alive"),
                ("Keep-Alive", f"timeout={ADVERTISED_KEEP_ALIVE}"),
            ]
        case Persistence.CLOSE_SILENTLY:
            return []
    return [] if keep else [("Connection", "close")]
