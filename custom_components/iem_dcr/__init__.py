"""The Isabellenhütte IEM-DCR integration."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
import re

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv, issue_registry as ir
from homeassistant.helpers.typing import ConfigType

from .api import IemDcrClient, IemDcrError
from .const import DOMAIN, LEDGER_DIRECTORY
from .coordinator import IemDcrCoordinator
from .ledger import Ledger
from .services import async_setup_services
from .settings import MeterSettings
from .transaction import TransactionManager

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.EVENT,
    Platform.SENSOR,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


@dataclass(kw_only=True)
class IemDcrRuntimeData:
    """What a loaded config entry holds."""

    client: IemDcrClient
    coordinator: IemDcrCoordinator
    transactions: TransactionManager
    settings: MeterSettings


type IemDcrConfigEntry = ConfigEntry[IemDcrRuntimeData]


def ledger_path(hass: HomeAssistant, serial: str) -> Path:
    """Return where the ledger of a meter lives (kept when the entry is removed)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", serial) or "meter"
    return Path(hass.config.path(LEDGER_DIRECTORY, f"{safe}.jsonl"))


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the service actions once for all meters."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: IemDcrConfigEntry) -> bool:
    """Connect to a meter, initialise it and start polling."""
    settings = MeterSettings.from_entry(entry)
    # The client's own session: Home Assistant's shared one pools connections,
    # and the meter gets a new connection for every request.
    client = IemDcrClient(
        settings.host, settings.port, request_timeout=settings.request_timeout
    )
    entry.async_on_unload(client.close)
    coordinator = IemDcrCoordinator(hass, entry, client, settings)
    try:
        await coordinator.async_handshake()
    except IemDcrError as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="cannot_connect",
            translation_placeholders={
                "host": f"{settings.host}:{settings.port}",
                "error": str(err),
            },
        ) from err
    transactions = TransactionManager(
        hass, entry, coordinator, Ledger(ledger_path(hass, entry.unique_id or ""))
    )
    await transactions.async_load()
    coordinator.add_poll_hook(transactions.async_handle_poll)
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = IemDcrRuntimeData(
        client=client,
        coordinator=coordinator,
        transactions=transactions,
        settings=settings,
    )
    await transactions.async_reconcile()
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    entry.async_on_unload(entry.add_update_listener(_async_options_updated))
    return True


async def _async_options_updated(hass: HomeAssistant, entry: IemDcrConfigEntry) -> None:
    """Apply changed options, or data from a reconfigure, by reloading the entry."""
    await hass.config_entries.async_reload(entry.entry_id)


async def async_unload_entry(hass: HomeAssistant, entry: IemDcrConfigEntry) -> bool:
    """Stop polling and remove the entities."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: IemDcrConfigEntry) -> None:
    """Clean up repair issues; the ledger stays: signed tuples are legal records."""
    registry = ir.async_get(hass)
    for (domain, issue_id), _issue in list(registry.issues.items()):
        if domain == DOMAIN and entry.entry_id in issue_id:
            ir.async_delete_issue(hass, DOMAIN, issue_id)
