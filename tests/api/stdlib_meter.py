"""The simulated meter behind a server we did not write: Python's `http.server`.

`http.server` with `protocol_version = "HTTP/1.1"` is a small standards-compliant
server of the kind many devices embed: after a request that says
`Connection: close` it closes the connection without echoing the header, as
RFC 9112 §9.6 allows. Each request is passed on to the simulator (through the
standard library's `http.client`) so that the meter logic, faults and request
recording are the simulator's; only the HTTP framing the client sees is stdlib's.
A request the simulator drops unanswered is dropped unanswered here too.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
import http.client
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from iem_dcr_simulator import MeterSimulator

# A safety net for the proxied request, never a wait for something to happen.
_UPSTREAM_TIMEOUT = 10


@dataclass(frozen=True)
class StdlibMeter:
    """Where the stand-in listens."""

    host: str
    port: int


class _JoinedThreadingHTTPServer(ThreadingHTTPServer):
    # Handler threads are joined on close, so that no test leaves one behind.
    daemon_threads = False
    block_on_close = True


def _handler_for(simulator: MeterSimulator) -> type[BaseHTTPRequestHandler]:
    class MeterHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._forward()

        def do_POST(self) -> None:
            self._forward()

        def log_message(self, format: str, *args: object) -> None:
            """Stay quiet."""

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {
                name: value
                for name, value in self.headers.items()
                if name.lower() not in {"connection", "content-length", "host"}
            }
            upstream = http.client.HTTPConnection(
                simulator.host, simulator.port, timeout=_UPSTREAM_TIMEOUT
            )
            try:
                upstream.request(self.command, self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                data = answer.read()
            except (OSError, http.client.HTTPException):
                self.close_connection = True  # dropped: drop the client too
                return
            finally:
                upstream.close()
            self.send_response(answer.status)
            content_type = answer.getheader("Content-Type")
            if content_type:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return MeterHandler


@asynccontextmanager
async def stdlib_meter(simulator: MeterSimulator) -> AsyncIterator[StdlibMeter]:
    """Serve the simulator's meter through `http.server` on 127.0.0.1."""
    server = _JoinedThreadingHTTPServer(("127.0.0.1", 0), _handler_for(simulator))
    serving = asyncio.create_task(
        asyncio.to_thread(server.serve_forever, poll_interval=0.05)
    )
    try:
        yield StdlibMeter(host="127.0.0.1", port=server.server_address[1])
    finally:
        # shutdown() and server_close() block until the threads are done.
        await asyncio.to_thread(server.shutdown)
        await serving
        await asyncio.to_thread(server.server_close)
