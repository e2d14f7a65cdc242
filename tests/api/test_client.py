"""The client against the simulated meter over loopback sockets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import aiohttp
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key
import pytest

from custom_components.iem_dcr.api import (
    IemDcrClient,
    IemDcrConnectionError,
    IemDcrRefusedError,
    TimeStatus,
    UserData,
    create_session,
    format_meter_time,
)
from iem_dcr_simulator import FaultKind, MeterSimulator

V1 = "/counter/v1/ocmf"
V2 = "/counter/v2/ocmf"
UNHEALTHY = "0x0001, 0x00000000, 0x00, 0x00"


def _sent(simulator: MeterSimulator) -> list[tuple[str, str, str]]:
    return [
        (request.method, request.path, request.body) for request in simulator.requests
    ]


def _user(**changes: Any) -> UserData:
    fields: dict[str, Any] = {
        "identification_status": True,
        "identification_level": None,
        "identification_flags": (),
        "identification_type": "ISO14443",
        "identification_data": "04A1B2C3D4E5F6",
        "show_user_id": False,
    }
    return UserData(**(fields | changes))


# --- construction --------------------------------------------------------------------


async def test_where_the_client_points(session: aiohttp.ClientSession) -> None:
    client = IemDcrClient("192.168.60.12", session=session)

    assert (client.host, client.port) == ("192.168.60.12", 80)
    assert client.base_url == "http://192.168.60.12:80/counter/v1/ocmf"


async def test_ipv6_host_gets_brackets(session: aiohttp.ClientSession) -> None:
    client = IemDcrClient("fd00::12", 8080, session=session)

    assert client.base_url == "http://[fd00::12]:8080/counter/v1/ocmf"


# --- gw ------------------------------------------------------------------------------


async def test_gateway_after_power_up(
    client: IemDcrClient, simulator: MeterSimulator
) -> None:
    gateway = await client.get_gateway()

    assert not gateway.is_configured
    assert gateway.time is not None
    assert gateway.time.status is TimeStatus.UNSYNCHRONIZED
    assert _sent(simulator) == [("GET", f"{V1}/gw", "")]


async def test_set_gateway_once_per_power_cycle(
    client: IemDcrClient, simulator: MeterSimulator
) -> None:
    await client.set_gateway("EVSEID", "1234", "2025-06-06T09:26:24,000+0100")

    assert _sent(simulator) == [
        (
            "POST",
            f"{V1}/gw",
            '{"CT":"EVSEID","CI":"1234","TM":"2025-06-06T09:26:24,000+0100"}',
        )
    ]
    gateway = await client.get_gateway()
    assert gateway.is_configured
    assert (gateway.charge_point_id_type, gateway.charge_point_id) == ("EVSEID", "1234")
    assert gateway.time is not None
    assert gateway.time.status is TimeStatus.INFORMATIVE
    assert gateway.time.value.utcoffset() == timedelta(hours=1)

    with pytest.raises(IemDcrRefusedError) as caught:
        await client.set_gateway("OTHER", "5678", "2025-06-06T09:26:25,000+0100")
    assert (caught.value.status, caught.value.endpoint) == (428, "gw")
    assert (await client.get_gateway()).charge_point_id == "1234"

    simulator.state.power_cycle()
    assert not (await client.get_gateway()).is_configured
    await client.set_gateway("OTHER", "5678", "2025-06-06T09:26:25,000+0100")
    assert (await client.get_gateway()).charge_point_id == "5678"


async def test_request_bodies_carry_raw_utf8(
    client: IemDcrClient, simulator: MeterSimulator
) -> None:
    await client.set_gateway("EVSEID", "Ladepunkt-Süd", "2025-06-06T09:26:24,000+0100")

    assert simulator.requests[0].body == (
        '{"CT":"EVSEID","CI":"Ladepunkt-Süd","TM":"2025-06-06T09:26:24,000+0100"}'
    )
    assert simulator.state.charge_point_id == "Ladepunkt-Süd"


async def test_every_request_says_json(
    client: IemDcrClient, simulator: MeterSimulator
) -> None:
    await client.get_meter_value()
    await client.set_tariff("T")

    assert [request.headers.get("Content-Type") for request in simulator.requests] == [
        "application/json",
        "application/json",
    ]


async def test_every_request_uses_a_fresh_connection(
    client: IemDcrClient, simulator: MeterSimulator
) -> None:
    """Like the manufacturer's driver: no keep-alive the meter might drop."""
    await client.get_meter_value()
    await client.get_gateway()

    assert [request.headers.get("Connection") for request in simulator.requests] == [
        "close",
        "close",
    ]


