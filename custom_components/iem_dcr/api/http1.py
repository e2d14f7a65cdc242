"""One HTTP/1.1 request on a connection of its own, written in one piece.

The client's own transport (a client without an injected aiohttp session). At a
poll a second, aiohttp's session machinery (connector, request and response
objects, cookie jar, tracing, redirect and compression support) was the larger
part of what a poll cost Home Assistant; the meter needs none of it. What this
does, like the manufacturer's libcurl driver with CURLOPT_FORBID_REUSE: open a
connection, write the whole request in one write (head and body: embedded
servers that read one segment see all of it), read the answer until it is
complete, close. Nothing is ever sent twice.

The answer is read strictly: a status line, header lines, then a body framed by
`Transfer-Encoding: chunked`, by `Content-Length`, or by the end of the
connection; interim 1xx answers are skipped. Lines may end in CRLF or a bare LF.
Anything else (another protocol, a cut-off body, a contradicting length, an
answer larger than any the meter gives) is an `HttpError`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
import functools
import ipaddress
import os
import re
import socket
from typing import Any, Literal

# Far above anything the meter sends (a signed tuple is about 1 kB).
MAX_HEAD = 16 * 1024
MAX_BODY = 1024 * 1024
READ_SIZE = 64 * 1024

_STATUS_LINE = re.compile(rb"HTTP/1\.[01] ([1-9][0-9]{2})(?: [^\r\n]*)?")
_NO_BODY = frozenset({204, 304})


class HttpError(Exception):
    """The connection broke, or what came back is not a usable HTTP/1.x answer."""


@dataclass(frozen=True, slots=True)
class Answer:
    """A final HTTP answer."""

    status: int
    body: bytes


def build_request(
    method: str, host_header: str, path: str, body: bytes | None = None
) -> bytes:
    """Return the request bytes; the headers are those of the manufacturer's driver.

    `Connection: close` tells the server that the connection ends with its answer.
    """
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: {host_header}",
        "Accept: */*",
        "Content-Type: application/json",
        "Connection: close",
    ]
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + (body or b"")


class AnswerReader:
    """Turns the bytes of a connection into an `Answer`, strictly."""

    def __init__(self) -> None:
        """Start before the status line."""
        self._buffer = bytearray()
        self._status: int | None = None
        self._length: int | None = None  # Content-Length, None: until the end
        self._chunked = False
        self._body = bytearray()
        self._chunk_left: int | None = None  # None: a chunk-size line comes next
        self._in_trailers = False
        self.answer: Answer | None = None

    def feed(self, data: bytes) -> Answer | None:
        """Take more bytes; return the answer once it is complete."""
        if self.answer is not None:
            return self.answer  # bytes after a complete answer are not ours to read
        self._buffer += data
        if self._status is None:
            self._read_head()
        if self._status is not None:
            self._read_body()
        return self.answer

    def finish(self) -> Answer:
        """Take the end of the connection; return the answer or say what is missing."""
        if self.answer is not None:
            return self.answer
        if self._status is None:
            if not self._buffer:
                raise HttpError("the connection closed without an answer")
            raise HttpError("the connection closed in the middle of the answer's head")
        if self._chunked:
            raise HttpError(
                f"the connection closed in the middle of a chunked body "
                f"({len(self._body)} bytes read)"
            )
        if self._length is not None:
            raise HttpError(
                f"the connection closed after {len(self._body)} of {self._length} bytes"
            )
        self.answer = Answer(self._status, bytes(self._body))
        return self.answer

    def _read_head(self) -> None:
        while self._status is None:
            end, separator = _head_end(self._buffer)
            if end < 0:
                if len(self._buffer) > MAX_HEAD:
                    raise HttpError(f"answer head longer than {MAX_HEAD} bytes")
                return
            head = bytes(self._buffer[:end])
            del self._buffer[: end + separator]
            status, headers = _parse_head(head)
            if 100 <= status < 200:
                continue  # an interim answer such as 100 Continue
            self._status = status
            self._frame(status, headers)

    def _frame(self, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        lengths = {value for name, value in headers if name == b"content-length"}
        codings = [
            coding.strip()
            for name, value in headers
            if name == b"transfer-encoding"
            for coding in value.split(b",")
        ]
        encodings = {
            value.strip().lower()
            for name, value in headers
            if name == b"content-encoding"
        } - {b"identity", b""}
        if encodings:
            raise HttpError("compressed answer, though none was asked for")
        if codings:
            if [coding.lower() for coding in codings] != [b"chunked"]:
                raise HttpError(f"unsupported transfer encoding {codings!r}")
            self._chunked = True
        elif lengths:
            if len(lengths) > 1:
                raise HttpError("contradicting Content-Length headers")
            text = lengths.pop()
            if not text.isdigit() or len(text) > 10:
                raise HttpError(f"invalid Content-Length {text!r}")
            self._length = int(text)
            if self._length > MAX_BODY:
                raise HttpError(f"answer longer than {MAX_BODY} bytes")
        if status in _NO_BODY:
            self._chunked = False
            self._length = 0

    def _read_body(self) -> None:
        if self._chunked:
            self._read_chunks()
        else:
            self._body += self._buffer
            self._buffer.clear()
            if len(self._body) > MAX_BODY:
                raise HttpError(f"answer longer than {MAX_BODY} bytes")
            if self._length is not None and len(self._body) >= self._length:
                del self._body[self._length :]
                self._complete()

    def _read_chunks(self) -> None:
        buffer = self._buffer
        while True:
            if self._in_trailers:
                end, separator = _line_end(buffer)
                if end < 0:
                    self._check_line_length()
                    return
                line = bytes(buffer[:end])
                del buffer[: end + separator]
                if not line:
                    self._complete()
                    return
                continue
            if self._chunk_left is None:
                end, separator = _line_end(buffer)
                if end < 0:
                    self._check_line_length()
                    return
                size_text = bytes(buffer[:end]).split(b";", 1)[0].strip()
                del buffer[: end + separator]
                if not size_text or len(size_text) > 8:
                    raise HttpError(f"invalid chunk size {size_text!r}")
                try:
                    size = int(size_text, 16)
                except ValueError:
                    raise HttpError(f"invalid chunk size {size_text!r}") from None
                if size == 0:
                    self._in_trailers = True
                    continue
                if len(self._body) + size > MAX_BODY:
                    raise HttpError(f"answer longer than {MAX_BODY} bytes")
                self._chunk_left = size
            # The chunk's data, then the line end that closes it.
            needed = self._chunk_left
            if len(buffer) < needed + 1:
                return
            if buffer[needed : needed + 2] == b"\r\n":
                closing = 2
            elif buffer[needed : needed + 1] == b"\n":
                closing = 1
            elif len(buffer) < needed + 2:
                return
            else:
                raise HttpError("chunk data longer than its size")
            self._body += buffer[:needed]
            del buffer[: needed + closing]
            self._chunk_left = None

    def _check_line_length(self) -> None:
        if len(self._buffer) > MAX_HEAD:
            raise HttpError("chunk line too long")

    def _complete(self) -> None:
        assert self._status is not None
        self.answer = Answer(self._status, bytes(self._body))


def _head_end(buffer: bytearray) -> tuple[int, int]:
    """Return where the head ends and the length of its blank line (-1 if not yet)."""
    crlf = buffer.find(b"\r\n\r\n")
    lf = buffer.find(b"\n\n")
    if lf >= 0 and (crlf < 0 or lf < crlf):
        return lf, 2
    return crlf, 4


def _line_end(buffer: bytearray) -> tuple[int, int]:
    end = buffer.find(b"\n")
    if end < 0:
        return -1, 0
    if end > 0 and buffer[end - 1] == 0x0D:
        return end - 1, 2
    return end, 1


def _parse_head(head: bytes) -> tuple[int, list[tuple[bytes, bytes]]]:
    lines = head.replace(b"\r\n", b"\n").split(b"\n")
    match = _STATUS_LINE.fullmatch(lines[0])
    if match is None:
        raise HttpError(f"not an HTTP/1.x answer: {lines[0][:40]!r}")
    headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip():
            raise HttpError(f"invalid header line {line[:40]!r}")
        headers.append((name.lower(), value.strip()))
    return int(match.group(1)), headers


class _Exchange:
    """One request on one connection, driven by the event loop's readiness callbacks.

    No asyncio transport or stream: those cost several extra rounds of the event
    loop per request (a transport, its callbacks, a future per step), about
    0.25 ms of a poll once a second. Here the loop wakes us when the connection
    is made and when bytes arrive, and one future carries the answer.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sock: socket.socket,
        request: bytes,
        answered: asyncio.Future[Answer],
    ) -> None:
        self._loop = loop
        self._sock = sock
        self._fd = sock.fileno()
        self._unsent = memoryview(request)
        self._answered = answered
        self._reader = AnswerReader()
        self._watching: Literal["read", "write"] | None = None

    def begin(self, address: Any) -> None:
        """Connect; the request goes out once the connection stands."""
        try:
            self._sock.connect(address)
        except (BlockingIOError, InterruptedError):
            self._watch("write", self._on_connected)
        except OSError as err:
            self._answered.set_exception(err)
        else:
            self._on_connected()

    def stop(self) -> None:
        """Stop listening for readiness (the caller closes the socket)."""
        if self._watching == "read":
            self._loop.remove_reader(self._fd)
        elif self._watching == "write":
            self._loop.remove_writer(self._fd)
        self._watching = None

    def _watch(
        self, what: Literal["read", "write"], callback: Callable[[], None]
    ) -> None:
        self.stop()
        self._watching = what
        if what == "read":
            self._loop.add_reader(self._fd, callback)
        else:
            self._loop.add_writer(self._fd, callback)

    def _on_connected(self) -> None:
        error = self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if error:
            self.stop()
            self._answered.set_exception(OSError(error, os.strerror(error)))
            return
        self._write()

    def _write(self) -> None:
        try:
            sent = self._sock.send(self._unsent)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError as err:
            self._fail(HttpError(f"{type(err).__name__}: {err}"))
            return
        self._unsent = self._unsent[sent:]
        if self._unsent:
            self._watch("write", self._write)
            return
        self._watch("read", self._read)

    def _read(self) -> None:
        try:
            data = self._sock.recv(READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as err:
            self._fail(HttpError(f"{type(err).__name__}: {err}"))
            return
        try:
            answer = self._reader.feed(data) if data else self._reader.finish()
        except HttpError as err:
            self._fail(err)
            return
        if answer is not None:
            self.stop()
            self._answered.set_result(answer)

    def _fail(self, err: Exception) -> None:
        self.stop()
        self._answered.set_exception(err)


def _new_socket(family: int) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setblocking(False)
    return sock


@functools.lru_cache(maxsize=64)
def _literal_address(host: str, port: int) -> tuple[int, Any] | None:
    """Return (family, socket address) of an IP literal, None for a name."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv4Address):
        return socket.AF_INET, (host, port)
    if ip.scope_id:
        return None  # the zone name needs the resolver
    return socket.AF_INET6, (host, port, 0, 0)


async def _addresses(
    loop: asyncio.AbstractEventLoop, host: str, port: int
) -> list[tuple[int, Any]]:
    literal = _literal_address(host, port)
    if literal is not None:
        return [literal]
    # A name is resolved at every request, as asyncio's create_connection does:
    # a meter that moves to another address is found at the next poll.
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [(family, address) for family, _, _, _, address in infos]


async def exchange(host: str, port: int, request: bytes) -> Answer:
    """Connect, send `request` once, and return the answer; the caller sets a timeout.

    Raises OSError when no connection can be made (each address of a name is
    tried in turn) and HttpError for a broken connection or an answer that is
    not HTTP/1.x; the connection is closed in every case, also when the
    caller's timeout cancels the wait. Needs an event loop with readiness
    callbacks (`add_reader`): Home Assistant's, on Linux and macOS.
    """
    loop = asyncio.get_running_loop()
    error: OSError = OSError(f"no address for {host}")
    for family, address in await _addresses(loop, host, port):
        sock = _new_socket(family)
        answered: asyncio.Future[Answer] = loop.create_future()
        talk = _Exchange(loop, sock, request, answered)
        try:
            talk.begin(address)
            return await answered
        except OSError as err:
            # Only a failed connect is an OSError: nothing was sent, the next
            # address may answer. Later failures are HttpErrors.
            error = err
        finally:
            talk.stop()
            sock.close()
            if not answered.done():
                answered.cancel()
    raise error
