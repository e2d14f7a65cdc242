"""A small HTTP/1.x reader and writer on asyncio streams, written without aiohttp.

Enough of RFC 9112 for a meter: request and status lines, header fields, bodies
framed by Content-Length, chunked transfer coding or the end of the connection.
Messages keep the bytes they arrived as, so that they can be passed on unchanged.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

MAX_HEAD = 64 * 1024
MAX_BODY = 1024 * 1024
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_CRLF = b"\r\n"
_END_OF_HEAD = b"\r\n\r\n"
_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    428: "Precondition Required",
    500: "Internal Server Error",
}


class MessageError(Exception):
    """The bytes are not an HTTP/1.x message this reader accepts."""


class ConnectionEndedError(Exception):
    """The peer closed the connection before the message was complete."""


@dataclass(frozen=True, slots=True)
class Head:
    """A start line and its header fields, as received."""

    start_line: str
    fields: tuple[tuple[str, str], ...]

    def get(self, name: str) -> str | None:
        """Return the last value of a header field (case-insensitive), or None."""
        wanted = name.lower()
        found = None
        for field_name, value in self.fields:
            if field_name.lower() == wanted:
                found = value
        return found

    def has_token(self, name: str, token: str) -> bool:
        """Whether a comma-separated header field lists `token` (case-insensitive)."""
        return any(
            part.strip().lower() == token
            for field_name, value in self.fields
            if field_name.lower() == name.lower()
            for part in value.split(",")
        )


@dataclass(frozen=True, slots=True)
class Request:
    """A request read in full; `raw` is every byte of it as it arrived."""

    method: str
    target: str
    version: str  # "HTTP/1.1" or "HTTP/1.0"
    head: Head
    body: bytes
    raw: bytes

    @property
    def wants_close(self) -> bool:
        """Whether the client asked for the connection to end after the answer."""
        if self.version == "HTTP/1.0":
            return not self.head.has_token("connection", "keep-alive")
        return self.head.has_token("connection", "close")


@dataclass(frozen=True, slots=True)
class Response:
    """A final response read in full, body decoded from its framing."""

    status: int
    reason: str
    head: Head
    body: bytes


async def read_request(
    reader: asyncio.StreamReader,
    before_body: Callable[[Head], Awaitable[None]] | None = None,
) -> Request | None:
    """Read one request; None when the connection ended cleanly before it began.

    `before_body` runs after the head and before the body is read (to answer
    `Expect: 100-continue`). Raises MessageError for what cannot be read as
    HTTP/1.x and ConnectionEndedError for a request cut off.
    """
    raw_head = await _read_head(reader)
    if raw_head is None:
        return None
    head = _parse_head(raw_head)
    method, target, version = _request_line(head.start_line)
    framing = _body_framing(head)
    if framing is not None and before_body is not None:
        await before_body(head)
    if framing is None:
        body, raw_body = b"", b""
    elif isinstance(framing, str):
        body, raw_body = await _read_chunked(reader)
    else:
        raw_body = body = await _read_exactly(reader, framing)
    return Request(method, target, version, head, body, raw_head + raw_body)


async def read_response(reader: asyncio.StreamReader, method: str) -> Response | None:
    """Read the final response to a request; None when the peer closed without one.

    Interim (1xx) responses are skipped. Raises MessageError and
    ConnectionEndedError as read_request() does.
    """
    while True:
        raw_head = await _read_head(reader)
        if raw_head is None:
            return None
        head = _parse_head(raw_head)
        status, reason = _status_line(head.start_line)
        if not 100 <= status < 200:
            break
    if method == "HEAD" or status in {204, 304}:
        return Response(status, reason, head, b"")
    framing = _body_framing(head)
    if isinstance(framing, str):
        body, _ = await _read_chunked(reader)
    elif framing is not None:
        body = await _read_exactly(reader, framing)
    elif head.get("content-length") is not None:
        body = b""
    else:
        body = await _read_to_the_end(reader)
    return Response(status, reason, head, body)


def status_line(version: str, status: int, reason: str = "") -> bytes:
    """Return a status line with its CRLF."""
    reason = reason or _REASONS.get(status, "Unknown")
    return f"{version} {status} {reason}\r\n".encode("latin-1")


def header_lines(fields: list[tuple[str, str]]) -> bytes:
    """Return header field lines, each with its CRLF, and the empty line after them."""
    lines = b"".join(f"{name}: {value}\r\n".encode("latin-1") for name, value in fields)
    return lines + _CRLF


def chunked(body: bytes, size: int) -> bytes:
    """Encode `body` in chunks of at most `size` bytes, with the last chunk."""
    pieces = [body[at : at + size] for at in range(0, len(body), size)]
    encoded = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces)
    return encoded + b"0\r\n\r\n"


async def _read_head(reader: asyncio.StreamReader) -> bytes | None:
    try:
        return await reader.readuntil(_END_OF_HEAD)
    except asyncio.IncompleteReadError as err:
        if err.partial.strip():
            raise ConnectionEndedError("connection ended inside a head") from None
        return None
    except asyncio.LimitOverrunError:
        raise MessageError("head too large") from None


def _parse_head(raw: bytes) -> Head:
    text = raw.decode("latin-1")  # every byte is a latin-1 character
    start_line, *lines = text.lstrip("\r\n").split("\r\n")
    fields: list[tuple[str, str]] = []
    for line in lines:
        if not line:
            continue
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip() or " " in name:
            raise MessageError(f"malformed header line {line[:40]!r}")
        fields.append((name, value.strip()))
    return Head(start_line, tuple(fields))


def _request_line(line: str) -> tuple[str, str, str]:
    parts = line.split(" ")
    if len(parts) != 3 or parts[2] not in {"HTTP/1.0", "HTTP/1.1"}:
        raise MessageError(f"malformed request line {line[:60]!r}")
    method, target, version = parts
    if not method.isalpha() or not method.isupper() or not target.startswith("/"):
        raise MessageError(f"malformed request line {line[:60]!r}")
    return method, target, version


def _status_line(line: str) -> tuple[int, str]:
    version, _, rest = line.partition(" ")
    code, _, reason = rest.partition(" ")
    if version not in {"HTTP/1.0", "HTTP/1.1"} or len(code) != 3 or not code.isdigit():
        raise MessageError(f"malformed status line {line[:60]!r}")
    return int(code), reason


def _body_framing(head: Head) -> int | str | None:
    """Return "chunked", a Content-Length, or None for no body / read to the end."""
    coding = head.get("transfer-encoding")
    length = head.get("content-length")
    if coding is not None:
        if length is not None:
            raise MessageError("both Transfer-Encoding and Content-Length")
        if coding.split(",")[-1].strip().lower() != "chunked":
            raise MessageError(f"unsupported transfer coding {coding!r}")
        return "chunked"
    if length is None:
        return None
    if not length.isdigit():
        raise MessageError(f"malformed Content-Length {length!r}")
    size = int(length)
    if size > MAX_BODY:
        raise MessageError("body too large")
    return size or None


async def _read_exactly(reader: asyncio.StreamReader, size: int) -> bytes:
    try:
        return await reader.readexactly(size)
    except asyncio.IncompleteReadError:
        raise ConnectionEndedError("connection ended inside a body") from None


async def _read_to_the_end(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while chunk := await reader.read(64 * 1024):
        body += chunk
        if len(body) > MAX_BODY:
            raise MessageError("body too large")
    return bytes(body)


async def _read_chunked(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """Return the decoded body and the raw bytes of a chunked body."""
    body = bytearray()
    raw = bytearray()
    while True:
        size_line = await _read_line(reader)
        raw += size_line
        size_text = size_line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise MessageError(f"malformed chunk size {size_text[:20]!r}") from None
        if size == 0:
            break
        if len(body) + size > MAX_BODY:
            raise MessageError("body too large")
        data = await _read_exactly(reader, size + 2)
        if data[-2:] != _CRLF:
            raise MessageError("chunk without its CRLF")
        raw += data
        body += data[:-2]
    # Trailer fields, if any, up to the empty line.
    while (line := await _read_line(reader)) != _CRLF:
        raw += line
    raw += _CRLF
    return bytes(body), bytes(raw)


async def _read_line(reader: asyncio.StreamReader) -> bytes:
    try:
        return await reader.readuntil(_CRLF)
    except asyncio.IncompleteReadError:
        raise ConnectionEndedError("connection ended inside a chunked body") from None
    except asyncio.LimitOverrunError:
        raise MessageError("line too long") from None
