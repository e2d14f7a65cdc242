"""The client's own HTTP/1.1 transport: answers read strictly, whatever their framing."""

from __future__ import annotations

import asyncio
import errno
import socket
import struct
from typing import Any

from hypothesis import given, strategies as st
import pytest

from custom_components.iem_dcr.api import IemDcrClient, IemDcrConnectionError, http1
from custom_components.iem_dcr.api.http1 import (
    MAX_BODY,
    MAX_HEAD,
    Answer,
    AnswerReader,
    HttpError,
    build_request,
    exchange,
)

from .payloads import PUBLICKEY
from .raw_device import raw_device

BODY = b'{"SA":"ECDSA-secp256r1-SHA256","PK":"3059"}'

# The same answer in every framing a server may choose.
FRAMINGS = {
    "content-length": (
        b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BODY) + BODY
    ),
    "chunked": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"a\r\n" + BODY[:10] + b"\r\n"
        b"1;name=value\r\n" + BODY[10:11] + b"\r\n"
        b"%x\r\n" % len(BODY[11:]) + BODY[11:] + b"\r\n"
        b"0\r\nX-Trailer: yes\r\n\r\n"
    ),
    "until-close": b"HTTP/1.0 200 OK\r\nServer: tiny\r\n\r\n" + BODY,
    "bare-lf": b"HTTP/1.1 200 OK\nContent-Length: %d\n\n" % len(BODY) + BODY,
    "after-100-continue": (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BODY) + BODY
    ),
    "no-reason": b"HTTP/1.1 200\r\ncontent-length: %d\r\n\r\n" % len(BODY) + BODY,
    "chunked-bare-lf": (
        b"HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n"
        b"%x\n" % len(BODY) + BODY + b"\n0\n\n"
    ),
}


def read_all(data: bytes, pieces: list[int] | None = None) -> Answer:
    """Feed `data` cut at `pieces`, then the end of the connection."""
    reader = AnswerReader()
    start = 0
    for cut in sorted(pieces or []):
        answer = reader.feed(data[start:cut])
        start = cut
    answer = reader.feed(data[start:])
    return answer if answer is not None else reader.finish()


@pytest.mark.parametrize("framing", FRAMINGS)
def test_every_framing_gives_the_same_answer(framing: str) -> None:
    assert read_all(FRAMINGS[framing]) == Answer(200, BODY)


@given(data=st.data())
@pytest.mark.parametrize("framing", FRAMINGS)
def test_any_split_of_the_bytes_gives_the_same_answer(
    framing: str, data: st.DataObject
) -> None:
    raw = FRAMINGS[framing]
    cuts = data.draw(st.lists(st.integers(0, len(raw)), max_size=12))

    assert read_all(raw, cuts) == Answer(200, BODY)


def test_a_complete_answer_needs_no_end_of_connection() -> None:
    reader = AnswerReader()

    assert reader.feed(FRAMINGS["content-length"]) == Answer(200, BODY)
    # Whatever a server sends after the answer is not read.
    assert reader.feed(b"HTTP/1.1 500 Oops\r\n\r\n") == Answer(200, BODY)


def test_an_answer_with_no_body() -> None:
    assert read_all(b"HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n") == Answer(
        204, b""
    )
    assert read_all(b"HTTP/1.1 428 Precondition Required\r\n\r\n") == Answer(428, b"")


