"""Every fault the simulated meter can show, mapped to the client's errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp
import pytest

from custom_components.iem_dcr.api import (
    IemDcrClient,
    IemDcrConnectionError,
    IemDcrRefusedError,
    IemDcrResponseError,
    IemDcrTimeoutError,
    UserData,
)
from custom_components.iem_dcr.api.http1 import HttpError
from iem_dcr_simulator import FaultKind, MeterSimulator

type Call = Callable[[IemDcrClient], Awaitable[object]]

USER = UserData(
    identification_status=True,
    identification_level=None,
    identification_flags=(),
    identification_type="ISO14443",
    identification_data="04A1B2C3D4E5F6",
    show_user_id=False,
)

# (simulator endpoint name, client call) for every endpoint and method.
CALLS: dict[str, tuple[str, Call]] = {
    "get_gateway": ("gw", lambda c: c.get_gateway()),
    "set_gateway": (
        "gw",
        lambda c: c.set_gateway("EVSEID", "1234", "2025-06-06T09:26:24,000+0100"),
    ),
    "set_tariff": ("tariff", lambda c: c.set_tariff("T1")),
    "get_meter_value": ("metervalue", lambda c: c.get_meter_value()),
    "get_public_key": ("publickey", lambda c: c.get_public_key()),
    "get_datetime": ("datetime", lambda c: c.get_datetime()),
    "set_datetime": (
        "datetime",
        lambda c: c.set_datetime("2025-06-06T09:26:24,000+0100"),
    ),
    "set_user": ("user", lambda c: c.set_user(USER)),
    "begin_transaction": ("receipt", lambda c: c.begin_transaction()),
    "get_receipt": ("receipt", lambda c: c.get_receipt()),
    "get_transaction": ("transaction", lambda c: c.get_transaction()),
    "get_transaction_v2": ("transaction", lambda c: c.get_transaction_v2()),
}
JSON_CALLS = ["get_gateway", "get_meter_value", "get_public_key", "get_datetime"]


async def _with_a_record(simulator: MeterSimulator) -> None:
    """Let the signed-data endpoints have something to answer."""
    simulator.state.begin_transaction()
    simulator.state.end_transaction()


@pytest.mark.parametrize("name", CALLS)
async def test_http_error_is_refused(
    client: IemDcrClient, simulator: MeterSimulator, name: str
) -> None:
    await _with_a_record(simulator)
    endpoint, call = CALLS[name]
    simulator.inject_fault(FaultKind.HTTP_ERROR, path=endpoint, status=503)

    with pytest.raises(IemDcrRefusedError) as caught:
        await call(client)

    assert caught.value.status == 503
    assert endpoint in caught.value.endpoint


@pytest.mark.parametrize("name", CALLS)
async def test_disconnect_is_a_connection_error(
    client: IemDcrClient, simulator: MeterSimulator, name: str
) -> None:
    await _with_a_record(simulator)
    endpoint, call = CALLS[name]
    simulator.inject_fault(FaultKind.DISCONNECT, path=endpoint)

    with pytest.raises(IemDcrConnectionError) as caught:
        await call(client)

    assert not isinstance(caught.value, IemDcrTimeoutError)
    assert isinstance(caught.value.__cause__, (HttpError, aiohttp.ClientError))


@pytest.mark.parametrize("name", JSON_CALLS)
async def test_malformed_json_is_a_response_error(
    client: IemDcrClient, simulator: MeterSimulator, name: str
) -> None:
    endpoint, call = CALLS[name]
    simulator.inject_fault(FaultKind.MALFORMED_JSON, path=endpoint, count=1)

    with pytest.raises(IemDcrResponseError) as caught:
        await call(client)

    assert caught.value.endpoint == endpoint
    assert str(caught.value).startswith(f"{endpoint}: invalid JSON")
    await call(client)  # the next answer is fine again


@pytest.mark.parametrize(
    ("name", "fields"),
    [
        ("get_gateway", {"CT", "CI"}),
        ("get_meter_value", {"XT", "I", "RD[0].RV"}),
        ("get_public_key", {"PK"}),
        ("get_datetime", {"TM"}),
    ],
)
async def test_wrong_types_name_the_field(
    client: IemDcrClient, simulator: MeterSimulator, name: str, fields: set[str]
) -> None:
    endpoint, call = CALLS[name]
    simulator.inject_fault(FaultKind.WRONG_TYPES, path=endpoint, count=1)

    with pytest.raises(IemDcrResponseError) as caught:
        await call(client)

    assert caught.value.field in fields
    assert str(caught.value).startswith(f"{endpoint}: {caught.value.field}: expected ")


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("get_gateway", "CT"),
        ("get_meter_value", "XT"),
        ("get_public_key", "PK"),
        ("get_datetime", "TM"),
    ],
)
async def test_missing_fields_name_the_field(
    client: IemDcrClient, simulator: MeterSimulator, name: str, field: str
) -> None:
    endpoint, call = CALLS[name]
    simulator.inject_fault(FaultKind.MISSING_FIELDS, path=endpoint, count=1)

    with pytest.raises(IemDcrResponseError) as caught:
        await call(client)

    assert str(caught.value) == f"{endpoint}: {field}: missing"


async def test_null_ct_reads_as_unset(
    client: IemDcrClient, simulator: MeterSimulator
) -> None:
    """Bug B3: the meter may say null where the driver expects ""."""
    await client.set_gateway("EVSEID", "1234", "2025-06-06T09:26:24,000+0100")
    simulator.inject_fault(FaultKind.GW_NULL_CT, count=1)

    gateway = await client.get_gateway()

    assert gateway.charge_point_id_type == ""
    assert gateway.charge_point_id == "1234"
    assert not gateway.is_configured


@pytest.mark.parametrize("name", CALLS)
async def test_hang_is_a_timeout(
    simulator: MeterSimulator, session: aiohttp.ClientSession, name: str
) -> None:
    """Bug B6: the manufacturer's driver would wait here forever."""
    await _with_a_record(simulator)
    endpoint, call = CALLS[name]
    client = IemDcrClient(
        simulator.host, simulator.port, session=session, request_timeout=0.05
    )
    simulator.inject_fault(FaultKind.HANG, path=endpoint, count=1)

    try:
        with pytest.raises(IemDcrTimeoutError) as caught:
            await call(client)
    finally:
        simulator.release_hangs()

    assert isinstance(caught.value, IemDcrConnectionError)
    assert endpoint in str(caught.value)