# --- tariff, datetime ----------------------------------------------------------------


async def test_set_tariff(client: IemDcrClient, simulator: MeterSimulator) -> None:
    await client.set_tariff("0,30 €/kWh")

    assert _sent(simulator) == [("POST", f"{V1}/tariff", '{"TT":"0,30 €/kWh"}')]
    assert simulator.state.tariff_text == "0,30 €/kWh"


async def test_datetime_before_and_after_setting(
    session: aiohttp.ClientSession,
) -> None:
    frozen = datetime(2025, 6, 6, 7, 26, 24, tzinfo=UTC)
    async with MeterSimulator(clock=lambda: frozen) as simulator:
        client = IemDcrClient(simulator.host, simulator.port, session=session)

        before = await client.get_datetime()
        posted = datetime(2025, 6, 6, 9, 26, 24, tzinfo=timezone(timedelta(hours=2)))
        await client.set_datetime(format_meter_time(posted))
        after = await client.get_datetime()

    assert before.status is TimeStatus.UNSYNCHRONIZED
    assert before.value == frozen
    assert after.status is TimeStatus.INFORMATIVE
    assert after.value == posted
    assert after.value.utcoffset() == timedelta(hours=2)
    assert _sent(simulator)[1] == (
        "POST",
        f"{V1}/datetime",
        '{"TM":"2025-06-06T09:26:24,000+0200"}',
    )


async def test_datetime_refused_during_a_transaction(client: IemDcrClient) -> None:
    await client.begin_transaction()

    with pytest.raises(IemDcrRefusedError) as caught:
        await client.set_datetime("2025-06-06T09:26:24,000+0100")

    assert (caught.value.status, caught.value.endpoint) == (428, "datetime")


# --- metervalue, publickey -----------------------------------------------------------


async def test_meter_value_reflects_the_meter(
    client: IemDcrClient, simulator: MeterSimulator
) -> None:
    simulator.state.add_energy(import_kwh=Decimal("12.345"), export_kwh=Decimal("0.5"))
    simulator.state.set_measurements(voltage=400.5, current=0)

    value = await client.get_meter_value()

    assert value.meter_serial == simulator.state.serial
    assert value.energy_import_total == Decimal("12.345")
    assert value.energy_export_total == Decimal("0.5")
    assert value.energy_import_transaction == 0
    assert value.energy_export_transaction == 0
    assert value.voltage == 400.5
    assert value.current == 0
    assert value.transaction_active is False
    assert value.healthy
    assert value.time.status is TimeStatus.UNSYNCHRONIZED
    assert _sent(simulator) == [("GET", f"{V1}/metervalue", "")]


async def test_meter_value_while_current_flows(
    client: IemDcrClient, simulator: MeterSimulator
) -> None:
    simulator.state.set_measurements(voltage=800, current=125.5)

    value = await client.get_meter_value()

    assert (value.voltage, value.current) == (800, 125.5)
    assert value.power == pytest.approx(800 * 125.5)


async def test_meter_value_error_code(
    client: IemDcrClient, simulator: MeterSimulator
) -> None:
    simulator.state.set_error_code(UNHEALTHY)

    value = await client.get_meter_value()

    assert value.error_code == UNHEALTHY
    assert not value.healthy


