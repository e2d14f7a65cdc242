"""HTTP as libcurl sends it: chunked bodies behind `Expect: 100-continue`."""

from __future__ import annotations

import asyncio

from iem_dcr_simulator import MeterSimulator

# A safety net against a broken server, never a wait for something to happen.
IO_TIMEOUT = 5


async def exchange_head(
    reader: asyncio.StreamReader,
) -> tuple[bytes, dict[str, str]]:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), IO_TIMEOUT)
    status_line, *header_lines = head.decode("latin-1").split("\r\n")[:-2]
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status_line.encode(), headers


def libcurl_post_head(sim: MeterSimulator, path: str) -> bytes:
    # The request head captured from libcurl with the EVerest driver's options.
    return (
        f"POST {path} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{sim.port}\r\n"
        "Accept: */*\r\n"
        "Transfer-Encoding: chunked\r\n"
        "Content-Type: application/json\r\n"
        "Expect: 100-continue\r\n"
        "\r\n"
    ).encode()


async def test_chunked_post_with_expect_100_continue(
    simulator: MeterSimulator,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", simulator.port)
    try:
        writer.write(libcurl_post_head(simulator, "/counter/v1/ocmf/receipt"))
        await writer.drain()
        # libcurl holds the body back until the server says 100 Continue.
        interim, _ = await exchange_head(reader)
        assert interim == b"HTTP/1.1 100 Continue"
        assert simulator.state.meter_value()["XT"] is False

        writer.write(b'a\r\n{"TX":"B"}\r\n0\r\n\r\n')
        await writer.drain()
        status, headers = await exchange_head(reader)
        assert status == b"HTTP/1.1 200 OK"
        assert headers.get("content-length", "0") == "0"
    finally:
        writer.close()
        await writer.wait_closed()
    assert simulator.state.transaction_active
    assert simulator.requests[-1].body == '{"TX":"B"}'
    assert simulator.requests[-1].headers["Transfer-Encoding"] == "chunked"


async def test_chunked_body_split_over_several_chunks(
    simulator: MeterSimulator,
) -> None:
    body = (
        '{"IS":true,"IL":"UNKNOWN","IF":[],"IT":"ISO14443",'
        '"ID":"04A1B2C3D4E5F6","US":false,"TT":"0,20 €/kWh"}'
    ).encode()
    first, second = body[:17], body[17:]
    reader, writer = await asyncio.open_connection("127.0.0.1", simulator.port)
    try:
        writer.write(libcurl_post_head(simulator, "/counter/v1/ocmf/user"))
        await writer.drain()
        assert (await exchange_head(reader))[0] == b"HTTP/1.1 100 Continue"
        writer.write(b"%x\r\n%s\r\n" % (len(first), first))
        writer.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(second), second))
        await writer.drain()
        assert (await exchange_head(reader))[0] == b"HTTP/1.1 200 OK"
    finally:
        writer.close()
        await writer.wait_closed()
    staged = simulator.state.staged_user
    assert staged is not None
    assert staged.tariff_text == "0,20 €/kWh"


async def test_get_with_json_content_type_and_no_body(
    simulator: MeterSimulator,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", simulator.port)
    try:
        writer.write(
            (
                "GET /counter/v1/ocmf/metervalue HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{simulator.port}\r\n"
                "Accept: */*\r\n"
                "Content-Type: application/json\r\n"
                "\r\n"
            ).encode()
        )
        await writer.drain()
        status, headers = await exchange_head(reader)
        assert status == b"HTTP/1.1 200 OK"
        assert headers["content-type"].startswith("application/json")
        body = await asyncio.wait_for(
            reader.readexactly(int(headers["content-length"])), IO_TIMEOUT
        )
    finally:
        writer.close()
        await writer.wait_closed()
    assert body.startswith(b'{"MS":"1ISA0200001132",')
