"""Smoke test in a real Home Assistant process.

Onboarding, config flow, entities, a transaction over the REST API, and the tuple in
the ledger file.

One Home Assistant start for the module. `scripts/smoke --newest` runs it against the newest
Home Assistant release; the normal suite runs it on the pinned targets.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
import json
from pathlib import Path
from typing import Any

import pytest

from .harness import HassClient, HomeAssistantProcess, SimulatorProcess

pytestmark = pytest.mark.realhass

SERIAL = "1ISA0200001132"
PREFIX = f"iem_dcr_{SERIAL.lower()}"
UID = "04A1B2C3D4E5F6"


def _enable_sockets() -> None:
    """Undo the Home Assistant test plugin's socket block (absent in scripts/smoke's venv)."""
    try:
        import pytest_socket
    except ImportError:
        return
    pytest_socket.enable_socket()


@dataclass
class RealHass:
    hass: HomeAssistantProcess
    client: HassClient
    simulator: SimulatorProcess
    entry_id: str
    config_dir: Path


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No test Home Assistant here: the real one runs in its own process."""


@pytest.fixture(scope="module")
def real_hass(tmp_path_factory: pytest.TempPathFactory) -> Generator[RealHass]:
    # The test plugin blocks sockets for each test; these talk HTTP to child processes.
    _enable_sockets()
    config_dir = tmp_path_factory.mktemp("config")
    simulator = SimulatorProcess(args=("--voltage", "400"))
    simulator.start()
    hass = HomeAssistantProcess(config_dir)
    try:
        hass.start()
        client = HassClient(hass.url, hass.onboard())
        entry_id = client.add_iem_dcr(
            simulator.host, simulator.port, "EVSEID", "DE*ABC*E1234", "0,35 EUR/kWh"
        )
        client.wait_for(
            lambda: (
                (client.state(f"sensor.{PREFIX}_voltage") or {}).get("state") == "400.0"
            ),
            60,
            "the voltage sensor to show the simulator's 400 V",
        )
        yield RealHass(hass, client, simulator, entry_id, config_dir)
    finally:
        hass.terminate()
        simulator.stop()


@pytest.fixture(autouse=True)
def sockets_for_http(real_hass: RealHass) -> None:
    """Allow sockets again after the test plugin's per-test block."""
    _enable_sockets()


def test_entities_have_states_and_are_registered(real_hass: RealHass) -> None:
    client = real_hass.client
    states = {state["entity_id"]: state for state in client.states()}
    ours = {entity_id for entity_id in states if PREFIX in entity_id}
    assert f"sensor.{PREFIX}_energy_imported" in ours
    assert f"binary_sensor.{PREFIX}_transaction" in ours
    assert states[f"binary_sensor.{PREFIX}_transaction"]["state"] == "off"
    [registry] = client.ws([{"type": "config/entity_registry/list"}])
    registered = {
        entry["entity_id"]
        for entry in registry["result"]
        if entry["platform"] == "iem_dcr"
        and entry["config_entry_id"] == real_hass.entry_id
    }
    # Disabled-by-default entities are registered without a state.
    assert ours <= registered


def _call(real_hass: RealHass, service: str, data: dict[str, Any]) -> dict[str, Any]:
    status, body = real_hass.client.call_service(
        "iem_dcr", service, {"config_entry_id": real_hass.entry_id, **data}, True
    )
    assert status == 200, body
    response: dict[str, Any] = body["service_response"]
    return response


def test_start_and_stop_over_rest_store_the_signed_tuple(real_hass: RealHass) -> None:
    started = _call(
        real_hass,
        "start_transaction",
        {
            "transaction_id": "smoke-1",
            "identification_type": "iso14443",
            "identification_data": UID,
        },
    )
    assert started["status"] == "OK"
    assert started["meter_serial"] == SERIAL
    real_hass.client.wait_for(
        lambda: (
            (real_hass.client.state(f"binary_sensor.{PREFIX}_transaction") or {}).get(
                "state"
            )
            == "on"
        ),
        30,
        "the transaction sensor to turn on",
    )

    stopped = _call(real_hass, "stop_transaction", {})

    assert stopped["status"] == "OK"
    assert stopped["already_stored"] is False
    issued = real_hass.simulator.issued()
    assert stopped["ocmf"] == issued[-1]
    assert stopped["ocmf"].startswith("OCMF|")
    ledger = real_hass.config_dir / "iem_dcr_ledger" / f"{SERIAL}.jsonl"
    records = [json.loads(line) for line in ledger.read_text().splitlines()]
    assert [r["ocmf"] for r in records].count(stopped["ocmf"]) == 1