async def test_public_key(client: IemDcrClient, simulator: MeterSimulator) -> None:
    key = await client.get_public_key()

    assert key.algorithm == "ECDSA-secp256r1-SHA256"
    assert key.key == simulator.state.public_key_hex
    loaded = load_der_public_key(bytes.fromhex(key.key))
    assert isinstance(loaded, ec.EllipticCurvePublicKey)
    assert isinstance(loaded.curve, ec.SECP256R1)


# --- user, receipt, transaction ------------------------------------------------------


async def test_set_user_body(client: IemDcrClient, simulator: MeterSimulator) -> None:
    await client.set_user(
        _user(
            identification_level="CERTIFIED",
            identification_flags=("RFID_PSK", "OCPP_CERTIFIED"),
            identification_type="ISO15693",
            identification_data="9109543224",
            show_user_id=True,
            tariff_text="0,20 €/kWh",
        )
    )

    assert _sent(simulator) == [
        (
            "POST",
            f"{V1}/user",
            (
                '{"IS":true,"IL":"CERTIFIED","IF":["RFID_PSK","OCPP_CERTIFIED"],'
                '"IT":"ISO15693","ID":"9109543224","US":true,"TT":"0,20 €/kWh"}'
            ),
        )
    ]
    staged = simulator.state.staged_user
    assert staged is not None
    assert staged.identification_data == "9109543224"
    assert staged.tariff_text == "0,20 €/kWh"


async def test_set_user_without_level_or_tariff(
    client: IemDcrClient, simulator: MeterSimulator
) -> None:
    await client.set_user(_user())

    assert simulator.requests[0].body == (
        '{"IS":true,"IL":"UNKNOWN","IF":[],"IT":"ISO14443","ID":"04A1B2C3D4E5F6","US":false}'
    )


def _meter_in_transaction(simulator: MeterSimulator) -> bool:
    return simulator.state.transaction_active


async def test_begin_and_end(client: IemDcrClient, simulator: MeterSimulator) -> None:
    await client.begin_transaction()
    assert _meter_in_transaction(simulator)
    assert (await client.get_meter_value()).transaction_active

    await client.end_transaction()
    assert not _meter_in_transaction(simulator)

    assert _sent(simulator) == [
        ("POST", f"{V1}/receipt", '{"TX":"B"}'),
        ("GET", f"{V1}/metervalue", ""),
        ("POST", f"{V1}/receipt", '{"TX":"E"}'),
    ]


async def test_end_on_idle_meter_is_refused(client: IemDcrClient) -> None:
    with pytest.raises(IemDcrRefusedError) as caught:
        await client.end_transaction()

    assert (caught.value.status, caught.value.endpoint) == (428, "receipt")


async def test_begin_twice_is_refused(client: IemDcrClient) -> None:
    await client.begin_transaction()

    with pytest.raises(IemDcrRefusedError) as caught:
        await client.begin_transaction()

    assert caught.value.status == 428


async def test_begin_refused_while_current_flows(
    client: IemDcrClient, simulator: MeterSimulator
) -> None:
    simulator.state.set_measurements(voltage=400, current=10)

    with pytest.raises(IemDcrRefusedError):
        await client.begin_transaction()

    assert not simulator.state.transaction_active


async def test_receipt_is_the_record_verbatim(
    client: IemDcrClient, simulator: MeterSimulator
) -> None:
    await client.begin_transaction()
    await client.end_transaction()

    receipt = await client.get_receipt()

    assert receipt.text == simulator.state.last_ocmf
    assert receipt.text.startswith("OCMF|")
    assert _sent(simulator)[-1] == ("GET", f"{V1}/receipt", "")


async def test_transaction_v1_and_v2(
    client: IemDcrClient, simulator: MeterSimulator
) -> None:
    await client.begin_transaction()
    await client.end_transaction()

    assert (await client.get_transaction()).text == simulator.state.last_ocmf
    assert (await client.get_transaction_v2()).text == simulator.state.last_ocmf
    assert [path for _, path, _ in _sent(simulator)[-2:]] == [
        f"{V1}/transaction",
        f"{V2}/transaction",
    ]


