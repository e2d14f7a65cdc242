"""Each meter's HTTP session: its own, closed on unload, after a failed set-up and a probe."""

from __future__ import annotations

from unittest.mock import patch

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.iem_dcr.api import IemDcrClient, IemDcrConnectionError
from custom_components.iem_dcr.const import DOMAIN
from iem_dcr_simulator import MeterSimulator


async def test_unload_closes_the_session(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: MeterSimulator
) -> None:
    client = init_integration.runtime_data.client
    await client.get_meter_value()

    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()

    with pytest.raises(IemDcrConnectionError, match="session is closed"):
        await client.get_meter_value()
    # Home Assistant's shared session was never the client's.
    assert not async_get_clientsession(hass).closed


async def test_failed_setup_closes_the_session(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, simulator: MeterSimulator
) -> None:
    await simulator.refuse_connections()
    mock_config_entry.add_to_hass(hass)
    with patch.object(
        IemDcrClient, "close", autospec=True, side_effect=IemDcrClient.close
    ) as close:
        await hass.config_entries.async_setup(mock_config_entry.entry_id)
        await hass.async_block_till_done()

    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY
    close.assert_called_once()


@pytest.mark.usefixtures("config_dir", "meter_pauses")
async def test_config_flow_probe_closes_its_session(
    hass: HomeAssistant, simulator: MeterSimulator
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    with patch.object(
        IemDcrClient, "close", autospec=True, side_effect=IemDcrClient.close
    ) as close:
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: simulator.port}
        )

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "identity"
    close.assert_called_once()
    assert [request.path.rsplit("/", 1)[-1] for request in simulator.requests] == [
        "gw",
        "metervalue",
    ]
