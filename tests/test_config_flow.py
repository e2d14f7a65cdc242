"""The config flow, reconfigure flow and options flow, against the simulated meter."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, section
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.iem_dcr.const import (
    CONF_CI,
    CONF_CLOCK_SYNC_INTERVAL,
    CONF_CT,
    CONF_FIXED_OFFSET,
    CONF_HANDLE_DST,
    CONF_POLL_INTERVAL,
    CONF_REQUEST_TIMEOUT,
    CONF_RETRY_DELAY,
    CONF_SHOW_USER_ID,
    CONF_TARIFF_TEXT,
    CONF_TIME_ZONE_MODE,
    CONF_TRANSACTION_RETRIES,
    DOMAIN,
)
from iem_dcr_simulator import FaultKind, MeterSimulator

from .conftest import CI, CT

pytestmark = pytest.mark.usefixtures("config_dir", "meter_pauses")


async def _start(hass: HomeAssistant, sim: MeterSimulator, port: int | None = None):
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    return await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_HOST: " 127.0.0.1 ", CONF_PORT: port or sim.port},
    )


async def test_full_flow_creates_entry(
    hass: HomeAssistant, simulator: MeterSimulator
) -> None:
    result = await _start(hass, simulator)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "identity"
    assert result["description_placeholders"] == {"serial": simulator.state.serial}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_CT: CT, CONF_CI: f" {CI} ", CONF_TARIFF_TEXT: "0,30 EUR/kWh"},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == f"IEM-DCR {simulator.state.serial}"
    assert result["data"] == {
        CONF_HOST: "127.0.0.1",
        CONF_PORT: simulator.port,
        CONF_CT: CT,
        CONF_CI: CI,
    }
    assert result["options"] == {
        CONF_TARIFF_TEXT: "0,30 EUR/kWh",
        CONF_SHOW_USER_ID: False,
    }
    assert result["result"].unique_id == simulator.state.serial
    await hass.async_block_till_done()
    # Setting up the new entry wrote the identity into the meter.
    assert simulator.state.charge_point_id == CI


async def test_identity_prefilled_from_meter(
    hass: HomeAssistant, simulator: MeterSimulator
) -> None:
    simulator.state.set_gateway("EVSEID", "DE*ABC*E1", "2026-11-26T10:00:00,000+0100")
    result = await _start(hass, simulator)
    schema = result["data_schema"].schema
    suggested = {
        str(key): key.description["suggested_value"]
        for key in schema
        if key.description and "suggested_value" in key.description
    }
    assert suggested[CONF_CI] == "DE*ABC*E1"


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (FaultKind.HTTP_ERROR, "not_iem_dcr"),
        (FaultKind.MALFORMED_JSON, "not_iem_dcr"),
        (FaultKind.MISSING_FIELDS, "not_iem_dcr"),
        (FaultKind.DISCONNECT, "cannot_connect"),
    ],
)
async def test_user_step_errors_then_recovers(
    hass: HomeAssistant, simulator: MeterSimulator, fault: FaultKind, error: str
) -> None:
    simulator.inject_fault(fault, path="gw")
    result = await _start(hass, simulator)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}

    simulator.clear_faults()

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: simulator.port}
    )
    assert result["step_id"] == "identity"


async def test_user_step_connection_refused(
    hass: HomeAssistant, simulator: MeterSimulator
) -> None:
    await simulator.refuse_connections()
    result = await _start(hass, simulator)
    assert result["errors"] == {"base": "cannot_connect"}


async def test_user_step_unknown_error(
    hass: HomeAssistant, simulator: MeterSimulator
) -> None:
    # A programming error inside the client is nothing the simulator can cause.
    with patch(
        "custom_components.iem_dcr.config_flow.IemDcrClient.get_gateway",
        side_effect=RuntimeError("boom"),
    ):
        result = await _start(hass, simulator)
    assert result["errors"] == {"base": "unknown"}


async def test_already_configured(
    hass: HomeAssistant, simulator: MeterSimulator
) -> None:
    MockConfigEntry(
        domain=DOMAIN,
        unique_id=simulator.state.serial,
        data={CONF_HOST: "10.0.0.9", CONF_PORT: 80, CONF_CT: CT, CONF_CI: CI},
    ).add_to_hass(hass)
    result = await _start(hass, simulator)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    # The known meter answered at a new address: the entry follows it.
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    assert entry.data[CONF_HOST] == "127.0.0.1"
    assert entry.data[CONF_PORT] == simulator.port


async def test_abandoned_set_up_does_not_block_the_meter(
    hass: HomeAssistant, simulator: MeterSimulator
) -> None:
    abandoned = await _start(hass, simulator)
    assert abandoned["step_id"] == "identity"
    # The user closed that dialog and starts again: not "already being configured".
    result = await _start(hass, simulator)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "identity"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CT: CT, CONF_CI: CI}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    # Adding the meter closed the old dialog.
    flows = {flow["flow_id"] for flow in hass.config_entries.flow.async_progress()}
    assert abandoned["flow_id"] not in flows
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


async def test_identity_step_aborts_when_meter_was_added_meanwhile(
    hass: HomeAssistant, simulator: MeterSimulator
) -> None:
    result = await _start(hass, simulator)
    MockConfigEntry(
        domain=DOMAIN,
        unique_id=simulator.state.serial,
        data={CONF_HOST: "10.0.0.9", CONF_PORT: 80, CONF_CT: CT, CONF_CI: CI},
    ).add_to_hass(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CT: CT, CONF_CI: CI}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


@pytest.mark.parametrize(
    ("user_input", "errors"),
    [
        ({CONF_CT: CT, CONF_CI: "  "}, {CONF_CI: "ci_required"}),
        ({CONF_CT: "", CONF_CI: CI}, {CONF_CT: "ct_required"}),
        ({CONF_CT: CT, CONF_CI: "CP|1"}, {CONF_CI: "forbidden_character"}),
        (
            {CONF_CT: CT, CONF_CI: CI, CONF_TARIFF_TEXT: "x" * 251},
            {CONF_TARIFF_TEXT: "too_long"},
        ),
        (
            {CONF_CT: CT, CONF_CI: CI, CONF_TARIFF_TEXT: "a|b"},
            {CONF_TARIFF_TEXT: "forbidden_character"},
        ),
        # What reaches the signed record: no control characters, bounded lengths.
        ({CONF_CT: CT, CONF_CI: "C" * 10_000}, {CONF_CI: "too_long"}),
        ({CONF_CT: "E" * 33, CONF_CI: CI}, {CONF_CT: "too_long"}),
        ({CONF_CT: CT, CONF_CI: "CP\x00DE"}, {CONF_CI: "control_character"}),
        ({CONF_CT: "EVSE\x1bID", CONF_CI: CI}, {CONF_CT: "control_character"}),
        (
            {CONF_CT: CT, CONF_CI: CI, CONF_TARIFF_TEXT: "0,35\r\nEUR\x00"},
            {CONF_TARIFF_TEXT: "control_character"},
        ),
        (
            {CONF_CT: CT, CONF_CI: CI, CONF_TARIFF_TEXT: "0,35 \x85EUR"},
            {CONF_TARIFF_TEXT: "control_character"},
        ),
    ],
)
async def test_identity_step_validation(
    hass: HomeAssistant,
    simulator: MeterSimulator,
    user_input: dict[str, str],
    errors: dict[str, str],
) -> None:
    result = await _start(hass, simulator)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    # Nothing was created and the meter was not touched by a failed form.
    assert not hass.config_entries.async_entries(DOMAIN)
    assert simulator.state.charge_point_id == ""

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_CT: CT, CONF_CI: CI, CONF_TARIFF_TEXT: "x" * 250},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def _reconfigure(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, ci: str = CI
) -> dict[str, Any]:
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_HOST: "127.0.0.1", CONF_PORT: port, CONF_CT: CT, CONF_CI: ci},
    )
    assert result["type"] is FlowResultType.ABORT
    await hass.async_block_till_done()
    return dict(result)


async def test_reconfigure_new_identity_waits_for_power_cycle(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MeterSimulator,
    issue_registry: ir.IssueRegistry,
) -> None:
    result = await _reconfigure(hass, init_integration, simulator.port, ci="CP-2")
    # Saved, and the user is told that the meter keeps the old CI for now.
    assert result["reason"] == "reconfigure_needs_power_cycle"
    assert result["description_placeholders"] == {"meter_ct": CT, "meter_ci": CI}
    assert init_integration.data[CONF_CI] == "CP-2"
    # Reloaded with the new identity, which the meter refuses until a power-cycle.
    assert init_integration.runtime_data.settings.charge_point_id == "CP-2"
    assert issue_registry.async_get_issue(
        DOMAIN, f"identity_mismatch_{init_integration.entry_id}"
    )
    assert simulator.state.charge_point_id == CI


async def test_reconfigure_new_identity_on_power_cycled_meter_applies(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: MeterSimulator
) -> None:
    simulator.state.power_cycle()
    result = await _reconfigure(hass, init_integration, simulator.port, ci="CP-2")
    assert result["reason"] == "reconfigure_successful"
    # The reload wrote the new identity into the meter.
    assert simulator.state.charge_point_id == "CP-2"


async def test_reconfigure_moved_meter_applies(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: MeterSimulator
) -> None:
    async with MeterSimulator(serial=simulator.state.serial) as moved:
        result = await _reconfigure(hass, init_integration, moved.port)
        assert result["reason"] == "reconfigure_successful"
        assert init_integration.data[CONF_PORT] == moved.port
        assert moved.state.charge_point_id == CI
        assert await hass.config_entries.async_unload(init_integration.entry_id)


async def test_reconfigure_without_change_says_so(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: MeterSimulator
) -> None:
    coordinator = init_integration.runtime_data.coordinator
    result = await _reconfigure(hass, init_integration, simulator.port)
    assert result["reason"] == "reconfigure_unchanged"
    # Not reloaded.
    assert init_integration.runtime_data.coordinator is coordinator


async def test_reconfigure_rejects_other_meter(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    async with MeterSimulator(serial="1ISA0299999999") as other:
        result = await init_integration.start_reconfigure_flow(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {CONF_HOST: "127.0.0.1", CONF_PORT: other.port, CONF_CT: CT, CONF_CI: CI},
        )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "different_meter"
    assert init_integration.data[CONF_PORT] != other.port


async def test_reconfigure_errors(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: MeterSimulator
) -> None:
    result = await init_integration.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_HOST: "127.0.0.1", CONF_PORT: simulator.port, CONF_CT: CT, CONF_CI: ""},
    )
    assert result["errors"] == {CONF_CI: "ci_required"}
    simulator.inject_fault(FaultKind.HTTP_ERROR, path="gw", count=1)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_HOST: "127.0.0.1", CONF_PORT: simulator.port, CONF_CT: "", CONF_CI: CI},
    )
    assert result["errors"] == {CONF_CT: "ct_required"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_HOST: "127.0.0.1", CONF_PORT: simulator.port, CONF_CT: CT, CONF_CI: CI},
    )
    assert result["errors"] == {"base": "not_iem_dcr"}


OPTIONS: dict[str, Any] = {
    CONF_TARIFF_TEXT: "0,40 EUR/kWh",
    CONF_SHOW_USER_ID: True,
    "clock": {CONF_CLOCK_SYNC_INTERVAL: 6, CONF_TIME_ZONE_MODE: "home_assistant"},
    "connection": {CONF_POLL_INTERVAL: 5, CONF_REQUEST_TIMEOUT: 8},
    "transactions": {CONF_TRANSACTION_RETRIES: 2, CONF_RETRY_DELAY: 400},
}
FIXED_CLOCK = {CONF_CLOCK_SYNC_INTERVAL: 6, CONF_TIME_ZONE_MODE: "fixed"}


def _sections(result: dict[str, Any]) -> dict[str, list[str]]:
    """Return the form's sections and fields as {section or "": [field, ...]}."""
    found: dict[str, list[str]] = {"": []}
    for key, value in result["data_schema"].schema.items():
        if isinstance(value, section):
            found[str(key)] = [str(inner) for inner in value.schema.schema]
        else:
            found[""].append(str(key))
    return found


