"""Answers no sane meter gives, served byte for byte by a raw TCP device."""

from __future__ import annotations

import aiohttp
import pytest

from custom_components.iem_dcr.api import (
    IemDcrConnectionError,
    IemDcrRefusedError,
    IemDcrResponseError,
    IemDcrTimeoutError,
)
from custom_components.iem_dcr.api.http1 import HttpError

from .conftest import MakeClient
from .payloads import PUBLICKEY
from .raw_device import http_response, raw_device


async def test_body_that_is_not_utf8(make_client: MakeClient) -> None:
    async with raw_device(
        http_response("200 OK", b'{"SA":"\xff","PK":"30"}')
    ) as device:
        client = make_client(device.host, device.port)

        with pytest.raises(
            IemDcrResponseError, match=r"^publickey: body is not UTF-8"
        ) as caught:
            await client.get_public_key()

    assert caught.value.endpoint == "publickey"
    assert caught.value.field is None


async def test_signed_data_that_is_not_utf8(make_client: MakeClient) -> None:
    async with raw_device(http_response("200 OK", b"OCMF|\xc3(|")) as device:
        client = make_client(device.host, device.port)

        with pytest.raises(IemDcrResponseError, match=r"^receipt: body is not UTF-8"):
            await client.get_receipt()


async def test_empty_signed_data(make_client: MakeClient) -> None:
    async with raw_device(http_response("200 OK", b"")) as device:
        client = make_client(device.host, device.port)

        with pytest.raises(
            IemDcrResponseError, match=r"^transaction: empty signed data"
        ):
            await client.get_transaction()


async def test_empty_signed_data_on_v1_does_not_fall_back(
    make_client: MakeClient,
) -> None:
    """Only a refusal means "ask v2"; a 200 with nothing in it is a bad answer."""
    async with raw_device(http_response("200 OK", b"")) as device:
        client = make_client(device.host, device.port)

        with pytest.raises(IemDcrResponseError):
            await client.get_last_transaction()

    assert len(device.requests) == 1


async def test_signed_data_is_returned_byte_for_byte(
    make_client: MakeClient,
) -> None:
    text = ' OCMF|{"TT":"0,20 €/kWh","ID":"x|y"}|{"SA":"s","SD":"30"}\r\n\n'
    async with raw_device(
        http_response(
            "200 OK", text.encode(), headers="Content-Type: application/json\r\n"
        )
    ) as device:
        client = make_client(device.host, device.port)

        signed = await client.get_receipt()

    assert signed.text == text


async def test_json_under_any_content_type(make_client: MakeClient) -> None:
    async with raw_device(
        http_response(
            "200 OK", PUBLICKEY.encode(), headers="Content-Type: text/html\r\n"
        )
    ) as device:
        client = make_client(device.host, device.port)

        key = await client.get_public_key()

    assert key.algorithm == "ECDSA-secp256r1-SHA256"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"null ",
        b"{",
        b"{'SA': 'x'}",
        b'{"SA":"x","PK":"30"} trailing',
        b"\xef\xbb\xbf" + PUBLICKEY.encode(),  # a byte order mark is not JSON
        b"[" * 100_000 + b"]" * 100_000,  # nested deeper than any parser recurses
    ],
    ids=["empty", "null", "cut", "single-quotes", "trailing", "bom", "deep"],
)
async def test_body_that_is_not_json(make_client: MakeClient, body: bytes) -> None:
    async with raw_device(http_response("200 OK", body)) as device:
        client = make_client(device.host, device.port)

        with pytest.raises(IemDcrResponseError, match=r"^publickey: "):
            await client.get_public_key()


async def test_redirect_is_not_followed(make_client: MakeClient) -> None:
    async with raw_device(
        http_response(
            "302 Found", b"", headers="Location: http://127.0.0.1:9/elsewhere\r\n"
        )
    ) as device:
        client = make_client(device.host, device.port)

        with pytest.raises(IemDcrRefusedError) as caught:
            await client.get_meter_value()

    assert caught.value.status == 302
    assert caught.value.endpoint == "metervalue"
    assert len(device.requests) == 1


async def test_payload_cut_short(make_client: MakeClient) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\nConnection: close\r\n\r\n"
    async with raw_device(head + PUBLICKEY.encode()[:40]) as device:
        client = make_client(device.host, device.port)

        with pytest.raises(IemDcrConnectionError) as caught:
            await client.get_public_key()

    assert not isinstance(caught.value, IemDcrTimeoutError)
    assert isinstance(caught.value.__cause__, (HttpError, aiohttp.ClientError))
    assert "500" in str(caught.value) or "payload" in str(caught.value).lower()


async def test_garbage_instead_of_http(make_client: MakeClient) -> None:
    async with raw_device(b"SSH-2.0-OpenSSH_9.6\r\n\r\n") as device:
        client = make_client(device.host, device.port)

        with pytest.raises(IemDcrConnectionError):
            await client.get_gateway()
