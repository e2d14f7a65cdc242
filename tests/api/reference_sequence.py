"""The client's whole reference sequence, as the integration drives a meter.

Every call of the manufacturer's driver, in the order a set-up and one transaction
use them, plus the meter's refusals. Each step's outcome is recorded instead of
stopping at the first failure, so a failing run shows every call that broke.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from custom_components.iem_dcr.api import (
    IemDcrClient,
    IemDcrError,
    IemDcrRefusedError,
    UserData,
    format_meter_time,
)
from custom_components.iem_dcr.ocmf import parse, verify_signature
from iem_dcr_simulator import FaultKind, MeterSimulator

USER = UserData(
    identification_status=True,
    identification_level="VERIFIED",
    identification_flags=("RFID_PLAIN",),
    identification_type="ISO14443",
    identification_data="04A1B2C3D4E5F6",
    show_user_id=False,
    tariff_text="0,39 €/kWh",
)
TIME = format_meter_time(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))

# What every step must end with: "ok", or "refused <status>".
EXPECTED = {
    "GET transaction, never had one": "refused 428",
    "GET gw, after power-up": "ok",
    "POST gw": "ok",
    "POST gw, second time": "refused 428",
    "GET gw, configured": "ok",
    "POST tariff": "ok",
    "GET datetime": "ok",
    "POST datetime": "ok",
    "GET publickey": "ok",
    "GET metervalue, idle": "ok",
    "POST receipt E, idle meter": "refused 428",
    "POST user": "ok",
    "POST receipt B": "ok",
    "GET metervalue, running": "ok",
    "POST receipt E": "ok",
    "GET receipt, verified": "ok",
    "GET transaction v1": "ok",
    "GET transaction, v1 refused, v2": "ok",
}


@dataclass
class SequenceRun:
    """What each step ended with, and how many HTTP requests reached the meter."""

    outcomes: dict[str, str] = field(default_factory=dict)
    requests: int = 0

    @property
    def failed(self) -> dict[str, str]:
        """The steps whose outcome is not the expected one."""
        return {
            step: outcome
            for step, outcome in self.outcomes.items()
            if outcome != EXPECTED[step]
        }

    def report(self) -> str:
        """One line per failed step, for an assertion message."""
        lines = [f"{step}: {outcome}" for step, outcome in self.failed.items()]
        return f"{len(lines)} of {len(self.outcomes)} steps failed:\n" + "\n".join(
            lines
        )


async def run_reference_sequence(
    client: IemDcrClient, simulator: MeterSimulator
) -> SequenceRun:
    """Drive a freshly powered-up meter through every call; never raises."""
    run = SequenceRun()
    receipts: list[str] = []
    keys: list[str] = []

    async def step(name: str, call: Callable[[], Awaitable[object]]) -> None:
        try:
            await call()
        except IemDcrRefusedError as err:
            run.outcomes[name] = f"refused {err.status}"
        except (IemDcrError, AssertionError) as err:
            run.outcomes[name] = f"{type(err).__name__}: {err}"
        else:
            run.outcomes[name] = "ok"

    async def unconfigured_gateway() -> None:
        assert not (await client.get_gateway()).is_configured

    async def configured_gateway() -> None:
        gateway = await client.get_gateway()
        assert (gateway.charge_point_id_type, gateway.charge_point_id) == (
            "EVSEID",
            "CP-1",
        )

    async def public_key() -> None:
        keys.append((await client.get_public_key()).key)

    async def meter_value(running: bool) -> None:
        assert (await client.get_meter_value()).transaction_active is running

    async def receipt() -> None:
        text = (await client.get_receipt()).text
        assert keys, "no public key"
        assert verify_signature(parse(text), keys[0])
        receipts.append(text)

    async def transaction() -> None:
        assert (await client.get_transaction()).text == receipts[0]

    async def transaction_v2_fallback() -> None:
        # One refusal: v1 (the fault's path covers both versions) says no, v2 answers.
        simulator.inject_fault(
            FaultKind.HTTP_ERROR, path="transaction", count=1, status=428
        )
        assert (await client.get_last_transaction()).text == receipts[0]

    before = len(simulator.requests)
    await step("GET transaction, never had one", client.get_last_transaction)
    await step("GET gw, after power-up", unconfigured_gateway)
    await step("POST gw", lambda: client.set_gateway("EVSEID", "CP-1", TIME))
    await step("POST gw, second time", lambda: client.set_gateway("X", "Y", TIME))
    await step("GET gw, configured", configured_gateway)
    await step("POST tariff", lambda: client.set_tariff("0,35 EUR/kWh"))
    await step("GET datetime", client.get_datetime)
    await step("POST datetime", lambda: client.set_datetime(TIME))
    await step("GET publickey", public_key)
    await step("GET metervalue, idle", lambda: meter_value(running=False))
    await step("POST receipt E, idle meter", client.end_transaction)
    await step("POST user", lambda: client.set_user(USER))
    await step("POST receipt B", client.begin_transaction)
    await step("GET metervalue, running", lambda: meter_value(running=True))
    await step("POST receipt E", client.end_transaction)
    await step("GET receipt, verified", receipt)
    await step("GET transaction v1", transaction)
    await step("GET transaction, v1 refused, v2", transaction_v2_fallback)
    run.requests = len(simulator.requests) - before
    return run
