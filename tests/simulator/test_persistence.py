"""The state file (`--state-file`): a second run continues registers and pagination."""

from __future__ import annotations

import asyncio
from decimal import Decimal
import json
import os
from pathlib import Path

import aiohttp
import pytest

from iem_dcr_simulator import MeterSimulator, MeterState, persistence
from iem_dcr_simulator.__main__ import main, parse_arguments, serve


def _meter_with_two_transactions() -> MeterState:
    meter = MeterState()
    meter.add_energy(import_kwh="12.5", export_kwh="0.25")
    for _ in range(2):
        meter.begin_transaction()
        meter.add_energy(import_kwh="1")
        meter.end_transaction()
    return meter


def test_round_trip_keeps_registers_pagination_tuples_and_key(tmp_path: Path) -> None:
    path = tmp_path / "sim.json"
    first = _meter_with_two_transactions()
    persistence.save(path, first)

    saved = persistence.load(path)
    assert saved is not None
    second = MeterState(private_key=saved.private_key)
    persistence.restore(saved, second)

    assert second.energy_import_total == first.energy_import_total == Decimal("14.5")
    assert second.energy_export_total == Decimal("0.25")
    assert second.pagination == 2
    assert second.issued == first.issued
    assert second.last_ocmf == first.issued[-1]
    assert second.public_key_hex == first.public_key_hex
    second.begin_transaction()
    assert '"PG":"T3"' in second.end_transaction()


def test_missing_file_is_a_fresh_meter(tmp_path: Path) -> None:
    assert persistence.load(tmp_path / "absent.json") is None


def test_changes_that_matter_are_written_at_once(tmp_path: Path) -> None:
    path = tmp_path / "sim.json"
    meter = MeterState()
    meter.on_change = lambda: persistence.save(path, meter)
    meter.begin_transaction()
    meter.end_transaction()
    assert json.loads(path.read_text(encoding="utf-8"))["pagination"] == 1
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "sim.json"
    meter = _meter_with_two_transactions()
    persistence.save(path, meter)
    before = path.read_bytes()
    meter.begin_transaction()
    meter.end_transaction()

    def disk_full(descriptor: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        persistence.save(path, meter)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["sim.json"]


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        '{"format": "something else"}',
        json.dumps({"format": persistence.FORMAT, "pagination": 1}),
        json.dumps(
            {
                "format": persistence.FORMAT,
                "private_key_pem": "garbage",
                "pagination": 0,
                "issued": [],
                "energy_import_total_kwh": "0",
                "energy_export_total_kwh": "0",
            }
        ),
    ],
)
def test_a_corrupt_file_gives_a_clear_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "sim.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(persistence.StateFileError, match="delete it") as caught:
        persistence.load(path)
    assert str(path) in str(caught.value)


def test_main_exits_with_the_message_for_a_corrupt_file(tmp_path: Path) -> None:
    path = tmp_path / "sim.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(SystemExit, match="not a readable simulator state file"):
        main(["--port", "0", "--state-file", str(path)])


async def test_a_second_run_continues_energy_and_pagination(tmp_path: Path) -> None:
    path = tmp_path / "sim.json"
    arguments = parse_arguments(["--port", "0", "--state-file", str(path)])
    seen: list[tuple[str, int]] = []

    async def session_once() -> None:
        stop = asyncio.Event()

        def announce(simulator: MeterSimulator) -> None:
            asyncio.get_running_loop().create_task(charge(simulator, stop))

        await serve(arguments, stop, announce)

    async def charge(simulator: MeterSimulator, stop: asyncio.Event) -> None:
        try:
            async with aiohttp.ClientSession() as session:
                await session.post(
                    simulator.url + "/_sim/energy", json={"import_kwh": "2"}
                )
                async with session.get(simulator.url + "/_sim/state") as response:
                    state = await response.json()
            simulator.state.begin_transaction()
            simulator.state.end_transaction()
            seen.append(
                (str(simulator.state.energy_import_total), len(state["issued"]))
            )
        finally:
            stop.set()

    await asyncio.wait_for(session_once(), 5)
    await asyncio.wait_for(session_once(), 5)
    assert seen == [("2", 0), ("4", 1)]
    assert json.loads(path.read_text(encoding="utf-8"))["pagination"] == 2