async def test_meter_answers_again_after_a_hang(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    client = IemDcrClient(
        simulator.host, simulator.port, session=session, request_timeout=0.05
    )
    simulator.inject_fault(FaultKind.HANG, path="metervalue", count=1)
    with pytest.raises(IemDcrTimeoutError):
        await client.get_meter_value()
    simulator.release_hangs()

    assert (await client.get_meter_value()).meter_serial == simulator.state.serial


async def test_refused_connection(
    client: IemDcrClient, simulator: MeterSimulator
) -> None:
    await simulator.refuse_connections()

    with pytest.raises(IemDcrConnectionError) as caught:
        await client.get_meter_value()

    assert not isinstance(caught.value, IemDcrTimeoutError)
    # The own transport's OSError, or aiohttp's wrapper of it.
    assert isinstance(caught.value.__cause__, OSError)
    assert simulator.requests == []

    await simulator.accept_connections()
    assert (await client.get_meter_value()).meter_serial == simulator.state.serial


async def test_refuse_fault(client: IemDcrClient, simulator: MeterSimulator) -> None:
    simulator.inject_fault(FaultKind.REFUSE)

    with pytest.raises(IemDcrConnectionError):
        await client.get_gateway()

    await simulator.accept_connections()
    await client.get_gateway()


async def test_nobody_listening(session: aiohttp.ClientSession) -> None:
    async with MeterSimulator() as simulator:
        port = simulator.port
    client = IemDcrClient("127.0.0.1", port, session=session)

    with pytest.raises(IemDcrConnectionError):
        await client.get_meter_value()