async def test_options_form_has_sections(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    assert result["step_id"] == "init"
    assert _sections(dict(result)) == {
        "": [CONF_TARIFF_TEXT, CONF_SHOW_USER_ID],
        "clock": [CONF_CLOCK_SYNC_INTERVAL, CONF_TIME_ZONE_MODE],
        "connection": [CONF_POLL_INTERVAL, CONF_REQUEST_TIMEOUT],
        "transactions": [CONF_TRANSACTION_RETRIES, CONF_RETRY_DELAY],
        "prices_and_drivers": ["price_per_kwh", "price_entity", "drivers"],
    }
    # Every number has its range in the form.
    schema = result["data_schema"]
    assert schema is not None
    ranges = {
        str(key): (value.config["min"], value.config["max"])
        for part in schema.schema.values()
        if isinstance(part, section)
        for key, value in part.schema.schema.items()
        if "min" in getattr(value, "config", {})
    }
    assert ranges == {
        CONF_CLOCK_SYNC_INTERVAL: (1, 24),
        CONF_POLL_INTERVAL: (1, 60),
        CONF_REQUEST_TIMEOUT: (1, 30),
        CONF_TRANSACTION_RETRIES: (0, 5),
        CONF_RETRY_DELAY: (200, 1000),
    }


async def test_options_flow_applies_and_reloads(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: MeterSimulator
) -> None:
    coordinator_before = init_integration.runtime_data.coordinator
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], OPTIONS
    )
    # Following Home Assistant's time zone needs no offset: no second step.
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert init_integration.options == {
        CONF_TARIFF_TEXT: "0,40 EUR/kWh",
        CONF_SHOW_USER_ID: True,
        CONF_CLOCK_SYNC_INTERVAL: 6,
        CONF_TIME_ZONE_MODE: "home_assistant",
        CONF_POLL_INTERVAL: 5,
        CONF_REQUEST_TIMEOUT: 8,
        CONF_TRANSACTION_RETRIES: 2,
        CONF_RETRY_DELAY: 400,
        # Kept at their defaults while unused.
        CONF_FIXED_OFFSET: "+0100",
        CONF_HANDLE_DST: True,
    }
    runtime = init_integration.runtime_data
    assert runtime.coordinator is not coordinator_before
    assert runtime.settings.poll_interval.total_seconds() == 5
    assert runtime.settings.retry_delay == 0.4
    # The new tariff text reached the meter on the reload's handshake.
    assert simulator.state.tariff_text == "0,40 EUR/kWh"


