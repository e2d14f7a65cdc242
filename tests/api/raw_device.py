"""A device that answers every request with fixed bytes.

For answers the simulator never gives because a sane meter would not: bodies that
are not UTF-8, redirects, cut-off payloads. It speaks raw TCP so that nothing
between the test and the client tidies the bytes up.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field


@dataclass
class RawDevice:
    """Where the device listens and what it was sent."""

    host: str
    port: int
    requests: list[bytes] = field(default_factory=list)


def http_response(status: str, body: bytes, *, headers: str = "") -> bytes:
    """Build a complete HTTP/1.1 response with a matching Content-Length."""
    head = (
        f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n"
        f"Connection: close\r\n{headers}\r\n"
    )
    return head.encode() + body


@asynccontextmanager
async def raw_device(response: bytes) -> AsyncIterator[RawDevice]:
    """Serve `response` to every request on 127.0.0.1, then close."""
    device: RawDevice | None = None

    async def answer(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            body = await reader.readexactly(length)
            assert device is not None
            device.requests.append(head + body)
            writer.write(response)
            await writer.drain()
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    device = RawDevice(host="127.0.0.1", port=port)
    try:
        yield device
    finally:
        server.close()
        await server.wait_closed()
