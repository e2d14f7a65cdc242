"""What every config entry of one meter shares within one Home Assistant.

A reload sets an entry up again while work of the old set-up may still run (a
stop waiting for its receipt). Both must see the same ledger index and take the
same lock, or one tuple is written twice and two sequences talk to the meter at
once. So the ledger, the lock and the acknowledgements live here, once per
meter serial, for as long as Home Assistant runs. So do the costs of the running
transaction and the costs fixed when sessions ended.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
import re
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

from .const import DOMAIN, LEDGER_DIRECTORY
from .ledger import Ledger, LoadReport
from .session_costs import CostBook

_DATA_KEY = f"{DOMAIN}_meters"
_ACKNOWLEDGEMENTS_VERSION = 1


def ledger_path(hass: HomeAssistant, serial: str) -> Path:
    """Return where the ledger of a meter lives (kept when the entry is removed)."""
    return Path(hass.config.path(LEDGER_DIRECTORY, f"{_file_name(serial)}.jsonl"))


def _file_name(serial: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", serial) or "meter"


@dataclass
class Acknowledgements:
    """Ledger sequence numbers of unreadable tuples the user has acknowledged.

    Kept apart from the ledger, which holds only what the meter signed.
    """

    store: Store[dict[str, Any]]
    sequences: set[int] = field(default_factory=set)

    async def async_load(self) -> None:
        """Read the acknowledgements (none the first time)."""
        data = await self.store.async_load() or {}
        self.sequences = {
            number for number in data.get("sequences", []) if type(number) is int
        }

    async def async_add(self, sequence: int) -> None:
        """Remember an acknowledgement durably."""
        self.sequences.add(sequence)
        await self.store.async_save({"sequences": sorted(self.sequences)})


@dataclass
class MeterResources:
    """The ledger, the lock and the acknowledgements of one meter."""

    serial: str
    ledger: Ledger
    lock: asyncio.Lock
    acknowledgements: Acknowledgements
    # The running transaction's polls and the costs fixed at each session's end.
    costs: CostBook
    # What loading the ledger found; reported by the first set-up only.
    load_report: LoadReport | None = None


async def async_meter_resources(hass: HomeAssistant, serial: str) -> MeterResources:
    """Return the meter's shared resources, loading its ledger the first time.

    Raises LedgerError when the ledger cannot be read; nothing is kept then, so
    the next set-up tries again.
    """
    meters: dict[str, MeterResources] = hass.data.setdefault(_DATA_KEY, {})
    creating: asyncio.Lock = hass.data.setdefault(
        f"{_DATA_KEY}_creating", asyncio.Lock()
    )
    async with creating:
        if (resources := meters.get(serial)) is not None:
            return resources
        ledger = Ledger(ledger_path(hass, serial))
        report = await hass.async_add_executor_job(ledger.load)
        acknowledgements = Acknowledgements(
            Store(
                hass,
                _ACKNOWLEDGEMENTS_VERSION,
                f"{DOMAIN}.{_file_name(serial)}.acknowledged",
            )
        )
        await acknowledgements.async_load()
        costs = CostBook(hass, _file_name(serial))
        await costs.async_load()
        resources = MeterResources(
            serial=serial,
            ledger=ledger,
            lock=asyncio.Lock(),
            acknowledgements=acknowledgements,
            costs=costs,
            load_report=report,
        )
        meters[serial] = resources
        return resources
