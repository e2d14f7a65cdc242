"""The command line entry point."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from iem_dcr_simulator import MeterSimulator, Transport
from iem_dcr_simulator.__main__ import _announce, parse_arguments, serve
from iem_dcr_simulator.transport import DESCRIPTIONS


def test_defaults_listen_on_loopback() -> None:
    arguments = parse_arguments([])
    assert arguments.host == "127.0.0.1"
    assert arguments.port == 8080
    assert arguments.serial == "1ISA0200001132"
    assert arguments.key_file is None
    assert (arguments.voltage, arguments.current) == (0.0, 0.0)
    assert arguments.transport == "aiohttp"


async def test_serve_keeps_its_key_across_restarts(tmp_path: Path) -> None:
    key_file = tmp_path / "meter.pem"
    arguments = parse_arguments(
        [
            "--port", "0",
            "--serial", "1ISA0200009999",
            "--key-file", str(key_file),
            "--voltage", "400",
            "--current", "-2",
        ]
    )  # fmt: skip
    seen: list[tuple[str, str, float]] = []

    async def run_once() -> None:
        stop = asyncio.Event()

        def announce(simulator: MeterSimulator) -> None:
            asyncio.get_running_loop().create_task(read(simulator, stop))

        await serve(arguments, stop, announce)

    async def read(simulator: MeterSimulator, stop: asyncio.Event) -> None:
        base = simulator.url + "/counter/v1/ocmf/"
        try:
            async with aiohttp.ClientSession() as session:
                async with session.get(base + "metervalue") as response:
                    document = await response.json()
                async with session.get(base + "publickey") as response:
                    public_key = (await response.json())["PK"]
            seen.append((document["MS"], public_key, document["P"]))
        finally:
            stop.set()

    await asyncio.wait_for(run_once(), 5)
    assert key_file.exists()
    await asyncio.wait_for(run_once(), 5)
    assert len(seen) == 2
    assert seen[0] == seen[1]
    assert seen[0][0] == "1ISA0200009999"
    assert seen[0][2] == -800.0


def test_help_lists_every_transport_mode(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_arguments(["--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    assert "--transport MODE" in text
    for mode in Transport:
        assert f"  {mode.value} " in text
        assert DESCRIPTIONS[mode] in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--transport", "http2"], "invalid choice: 'http2'"),
        (["--idle-timeout", "0"], "must be positive"),
        (["--body-delay", "-0.1"], "must not be negative"),
    ],
)
def test_invalid_transport_arguments(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_arguments(argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


async def test_serve_in_a_transport_mode() -> None:
    arguments = parse_arguments(
        ["--port", "0", "--transport", "close_silently", "--idle-timeout", "0.5",
         "--body-delay", "0"]
    )  # fmt: skip
    assert (arguments.idle_timeout, arguments.body_delay) == (0.5, 0.0)
    stop = asyncio.Event()
    seen: list[tuple[Transport, bytes]] = []

    def announce(simulator: MeterSimulator) -> None:
        asyncio.get_running_loop().create_task(read(simulator))

    async def read(simulator: MeterSimulator) -> None:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", simulator.port)
            writer.write(b"GET /counter/v1/ocmf/gw HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = await reader.read()  # closed after the answer, unasked
            writer.close()
            seen.append((simulator.transport, answer.split(b"\r\n", 1)[0]))
        finally:
            stop.set()

    await asyncio.wait_for(serve(arguments, stop, announce), 5)
    assert seen == [(Transport.CLOSE_SILENTLY, b"HTTP/1.1 200 OK")]


def test_the_announcement_names_the_transport(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _announce(MeterSimulator(port=8080, transport="chunked"))
    assert "listening at http://127.0.0.1:8080 (transport chunked)" in (
        capsys.readouterr().out
    )
