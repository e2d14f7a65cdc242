"""Repair flows: acknowledging signed data the meter handed out unreadable."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.repairs import ConfirmRepairFlow, RepairsFlow
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN
from .meter_resources import async_meter_resources

if TYPE_CHECKING:
    # Annotation only: Home Assistant 2025.4 has no RepairsFlowResult yet.
    from homeassistant.components.repairs import RepairsFlowResult

    from . import IemDcrConfigEntry


class UnreadableTupleFlow(ConfirmRepairFlow):
    """The user confirms having seen an unreadable tuple: starts may go on."""

    def __init__(self, entry_id: str, sequence: int) -> None:
        """Remember which ledger record the issue is about."""
        super().__init__()
        self._entry_id = entry_id
        self._sequence = sequence

    async def async_step_confirm(
        self, user_input: dict[str, str] | None = None
    ) -> RepairsFlowResult:
        """Acknowledge once the user confirms; the record stays in the ledger."""
        if user_input is not None:
            await _async_acknowledge(self.hass, self._entry_id, self._sequence)
            ir.async_delete_issue(self.hass, DOMAIN, self.issue_id)
        return await super().async_step_confirm(user_input)


async def _async_acknowledge(hass: HomeAssistant, entry_id: str, sequence: int) -> None:
    entry: IemDcrConfigEntry | None = hass.config_entries.async_get_entry(entry_id)
    if entry is None:
        return
    if entry.state is ConfigEntryState.LOADED:
        await entry.runtime_data.keeper.async_acknowledge_unreadable(sequence)
        return
    resources = await async_meter_resources(hass, entry.unique_id or "")
    await resources.acknowledgements.async_add(sequence)


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, Any] | None
) -> RepairsFlow:
    """Return the flow that fixes an issue of this integration."""
    data = data or {}
    return UnreadableTupleFlow(
        str(data.get("entry_id", "")), int(data.get("sequence", 0))
    )