async def test_no_transaction_yet(
    client: IemDcrClient, simulator: MeterSimulator
) -> None:
    with pytest.raises(IemDcrRefusedError) as v1:
        await client.get_transaction()
    with pytest.raises(IemDcrRefusedError) as v2:
        await client.get_transaction_v2()

    assert (v1.value.status, v1.value.endpoint) == (428, "transaction")
    assert (v2.value.status, v2.value.endpoint) == (428, "v2/transaction")


async def test_last_transaction_asks_v2_when_v1_refuses(
    client: IemDcrClient, simulator: MeterSimulator
) -> None:
    await client.begin_transaction()
    await client.end_transaction()
    simulator.requests.clear()
    simulator.inject_fault(
        FaultKind.HTTP_ERROR, path="transaction", count=1, status=404
    )

    last = await client.get_last_transaction()

    assert last.text == simulator.state.last_ocmf
    assert [path for _, path, _ in _sent(simulator)] == [
        f"{V1}/transaction",
        f"{V2}/transaction",
    ]


async def test_last_transaction_prefers_v1(
    client: IemDcrClient, simulator: MeterSimulator
) -> None:
    await client.begin_transaction()
    await client.end_transaction()
    simulator.requests.clear()

    assert (await client.get_last_transaction()).text == simulator.state.last_ocmf
    assert [path for _, path, _ in _sent(simulator)] == [f"{V1}/transaction"]


async def test_last_transaction_when_there_was_none(
    client: IemDcrClient, simulator: MeterSimulator
) -> None:
    with pytest.raises(IemDcrRefusedError) as caught:
        await client.get_last_transaction()

    assert caught.value.endpoint == "v2/transaction"
    assert [path for _, path, _ in _sent(simulator)] == [
        f"{V1}/transaction",
        f"{V2}/transaction",
    ]


async def test_last_transaction_does_not_fall_back_on_connection_errors(
    client: IemDcrClient, simulator: MeterSimulator
) -> None:
    await client.begin_transaction()
    await client.end_transaction()
    simulator.requests.clear()
    # Without a count: aiohttp itself retries an idempotent GET once after a drop.
    simulator.inject_fault(FaultKind.DISCONNECT, path="transaction")

    with pytest.raises(IemDcrConnectionError):
        await client.get_last_transaction()

    paths = {path for _, path, _ in _sent(simulator)}
    assert paths == {f"{V1}/transaction"}


async def test_client_leaves_an_injected_session_open(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    client = IemDcrClient(simulator.host, simulator.port, session=session)
    await client.get_meter_value()
    await client.close()

    assert not session.closed
    with pytest.raises(IemDcrConnectionError, match="session is closed"):
        await client.get_meter_value()


async def test_client_closes_its_own_session(simulator: MeterSimulator) -> None:
    async with IemDcrClient(simulator.host, simulator.port) as client:
        await client.get_meter_value()
    await client.close()  # a second close is harmless

    with pytest.raises(IemDcrConnectionError, match="session is closed"):
        await client.get_meter_value()
    assert len(simulator.requests) == 1


async def test_client_closed_before_any_request(socket_enabled: None) -> None:
    client = IemDcrClient("127.0.0.1", 9)
    await client.close()

    with pytest.raises(IemDcrConnectionError, match="session is closed"):
        await client.get_meter_value()


async def test_a_pooling_session_is_refused(socket_enabled: None) -> None:
    async with aiohttp.ClientSession() as pooling:
        with pytest.raises(ValueError, match="pools connections"):
            IemDcrClient("127.0.0.1", session=pooling)


async def test_closed_session_is_a_connection_error(socket_enabled: None) -> None:
    session = create_session()
    await session.close()
    client = IemDcrClient("127.0.0.1", 9, session=session)

    with pytest.raises(IemDcrConnectionError, match="session is closed"):
        await client.get_meter_value()
