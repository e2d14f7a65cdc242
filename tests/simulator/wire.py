"""A raw HTTP/1.x client for asserting on the bytes the simulator puts on the wire.

Deliberately not aiohttp: it reads exactly what arrives and tidies nothing up.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass

from iem_dcr_simulator import MeterSimulator

# A safety net against a broken server, never a wait for something to happen.
IO_TIMEOUT = 5


@dataclass(frozen=True)
class RawHead:
    """A status line and its header fields (names in lower case)."""

    status_line: str
    fields: list[tuple[str, str]]

    def get(self, name: str) -> str | None:
        values = [value for field, value in self.fields if field == name]
        assert len(values) <= 1, f"{name} sent {len(values)} times"
        return values[0] if values else None

    @property
    def names(self) -> set[str]:
        return {field for field, _ in self.fields}


@dataclass
class RawConnection:
    """One TCP connection to the simulator."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def head(self) -> RawHead:
        raw = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), IO_TIMEOUT)
        status_line, *lines = raw.decode("latin-1").split("\r\n")[:-2]
        fields = []
        for line in lines:
            name, _, value = line.partition(":")
            fields.append((name.strip().lower(), value.strip()))
        return RawHead(status_line, fields)

    async def exactly(self, size: int) -> bytes:
        return await asyncio.wait_for(self.reader.readexactly(size), IO_TIMEOUT)

    async def until_closed(self) -> bytes:
        """Everything until the server closes the connection."""
        return await asyncio.wait_for(self.reader.read(), IO_TIMEOUT)

    async def line(self) -> bytes:
        return await asyncio.wait_for(self.reader.readuntil(b"\r\n"), IO_TIMEOUT)

    async def chunks(self) -> list[bytes]:
        """Read a chunked body: every chunk's data, in order (the last one empty)."""
        pieces = []
        while True:
            size = int((await self.line()).split(b";")[0], 16)
            data = await self.exactly(size + 2)
            assert data.endswith(b"\r\n")
            pieces.append(data[:-2])
            if size == 0:
                return pieces

    async def closed_by_server(self) -> bool:
        """Whether the server ends the connection with nothing more to say."""
        return await self.until_closed() == b""


@asynccontextmanager
async def raw_connection(sim: MeterSimulator) -> AsyncIterator[RawConnection]:
    reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
    try:
        yield RawConnection(reader, writer)
    finally:
        writer.close()
        with suppress(ConnectionError):
            await writer.wait_closed()


def request(
    method: str,
    path: str,
    *,
    body: bytes = b"",
    headers: tuple[str, ...] = (),
    version: str = "HTTP/1.1",
) -> bytes:
    """A request with a Content-Length body (none for an empty body on GET)."""
    lines = [f"{method} {path} {version}", "Host: 127.0.0.1", *headers]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body
