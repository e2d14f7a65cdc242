"""What the recorder and the logbook keep of the public key: a fingerprint, not the key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
import hashlib
import json

from cryptography.hazmat.primitives import serialization
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder.core import Recorder
from homeassistant.components.recorder.history import state_changes_during_period
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    do_adhoc_statistics,
    statistics_during_period,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from iem_dcr_simulator import MeterSimulator

from .conftest import METER_KEY
from .helpers import poll, state_of

PUBLIC_KEY = "sensor.iem_dcr_1isa0200001132_public_key"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    quiet_sql_logs: None, recorder_mock: Recorder, enable_custom_integrations: None
) -> None:
    """The recorder must start before Home Assistant."""


def _expected_fingerprint() -> str:
    der = METER_KEY.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    digits = hashlib.sha256(der).hexdigest()[:16].upper()
    return " ".join(digits[i : i + 4] for i in range(0, 16, 4))


async def test_public_key_is_a_fingerprint_in_the_recorder_and_the_logbook(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    simulator: MeterSimulator,
    hass_ws_client: WebSocketGenerator,
) -> None:
    hass.config.components.add("frontend")  # the logbook needs it; not installed
    assert await async_setup_component(hass, "logbook", {})
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    key_hex = simulator.state.public_key_hex
    state = state_of(hass, PUBLIC_KEY)
    assert state.state == _expected_fingerprint()
    # The whole key is there for whoever needs it, but only in the state machine.
    assert state.attributes["public_key"] == key_hex
    assert state.attributes["algorithm"] == "ECDSA-secp256r1-SHA256"

    # A reload: the sensor goes away and comes back, which the logbook records.
    assert await hass.config_entries.async_reload(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    await async_wait_recording_done(hass)

    now = dt_util.utcnow()
    history = await hass.async_add_executor_job(
        state_changes_during_period,
        hass,
        now - timedelta(hours=1),
        now + timedelta(hours=1),
        PUBLIC_KEY,
    )
    recorded = history[PUBLIC_KEY]
    assert recorded
    assert all("public_key" not in item.attributes for item in recorded)
    assert {item.state for item in recorded} <= {_expected_fingerprint(), "unavailable"}

    client = await hass_ws_client()
    await client.send_json(
        {
            "id": 1,
            "type": "logbook/get_events",
            "start_time": (now - timedelta(hours=1)).isoformat(),
            "end_time": (now + timedelta(hours=1)).isoformat(),
            "entity_ids": [PUBLIC_KEY],
        }
    )
    response = await client.receive_json()
    assert response["success"]
    assert [entry["state"] for entry in response["result"]] == [
        "unavailable",
        _expected_fingerprint(),
    ]
    assert key_hex.lower() not in json.dumps(response).lower()


# What the README recommends to users whose database grows too fast at 1 s polls.
LIVE_VALUES_EXCLUDED = {
    "exclude": {
        "entity_globs": [
            "sensor.iem_dcr_*_power",
            "sensor.iem_dcr_*_voltage",
            "sensor.iem_dcr_*_current",
        ]
    }
}
PREFIX = "sensor.iem_dcr_1isa0200001132"
LIVE = (f"{PREFIX}_power", f"{PREFIX}_voltage", f"{PREFIX}_current")
ENERGY = f"{PREFIX}_energy_imported"


@pytest.mark.parametrize("recorder_config", [LIVE_VALUES_EXCLUDED])
async def test_live_values_left_out_of_the_recorder_keep_energy_statistics(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    simulator: MeterSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    start = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # a 5-minute boundary
    freezer.move_to(start + timedelta(seconds=5))
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    for step in range(6):
        simulator.state.set_measurements(voltage=400.0 + step, current=10.0 + step)
        simulator.state.add_energy(import_kwh=Decimal("0.125"), export_kwh=Decimal(0))
        await poll(hass, freezer, 10)
    await async_wait_recording_done(hass)

    # Live values stay live in the state machine ...
    assert state_of(hass, f"{PREFIX}_voltage").state == "405.0"
    # ... but the database holds none of them, and every energy reading.
    for entity_id in (*LIVE, ENERGY):
        history = await hass.async_add_executor_job(
            state_changes_during_period,
            hass,
            start,
            start + timedelta(minutes=5),
            entity_id,
        )
        assert bool(history.get(entity_id)) is (entity_id == ENERGY), entity_id
    energy_states = history[ENERGY]
    assert energy_states[-1].state == state_of(hass, ENERGY).state

    # The Energy dashboard's statistics are compiled as before.
    do_adhoc_statistics(hass, start=start)
    await async_wait_recording_done(hass)
    statistics = await hass.async_add_executor_job(
        statistics_during_period,
        hass,
        start,
        None,
        {ENERGY, *LIVE},
        "5minute",
    )
    assert set(statistics) == {ENERGY}
    assert Decimal(str(statistics[ENERGY][0]["state"])) == Decimal(
        state_of(hass, ENERGY).state
    )
    # The energy of the period: last reading minus the first one the recorder kept.
    assert statistics[ENERGY][0]["sum"] == pytest.approx(
        float(energy_states[-1].state) - float(energy_states[0].state)
    )
    assert statistics[ENERGY][0]["sum"] >= 0.75  # at least what was added
