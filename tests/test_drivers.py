"""Driver names where the user sees a stored tuple: sensor, event, logbook."""

from __future__ import annotations

from collections.abc import Callable
import logging

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Event, HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.iem_dcr import logbook
from custom_components.iem_dcr.const import (
    CONF_DRIVERS,
    DOMAIN,
    EVENT_TRANSACTION_STOPPED,
)
from iem_dcr_simulator import MeterSimulator

from .charging import ALICE_CARD, GUEST_CARD
from .helpers import copy_with_options, poll, start, state_of, stop

SENSOR = "sensor.iem_dcr_1isa0200001132_last_transaction"


def _describe_stopped(hass: HomeAssistant) -> Callable[[Event], dict[str, str]]:
    found: dict[str, Callable[[Event], dict[str, str]]] = {}

    def register(
        domain: str, event_type: str, describe: Callable[[Event], dict[str, str]]
    ) -> None:
        assert domain == DOMAIN
        found[event_type] = describe

    logbook.async_describe_events(hass, register)
    return found[EVENT_TRANSACTION_STOPPED]


@pytest.fixture
def named_entry(mock_config_entry: MockConfigEntry) -> MockConfigEntry:
    """Alice's card named in the options; the guest's card nowhere."""
    return copy_with_options(
        mock_config_entry,
        {
            **mock_config_entry.options,
            CONF_DRIVERS: {ALICE_CARD: {"name": "Alice"}},
        },
    )


async def test_a_named_card_shows_the_name_and_never_the_uid(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    simulator: MeterSimulator,
    named_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    named_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(named_entry.entry_id)
    await hass.async_block_till_done()
    events: list[Event] = []
    hass.bus.async_listen(EVENT_TRANSACTION_STOPPED, events.append)

    await start(hass, named_entry, identification_data=ALICE_CARD)
    simulator.state.add_energy("2")
    await poll(hass, freezer)
    response = await stop(hass, named_entry)
    await hass.async_block_till_done()

    attributes = state_of(hass, SENSOR).attributes
    assert attributes["driver"] == "Alice"
    assert ALICE_CARD not in str(attributes)
    assert response["driver"] == "Alice"
    # The signed text keeps the UID: it is what the customer checks.
    assert ALICE_CARD in response["ocmf"]
    assert events[-1].data["driver"] == "Alice"
    message = _describe_stopped(hass)(events[-1])["message"]
    assert message.endswith(", charged by Alice")
    assert ALICE_CARD not in message

    await start(hass, named_entry, identification_data=GUEST_CARD, transaction_id="g")
    await stop(hass, named_entry)
    await hass.async_block_till_done()
    assert "driver" not in state_of(hass, SENSOR).attributes
    assert "charged by" not in _describe_stopped(hass)(events[-1])["message"]
    for card in (ALICE_CARD, GUEST_CARD):
        assert not [
            record
            for record in caplog.records
            if record.name.startswith("custom_components.iem_dcr")
            and card in record.getMessage()
        ]