async def test_options_fixed_time_zone_asks_for_the_offset(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**OPTIONS, "clock": FIXED_CLOCK}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "fixed_offset"
    assert _sections(dict(result)) == {"": [CONF_FIXED_OFFSET, CONF_HANDLE_DST]}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_FIXED_OFFSET: " -0500 ", CONF_HANDLE_DST: False}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert init_integration.options[CONF_TIME_ZONE_MODE] == "fixed"
    assert init_integration.options[CONF_FIXED_OFFSET] == "-0500"
    assert init_integration.options[CONF_HANDLE_DST] is False
    policy = init_integration.runtime_data.settings.clock_policy
    assert (policy.mode, policy.fixed_offset) == ("fixed", "-0500")


@pytest.mark.parametrize(
    ("offset", "error"),
    [
        ("0100", "invalid_offset"),
        ("+01:00", "invalid_offset"),
        ("+0175", "offset_minutes"),
        # Out of range, and the message says so (not "not ±hhmm").
        ("+2500", "offset_out_of_range"),
        ("-1401", "offset_out_of_range"),
    ],
)
async def test_options_offset_errors(
    hass: HomeAssistant, init_integration: MockConfigEntry, offset: str, error: str
) -> None:
    options_before = dict(init_integration.options)
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**OPTIONS, "clock": FIXED_CLOCK}
    )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_FIXED_OFFSET: offset, CONF_HANDLE_DST: True}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "fixed_offset"
    assert result["errors"] == {CONF_FIXED_OFFSET: error}
    assert dict(init_integration.options) == options_before
    # Corrected, it is taken.
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_FIXED_OFFSET: "+1400", CONF_HANDLE_DST: True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        ({CONF_TARIFF_TEXT: "|"}, {CONF_TARIFF_TEXT: "forbidden_character"}),
        ({CONF_TARIFF_TEXT: "y" * 251}, {CONF_TARIFF_TEXT: "too_long"}),
        ({CONF_TARIFF_TEXT: "a\tb"}, {CONF_TARIFF_TEXT: "control_character"}),
    ],
)
async def test_options_flow_validation(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    change: dict[str, str],
    errors: dict[str, str],
) -> None:
    options_before = dict(init_integration.options)
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**OPTIONS, **change}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    assert dict(init_integration.options) == options_before