def test_signed_text_is_kept_byte_for_byte() -> None:
    text = ' OCMF|{"TT":"0,20 €/kWh"}|{"SD":"30"}\r\n\n'.encode()
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(text) + text

    assert read_all(raw).body == text


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"", "without an answer"),
        (b"HTTP/1.1 200 OK\r\nContent-Len", "middle of the answer's head"),
        (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", "not an HTTP/1.x answer"),
        (b"HTTP/2 200\r\n\r\n", "not an HTTP/1.x answer"),
        (b"HTTP/1.1 20 OK\r\n\r\n", "not an HTTP/1.x answer"),
        (b"HTTP/1.1 200 OK\r\nBroken header\r\n\r\n", "invalid header line"),
        (b"HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nab", "invalid header line"),
        (b"HTTP/1.1 200 OK\r\n folded: value\r\n\r\n", "invalid header line"),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
            "contradicting Content-Length",
        ),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "invalid Content-Length"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n", "invalid Content-Length"),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n" + PUBLICKEY.encode()[:40],
            "closed after 40 of 500 bytes",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            "unsupported transfer encoding",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 1\r\n\r\nx",
            "compressed answer",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "invalid chunk size",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n",
            "chunk data longer than its size",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
            "middle of a chunked body",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (MAX_BODY + 1),
            "longer than",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n"
            % (MAX_BODY + 1),
            "longer than",
        ),
        (b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * (MAX_HEAD // 6), "head longer than"),
        (b"HTTP/1.0 200 OK\r\n\r\n" + b"x" * (MAX_BODY + 1), "longer than"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_what_is_not_a_usable_answer(raw: bytes, problem: str) -> None:
    with pytest.raises(HttpError, match=problem):
        read_all(raw)


class RecordingSocket(socket.socket):
    """A real socket that notes every send and can act as other kernels do.

    `take`: bytes a send takes at most (a full send buffer); `connect_at_once`:
    the connection stands when connect() returns; `connect_error`, `send_error`:
    raised by the first connect or send; `spurious_reads`: reads that find no
    data though the loop said there was some.
    """

    sends: list[bytes]
    take: int | None = None
    connect_at_once = False
    connect_error: OSError | None = None
    send_error: OSError | None = None
    spurious_reads = 0

    def connect(self, address: Any) -> None:
        error, RecordingSocket.connect_error = RecordingSocket.connect_error, None
        if error is not None:
            raise error
        if self.connect_at_once:
            self.setblocking(True)
            super().connect(address)
            self.setblocking(False)
            return
        super().connect(address)

    def send(self, data: Any, flags: int = 0) -> int:
        error, RecordingSocket.send_error = RecordingSocket.send_error, None
        if error is not None:
            raise error
        chunk = bytes(data)[: self.take] if self.take else bytes(data)
        self.sends.append(chunk)
        return super().send(chunk, flags)

    def recv(self, size: int, flags: int = 0) -> bytes:
        if RecordingSocket.spurious_reads:
            RecordingSocket.spurious_reads -= 1
            raise BlockingIOError
        return super().recv(size, flags)


def recording_sockets(monkeypatch: pytest.MonkeyPatch, **behaviour: Any) -> list[bytes]:
    """Make the transport's sockets RecordingSockets; return their sends."""
    sends: list[bytes] = []
    for name, value in behaviour.items():
        monkeypatch.setattr(RecordingSocket, name, value)

    def new_socket(family: int) -> socket.socket:
        sock = RecordingSocket(family, socket.SOCK_STREAM)
        sock.sends = sends
        sock.setblocking(False)
        return sock

    monkeypatch.setattr(http1, "_new_socket", new_socket)
    return sends


async def test_the_request_is_written_in_one_piece(
    socket_enabled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    sends = recording_sockets(monkeypatch)
    request = build_request("POST", "192.168.60.12", "/counter/v1/ocmf/gw", b'{"a":1}')

    async with raw_device(FRAMINGS["content-length"]) as device:
        answer = await exchange(device.host, device.port, request)

    assert answer == Answer(200, BODY)
    assert sends == [
        (
            b"POST /counter/v1/ocmf/gw HTTP/1.1\r\n"
            b"Host: 192.168.60.12\r\n"
            b"Accept: */*\r\n"
            b"Content-Type: application/json\r\n"
            b"Connection: close\r\n"
            b"Content-Length: 7\r\n"
            b"\r\n"
            b'{"a":1}'
        )
    ]
    assert device.requests == sends


async def test_a_request_the_socket_takes_in_parts_arrives_whole_and_once(
    socket_enabled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full send buffer takes part of a request; the rest follows when it drains."""
    sends = recording_sockets(monkeypatch, take=10)
    request = build_request("POST", "meter", "/counter/v1/ocmf/user", b'{"ID":"x"}')

    async with raw_device(FRAMINGS["chunked"]) as device:
        answer = await exchange(device.host, device.port, request)

    assert answer == Answer(200, BODY)
    assert len(sends) == -(-len(request) // 10)
    assert device.requests == [request]


async def test_a_name_is_resolved_and_each_address_tried(
    socket_enabled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first address refuses the connection: nothing was sent, the next is tried."""
    sends = recording_sockets(monkeypatch)
    request = build_request("GET", "meter.local", "/counter/v1/ocmf/publickey")

    async with raw_device(FRAMINGS["content-length"]) as device:
        refusing = socket.socket()
        refusing.bind(("127.0.0.1", 0))  # bound, never listening: refuses
        closed_port = refusing.getsockname()[1]
        loop = asyncio.get_running_loop()

        async def getaddrinfo(host: str, port: int, **_: Any) -> list[Any]:
            assert host == "meter.local"
            return [
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", closed_port)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
            ]

        monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)
        try:
            answer = await exchange("meter.local", device.port, request)
        finally:
            refusing.close()

    assert answer == Answer(200, BODY)
    assert device.requests == [request]
    assert sends == [request]


async def test_no_address_answering_is_the_last_connection_error(
    socket_enabled: None,
) -> None:
    refusing = socket.socket()
    refusing.bind(("127.0.0.1", 0))
    port = refusing.getsockname()[1]
    try:
        with pytest.raises(ConnectionRefusedError):
            await exchange("127.0.0.1", port, build_request("GET", "m", "/"))
    finally:
        refusing.close()


async def test_a_cancelled_exchange_closes_its_connection(socket_enabled: None) -> None:
    """The caller's timeout ends the wait: the meter sees the connection close."""
    connected = asyncio.Event()
    closed = asyncio.Event()

    async def silent(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        connected.set()
        await reader.read()  # returns at the client's close
        closed.set()
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        talk = asyncio.create_task(
            exchange("127.0.0.1", port, build_request("GET", "m", "/"))
        )
        await connected.wait()
        talk.cancel()
        with pytest.raises(asyncio.CancelledError):
            await talk
        await closed.wait()
    finally:
        server.close()
        await server.wait_closed()


async def test_a_connection_made_at_once_and_a_read_with_nothing_to_read(
    socket_enabled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    sends = recording_sockets(monkeypatch, connect_at_once=True, spurious_reads=1)
    request = build_request("GET", "m", "/counter/v1/ocmf/publickey")

    async with raw_device(FRAMINGS["until-close"]) as device:
        answer = await exchange(device.host, device.port, request)

    assert answer == Answer(200, BODY)
    assert sends == [request]
    assert RecordingSocket.spurious_reads == 0


async def test_an_unreachable_address_fails_at_once_and_the_next_is_tried(
    socket_enabled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    sends = recording_sockets(
        monkeypatch, connect_error=OSError(errno.ENETUNREACH, "Network unreachable")
    )
    request = build_request("GET", "meter.local", "/counter/v1/ocmf/publickey")
    loop = asyncio.get_running_loop()

    async with raw_device(FRAMINGS["content-length"]) as device:

        async def getaddrinfo(host: str, port: int, **_: Any) -> list[Any]:
            return [
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
            ] * 2

        monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)
        assert await exchange("meter.local", device.port, request) == Answer(200, BODY)

    assert sends == [request]


async def test_a_failed_send_is_a_connection_error_and_is_not_repeated(
    socket_enabled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    sends = recording_sockets(
        monkeypatch, send_error=BrokenPipeError(32, "Broken pipe")
    )

    async with (
        raw_device(FRAMINGS["content-length"]) as device,
        IemDcrClient(device.host, device.port) as client,
    ):
        with pytest.raises(IemDcrConnectionError, match="BrokenPipeError"):
            await client.begin_transaction()

    assert sends == []
    assert device.requests == []


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("192.168.60.12", (socket.AF_INET, ("192.168.60.12", 80))),
        ("fd00::12", (socket.AF_INET6, ("fd00::12", 80, 0, 0))),
        ("fe80::12%eth0", None),  # a zone: the resolver knows its index
        ("meter.local", None),
    ],
)
def test_ip_literals_need_no_resolver(host: str, expected: Any) -> None:
    assert http1._literal_address(host, 80) == expected


@pytest.mark.parametrize("framing", FRAMINGS)
async def test_the_client_reads_every_framing_from_a_raw_device(
    socket_enabled: None, framing: str
) -> None:
    async with (
        raw_device(FRAMINGS[framing]) as device,
        IemDcrClient(device.host, device.port) as client,
    ):
        key = await client.get_public_key()

    assert key.key == "3059"
    assert device.requests == [
        b"GET /counter/v1/ocmf/publickey HTTP/1.1\r\n"
        b"Host: 127.0.0.1:%d\r\n"
        b"Accept: */*\r\n"
        b"Content-Type: application/json\r\n"
        b"Connection: close\r\n\r\n" % device.port
    ]


async def test_a_bad_answer_is_a_connection_error(socket_enabled: None) -> None:
    raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
    async with (
        raw_device(raw) as device,
        IemDcrClient(device.host, device.port) as client,
    ):
        with pytest.raises(IemDcrConnectionError, match="invalid chunk size"):
            await client.get_public_key()


def test_the_end_of_the_connection_after_a_complete_answer_changes_nothing() -> None:
    reader = AnswerReader()
    answer = reader.feed(FRAMINGS["content-length"])

    assert reader.finish() is answer


@pytest.mark.parametrize(
    "size_line", [b"", b"123456789", b";ext=only", b"x" * (MAX_HEAD + 1)]
)
def test_chunk_size_lines_that_are_no_size(size_line: bytes) -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    ending = b"" if len(size_line) > MAX_HEAD else b"\r\n"

    with pytest.raises(HttpError, match="chunk"):
        read_all(head + size_line + ending)


async def test_a_reset_connection_is_a_connection_error(socket_enabled: None) -> None:
    """The server reads the request, then resets the connection (RST, not FIN)."""

    async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    server = await asyncio.start_server(reset, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with IemDcrClient("127.0.0.1", port) as client:
            with pytest.raises(IemDcrConnectionError, match="metervalue: HttpError"):
                await client.get_meter_value()
    finally:
        server.close()
        await server.wait_closed()
