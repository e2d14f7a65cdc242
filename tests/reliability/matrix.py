"""What every reliability scenario checks: nothing lost, nothing twice, announced once.

The simulator records every tuple it signs (`state.issued`); the ledger file and
the `iem_dcr_transaction_stopped` events are compared against it. Tuples are
told apart by their signed payload: a copy damaged on the way and the meter's
good copy of the same tuple are one tuple (the ledger may keep both, see the
ledger's docstring), so only a payload stored twice with a verifying signature,
or the same text stored twice, counts as a duplicate.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
import json
import os
from pathlib import Path
import time
from typing import Any

from homeassistant.core import Event, HomeAssistant
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.iem_dcr.const import EVENT_TRANSACTION_STOPPED
from iem_dcr_simulator import MeterSimulator

REPORT_ENV = "IEM_DCR_RELIABILITY_REPORT"
SERIAL = "1ISA0200001132"


def payload(text: str) -> str:
    """Return the signed payload section of an OCMF text (the whole text if none)."""
    sections = text.strip().split("|")
    return sections[1] if len(sections) >= 3 else text.strip()


def ledger_records(config_dir: Path, serial: str = SERIAL) -> list[dict[str, Any]]:
    """Read the meter's ledger file as the integration wrote it."""
    path = config_dir / "iem_dcr_ledger" / f"{serial}.jsonl"
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue  # a damaged line: the ledger skips it too
    return records


@dataclass
class Outcome:
    """Counts for one scenario, as the report prints them."""

    scenario: str
    issued: int
    stored: int
    announced: int
    lost: list[str]
    damaged: list[str]  # reached Home Assistant only damaged; stored as it came
    duplicated: list[str]
    announced_twice: list[str]
    recovery_s: float | None = None

    @property
    def clean(self) -> bool:
        """Tell whether nothing was lost, stored twice or announced twice."""
        return not (self.lost or self.duplicated or self.announced_twice)


@dataclass
class Matrix:
    """Watches one scenario: the simulator's tuples, the ledger and the events."""

    hass: HomeAssistant
    simulator: MeterSimulator
    config_dir: Path
    scenario: str
    events: list[Event[dict[str, Any]]] = field(default_factory=list)
    recovery_s: float | None = None
    outcome: Outcome | None = None

    def watch(self) -> None:
        """Capture stopped events from now on."""
        self.events = async_capture_events(self.hass, EVENT_TRANSACTION_STOPPED)

    def measure(self) -> Outcome:
        """Compare what the meter issued with what was stored and announced."""
        issued = [payload(text) for text in self.simulator.state.issued]
        records = ledger_records(self.config_dir, self.simulator.state.serial)
        stored = [payload(record["ocmf"]) for record in records]
        verified = Counter(
            payload(record["ocmf"])
            for record in records
            if record["signature_valid"] is True
        )
        texts = Counter(record["ocmf"].strip() for record in records)
        announced = Counter(payload(event.data["ocmf"]) for event in self.events)
        unreadable = [r["ocmf"] for r in records if r.get("parse_error")]
        originals = dict(zip(issued, self.simulator.state.issued, strict=True))
        missing = [item for item in issued if item not in set(stored)]
        damaged = [
            item
            for item in missing
            if any(originals[item].startswith(text) for text in unreadable)
        ]
        self.outcome = Outcome(
            scenario=self.scenario,
            issued=len(issued),
            stored=len(set(stored)),
            announced=len(announced),
            lost=[item for item in missing if item not in damaged],
            damaged=damaged,
            duplicated=[item for item, count in verified.items() if count > 1]
            + [item for item, count in texts.items() if count > 1],
            announced_twice=[
                item
                for item, count in announced.items()
                if count > Counter(stored)[item]
            ],
            recovery_s=self.recovery_s,
        )
        return self.outcome

    def assert_nothing_lost(self, *, announced_all: bool = True) -> Outcome:
        """Fail unless every issued tuple is stored once and announced once."""
        outcome = self.measure()
        assert outcome.lost == [], f"lost: {outcome.lost}"
        assert outcome.duplicated == [], f"stored twice: {outcome.duplicated}"
        assert outcome.announced_twice == [], (
            f"announced twice: {outcome.announced_twice}"
        )
        if announced_all:
            stored = {payload(r["ocmf"]) for r in ledger_records(self.config_dir)}
            assert {payload(e.data["ocmf"]) for e in self.events} == stored
        return outcome


def write_report_line(
    outcome: Outcome | None, scenario: str, passed: bool, seconds: float
) -> None:
    """Append the scenario's result to the report file, if a report is being made."""
    path = os.environ.get(REPORT_ENV)
    if not path:
        return
    line = {
        "scenario": scenario,
        "passed": passed,
        "wall_s": round(seconds, 2),
        **(
            {
                "issued": outcome.issued,
                "stored": outcome.stored,
                "announced": outcome.announced,
                "lost": len(outcome.lost),
                "damaged": len(outcome.damaged),
                "duplicated": len(outcome.duplicated) + len(outcome.announced_twice),
                "recovery_s": outcome.recovery_s,
            }
            if outcome is not None
            else {}
        ),
    }
    with Path(path).open("a", encoding="utf-8") as file:
        file.write(json.dumps(line) + "\n")


class Stopwatch:
    """Wall time of a scenario (for the report only; never asserted)."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started
