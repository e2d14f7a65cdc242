"""Set-up, handshake, clock sync, power cycles, repairs, unload."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import logging

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.iem_dcr.const import (
    CONF_CLOCK_SYNC_INTERVAL,
    CONF_FIXED_OFFSET,
    CONF_HANDLE_DST,
    CONF_TIME_ZONE_MODE,
    DOMAIN,
)
from iem_dcr_simulator import FaultKind, MeterSimulator

from .conftest import CI, CT, TARIFF
from .helpers import poll, posted, requested, sim_control, state_of


async def test_setup_runs_handshake(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: MeterSimulator
) -> None:
    assert init_integration.state is ConfigEntryState.LOADED
    state = simulator.state
    assert (state.charge_point_id_type, state.charge_point_id) == (CT, CI)
    assert state.tariff_text == TARIFF
    assert state.time_set
    gw_bodies = posted(simulator, "gw")
    assert len(gw_bodies) == 1
    assert list(gw_bodies[0]) == ["CT", "CI", "TM"]
    assert requested(simulator, "GET", "publickey") == 1
    coordinator = init_integration.runtime_data.coordinator
    assert coordinator.public_key is not None
    assert coordinator.public_key.key == state.public_key()["PK"]


async def test_setup_not_ready_when_meter_unreachable(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, simulator: MeterSimulator
) -> None:
    await simulator.refuse_connections()
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY
    assert mock_config_entry.reason is not None
    assert "127.0.0.1" in mock_config_entry.reason


async def test_identity_already_set_and_equal(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    simulator: MeterSimulator,
    issue_registry: ir.IssueRegistry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    simulator.state.set_gateway(CT, CI, "2026-11-26T08:00:00,000+0100")
    caplog.set_level(logging.INFO)
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.LOADED
    assert "already holds the configured CT and CI" in caplog.text
    assert not issue_registry.issues
    # Refused identity: the clock is set on its own instead.
    assert len(posted(simulator, "datetime")) == 1


async def test_identity_mismatch_raises_and_clears_repair(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    simulator: MeterSimulator,
    issue_registry: ir.IssueRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    simulator.state.set_gateway(CT, "OLD-CI", "2026-11-26T08:00:00,000+0100")
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    issue_id = f"identity_mismatch_{mock_config_entry.entry_id}"
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "identity_mismatch"
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["meter_ci"] == "OLD-CI"
    assert issue.translation_placeholders["configured_ci"] == CI

    # The user power-cycles the meter: the next poll notices and initialises it.
    await sim_control(hass, simulator, "power_cycle")
    await poll(hass, freezer)
    assert simulator.state.charge_point_id == CI
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


async def test_power_cycle_reruns_handshake(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    statistics = init_integration.runtime_data.coordinator.statistics
    assert statistics.handshakes == 1
    simulator.state.power_cycle()
    assert simulator.state.charge_point_id == ""
    await poll(hass, freezer)
    assert statistics.handshakes == 2
    assert simulator.state.charge_point_id == CI
    assert simulator.state.tariff_text == TARIFF
    assert simulator.state.time_set
    await poll(hass, freezer)
    # Initialised once: a healthy meter is not initialised again.
    assert statistics.handshakes == 2
    assert len(posted(simulator, "gw")) == 2


@pytest.mark.parametrize(
    ("options", "before", "after"),
    [
        (
            {},
            "2026-10-25T02:30:00,000+0200",
            "2026-10-25T03:30:00,000+0100",
        ),
        (
            {
                CONF_TIME_ZONE_MODE: "fixed",
                CONF_FIXED_OFFSET: "+0100",
                CONF_HANDLE_DST: True,
            },
            "2026-10-25T02:30:00,000+0200",
            "2026-10-25T03:30:00,000+0100",
        ),
        (
            {
                CONF_TIME_ZONE_MODE: "fixed",
                CONF_FIXED_OFFSET: "+0100",
                CONF_HANDLE_DST: False,
            },
            "2026-10-25T01:30:00,000+0100",
            "2026-10-25T03:30:00,000+0100",
        ),
    ],
)
async def test_clock_sync_across_daylight_saving_change(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    simulator: MeterSimulator,
    freezer: FrozenDateTimeFactory,
    options: dict[str, object],
    before: str,
    after: str,
) -> None:
    await hass.config.async_set_time_zone("Europe/Berlin")
    # Summer time in Germany ends on 2026-10-25 at 01:00 UTC.
    freezer.move_to(datetime(2026, 10, 25, 0, 30, tzinfo=UTC))
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry,
        options={**mock_config_entry.options, CONF_CLOCK_SYNC_INTERVAL: 2, **options},
    )
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert posted(simulator, "gw")[0]["TM"] == before

    await poll(hass, freezer, seconds=3600)
    assert posted(simulator, "datetime") == []
    await poll(hass, freezer, seconds=3600)
    assert [body["TM"] for body in posted(simulator, "datetime")] == [after]
    assert simulator.state.meter_time().startswith(after)


async def test_clock_never_set_during_transaction(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    simulator.state.begin_transaction()
    await poll(hass, freezer, seconds=3 * 3600)
    await poll(hass, freezer)
    assert posted(simulator, "datetime") == []
    simulator.state.end_transaction_externally()
    await poll(hass, freezer)
    assert len(posted(simulator, "datetime")) == 1


async def test_failed_clock_sync_is_retried_later(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    simulator.inject_fault(FaultKind.HTTP_ERROR, path="datetime", count=2)
    await poll(hass, freezer, seconds=2 * 3600)
    assert simulator.state.time_set  # still the handshake's time
    assert len(posted(simulator, "datetime")) == 1
    # The first retry waits 10 s, the next twice as long: no retry every poll.
    for _ in range(9):
        await poll(hass, freezer)
    assert len(posted(simulator, "datetime")) == 1
    await poll(hass, freezer)
    assert len(posted(simulator, "datetime")) == 2
    for _ in range(19):
        await poll(hass, freezer)
    assert len(posted(simulator, "datetime")) == 2
    await poll(hass, freezer)
    assert len(posted(simulator, "datetime")) == 3
    coordinator = init_integration.runtime_data.coordinator
    assert coordinator.statistics.last_clock_sync is not None
    # After a success the next sync is due after the interval again.
    for _ in range(30):
        await poll(hass, freezer)
    assert len(posted(simulator, "datetime")) == 3


async def test_unload_leaves_nothing_running(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.NOT_LOADED
    count = len(simulator.requests)
    await poll(hass, freezer, seconds=30)
    assert len(simulator.requests) == count
    assert state_of(hass, "sensor.iem_dcr_1isa0200001132_power").state == "unavailable"


async def test_reload(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.LOADED


async def test_remove_entry_keeps_ledger_and_clears_issues(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    simulator: MeterSimulator,
    issue_registry: ir.IssueRegistry,
) -> None:
    simulator.state.set_gateway(CT, "OLD-CI", "2026-11-26T08:00:00,000+0100")
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    ledger = mock_config_entry.runtime_data.keeper.ledger
    assert issue_registry.issues
    await hass.config_entries.async_remove(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert not issue_registry.issues
    # The ledger object outlives the entry; its file is never deleted here.
    assert ledger.path.name.endswith(".jsonl")


def test_clock_helpers_reject_bad_offsets() -> None:
    from custom_components.iem_dcr.meter_clock import ClockPolicy, parse_offset

    assert parse_offset("-0530") == -timedelta(hours=5, minutes=30)
    for bad in ("0100", "+01:00", "+1500", "+0160", ""):
        with pytest.raises(ValueError):
            parse_offset(bad)
    with pytest.raises(ValueError):
        ClockPolicy(mode="moon", fixed_offset="+0100", handle_dst=False).local_time(
            datetime(2026, 1, 1, tzinfo=UTC), UTC
        )
