"""The front's HTTP/1.x reader and writer, on byte strings."""

from __future__ import annotations

import asyncio

import pytest

from iem_dcr_simulator.http1 import (
    MAX_BODY,
    ConnectionEndedError,
    Head,
    MessageError,
    chunked,
    header_lines,
    read_request,
    read_response,
    status_line,
)


def reader_of(data: bytes) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return reader


# --- requests ------------------------------------------------------------------------


async def test_request_with_a_length_body_keeps_its_bytes() -> None:
    data = b'POST /x HTTP/1.1\r\nHost: m\r\nContent-Length: 4\r\n\r\n{"a"'
    request = await read_request(reader_of(data + b"GET"))

    assert request is not None
    assert (request.method, request.target, request.version) == (
        "POST",
        "/x",
        "HTTP/1.1",
    )
    assert request.body == b'{"a"'
    assert request.raw == data
    assert request.head.get("HOST") == "m"
    assert not request.wants_close


async def test_chunked_request_with_extension_and_trailer() -> None:
    data = (
        b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3;name=value\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: yes\r\n\r\n"
    )
    request = await read_request(reader_of(data))

    assert request is not None
    assert request.body == b"abcde"
    assert request.raw == data


async def test_before_body_runs_only_when_a_body_follows() -> None:
    seen: list[Head] = []

    async def before_body(head: Head) -> None:
        seen.append(head)

    await read_request(reader_of(b"GET / HTTP/1.1\r\n\r\n"), before_body)
    assert seen == []
    await read_request(
        reader_of(b"POST / HTTP/1.1\r\nContent-Length: 1\r\n\r\nx"), before_body
    )
    assert len(seen) == 1


@pytest.mark.parametrize(
    ("connection", "wants_close"),
    [
        ("HTTP/1.0", True),
        ("HTTP/1.0\r\nConnection: Keep-Alive", False),
        ("HTTP/1.1", False),
        ("HTTP/1.1\r\nConnection: TE, close", True),
    ],
)
async def test_what_the_client_wants_of_the_connection(
    connection: str, wants_close: bool
) -> None:
    request = await read_request(reader_of(f"GET / {connection}\r\n\r\n".encode()))
    assert request is not None
    assert request.wants_close is wants_close


async def test_a_connection_ending_before_a_request_is_no_request() -> None:
    assert await read_request(reader_of(b"")) is None
    assert await read_request(reader_of(b"\r\n")) is None


@pytest.mark.parametrize(
    "data",
    [
        b"GET / HTTP/1.1\r\nHost",
        b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5",
    ],
    ids=["head", "body", "chunk", "chunk size"],
)
async def test_a_request_cut_off(data: bytes) -> None:
    with pytest.raises(ConnectionEndedError):
        await read_request(reader_of(data))


@pytest.mark.parametrize(
    "data",
    [
        b"GET /\r\n\r\n",
        b"GET / HTTP/2\r\n\r\n",
        b"get / HTTP/1.1\r\n\r\n",
        b"GET x HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nNo colon\r\n\r\n",
        b"GET / HTTP/1.1\r\nBad name: x\r\n\r\n",
        b"GET / HTTP/1.1\r\n: x\r\n\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % (MAX_BODY + 1),
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n" % (MAX_BODY + 1),
        b"GET / HTTP/1.1\r\nX: " + b"x" * 70_000,
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + b"1" * 70_000,
    ],
    ids=[
        "no version",
        "HTTP/2",
        "lower-case method",
        "no slash",
        "no colon",
        "space in name",
        "empty name",
        "chunked and length",
        "gzip",
        "negative length",
        "body too large",
        "chunk size not hex",
        "chunk without CRLF",
        "chunk too large",
        "head too large",
        "line too long",
    ],
)
async def test_malformed_requests(data: bytes) -> None:
    with pytest.raises(MessageError):
        await read_request(reader_of(data))


# --- responses -----------------------------------------------------------------------


async def test_interim_answers_are_skipped() -> None:
    data = (
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    )
    response = await read_response(reader_of(data), "POST")

    assert response is not None
    assert (response.status, response.reason, response.body) == (200, "OK", b"ok")


@pytest.mark.parametrize(
    ("method", "data", "body"),
    [
        ("HEAD", b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", b""),
        ("GET", b"HTTP/1.1 204 No Content\r\n\r\n", b""),
        ("GET", b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", b""),
        (
            "GET",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
            b"ok",
        ),
        ("GET", b"HTTP/1.0 200 OK\r\n\r\nuntil the end", b"until the end"),
    ],
    ids=["HEAD", "204", "empty", "chunked", "close-delimited"],
)
async def test_response_bodies(method: str, data: bytes, body: bytes) -> None:
    response = await read_response(reader_of(data), method)
    assert response is not None
    assert response.body == body


async def test_no_response_at_all() -> None:
    assert await read_response(reader_of(b""), "GET") is None


@pytest.mark.parametrize(
    "data",
    [
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"ICY 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * (MAX_BODY + 1),
    ],
    ids=["long status", "not HTTP", "body too large"],
)
async def test_malformed_responses(data: bytes) -> None:
    with pytest.raises(MessageError):
        await read_response(reader_of(data), "GET")


# --- writing -------------------------------------------------------------------------


def test_writing() -> None:
    assert status_line("HTTP/1.0", 428) == b"HTTP/1.0 428 Precondition Required\r\n"
    assert status_line("HTTP/1.1", 599) == b"HTTP/1.1 599 Unknown\r\n"
    assert status_line("HTTP/1.1", 503, "Busy") == b"HTTP/1.1 503 Busy\r\n"
    assert header_lines([("A", "1"), ("B", "2")]) == b"A: 1\r\nB: 2\r\n\r\n"
    assert chunked(b"abcde", 2) == b"2\r\nab\r\n2\r\ncd\r\n1\r\ne\r\n0\r\n\r\n"
    assert chunked(b"", 2) == b"0\r\n\r\n"
