"""Strict parsing of the meter's JSON into the client's models."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
import json
from typing import TYPE_CHECKING, Any

from hypothesis import given, strategies as st
import pytest

from custom_components.iem_dcr.api import (
    HEALTHY_ERROR_CODE,
    Gateway,
    IemDcrResponseError,
    MeterValue,
    PublicKey,
    SignedData,
    TimeStatus,
    UserData,
)
from custom_components.iem_dcr.api.models import meter_time_from_json

from .payloads import GW_UNSET, METERVALUE, PUBLICKEY, USER_FROM_EVSE_MANAGER, load

if TYPE_CHECKING:
    from collections.abc import Callable

# --- Gateway -----------------------------------------------------------------


def test_gateway_after_power_up_is_not_configured() -> None:
    gateway = Gateway.from_json(load(GW_UNSET))

    assert gateway.charge_point_id_type == ""
    assert gateway.charge_point_id == ""
    assert not gateway.is_configured
    assert gateway.time is not None
    assert gateway.time.text == "2024-12-16T19:00:22,000+0200 U"
    assert gateway.time.status is TimeStatus.UNSYNCHRONIZED


def test_gateway_with_both_ids_is_configured() -> None:
    data = load(GW_UNSET) | {"CT": "EVSEID", "CI": "1234"}

    gateway = Gateway.from_json(data)

    assert (gateway.charge_point_id_type, gateway.charge_point_id) == ("EVSEID", "1234")
    assert gateway.is_configured


@pytest.mark.parametrize(("ct", "ci"), [("EVSEID", ""), ("", "1234"), (None, "1234")])
def test_gateway_with_one_id_missing_is_not_configured(ct: str | None, ci: str) -> None:
    assert not Gateway.from_json(load(GW_UNSET) | {"CT": ct, "CI": ci}).is_configured


def test_gateway_null_ids_read_as_empty() -> None:
    """Bug B3: a power-cycled meter may say null instead of ""."""
    gateway = Gateway.from_json(load(GW_UNSET) | {"CT": None, "CI": None})

    assert (gateway.charge_point_id_type, gateway.charge_point_id) == ("", "")


@pytest.mark.parametrize("tm", ["absent", None])
def test_gateway_time_is_optional(tm: str | None) -> None:
    data = load(GW_UNSET)
    if tm == "absent":
        del data["TM"]
    else:
        data["TM"] = tm

    assert Gateway.from_json(data).time is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"CT": 5}, "gw: CT: expected a string, got 5"),
        ({"CI": []}, "gw: CI: expected a string, got []"),
        ({"CT": {}}, "gw: CT: expected a string, got {}"),
        ({"TM": "yesterday"}, "gw: TM: expected a meter time, got 'yesterday'"),
        ({"TM": 0}, "gw: TM: expected a string, got 0"),
    ],
)
def test_gateway_rejects_bad_fields(change: dict[str, Any], message: str) -> None:
    with pytest.raises(IemDcrResponseError) as caught:
        Gateway.from_json(load(GW_UNSET) | change)

    assert str(caught.value) == message
    assert caught.value.endpoint == "gw"
    assert caught.value.field == next(iter(change))


@pytest.mark.parametrize("key", ["CT", "CI"])
def test_gateway_ids_must_be_present(key: str) -> None:
    """Null is the meter's way of saying "unset"; a missing key is a broken body."""
    data = load(GW_UNSET)
    del data[key]

    with pytest.raises(IemDcrResponseError, match=f"^gw: {key}: missing$"):
        Gateway.from_json(data)


def test_gateway_requires_an_object() -> None:
    with pytest.raises(
        IemDcrResponseError, match=r"^gw: expected an object, got \[\]$"
    ):
        Gateway.from_json([])


# --- MeterValue --------------------------------------------------------------


def test_meter_value_from_the_documented_example() -> None:
    value = MeterValue.from_json(load(METERVALUE))

    assert value.meter_serial == "1ISA0200000001"
    assert value.time.text == "2024-12-15T22:42:28,000+0200 U"
    assert value.time.value == datetime(2024, 12, 15, 20, 42, 28, tzinfo=UTC)
    assert value.time.status is TimeStatus.UNSYNCHRONIZED
    assert value.error_flags == "t"
    assert value.status == "G"
    assert value.transaction_active is False
    assert value.energy_import_total == Decimal("446.540")
    assert value.energy_export_total == Decimal("4.881")
    assert value.energy_import_transaction == Decimal("1.040")
    assert value.energy_export_transaction == Decimal("2.503")
    assert (value.u1, value.u2, value.u3, value.u4) == (1.089, 60.1, 0.0, 0.0)
    assert value.voltage == 60.1
    assert value.current == 5.0
    assert value.power == 300.0
    assert value.status_word == "0x0000004000000004"
    assert value.error_code == "0x0000, 0x00000000, 0x00, 0x00"
    assert value.healthy


def test_meter_value_numbers_are_floats() -> None:
    value = MeterValue.from_json(load(METERVALUE))

    assert all(
        type(number) is float
        for number in (
            value.u1,
            value.u2,
            value.u3,
            value.u4,
            value.current,
            value.power,
        )
    )


def test_meter_value_with_another_error_code_is_not_healthy() -> None:
    data = load(METERVALUE) | {"XC": "0x0001, 0x00000000, 0x00, 0x00"}

    assert not MeterValue.from_json(data).healthy


def test_healthy_error_code_is_the_documented_string() -> None:
    assert HEALTHY_ERROR_CODE == "0x0000, 0x00000000, 0x00, 0x00"


def test_energy_string_is_read_whole() -> None:
    """Bug B4: the reference driver drops the first character of "1.040"."""
    data = load(METERVALUE)
    data["RD"][2]["WV"] = "1.040"
    data["RD"][3]["WV"] = "12345678901.123456"

    value = MeterValue.from_json(data)

    assert value.energy_import_transaction == Decimal("1.040")
    assert value.energy_export_transaction == Decimal("12345678901.123456")


def test_registers_are_found_by_identifier_not_position() -> None:
    data = load(METERVALUE)
    data["RD"].reverse()
    data["RD"].insert(
        1, {"RV": "00000009.999", "RI": "1-b:3.8.e", "RU": "kvarh", "RT": "DC"}
    )
    data["RD"].append({"XV": "1", "XI": "something new"})

    value = MeterValue.from_json(data)

    assert value.energy_import_total == Decimal("446.540")
    assert value.energy_export_total == Decimal("4.881")
    assert value.energy_import_transaction == Decimal("1.040")
    assert value.energy_export_transaction == Decimal("2.503")


def test_meter_value_to_dict_is_json_and_exact() -> None:
    value = MeterValue.from_json(load(METERVALUE))

    as_dict = json.loads(json.dumps(value.to_dict()))

    assert as_dict["meter_serial"] == "1ISA0200000001"
    assert as_dict["time"] == "2024-12-15T22:42:28,000+0200 U"
    assert Decimal(as_dict["energy_import_total"]) == Decimal("446.540")
    assert Decimal(as_dict["energy_export_transaction"]) == Decimal("2.503")
    assert as_dict["u2"] == 60.1
    assert as_dict["transaction_active"] is False
    assert as_dict["error_code"] == "0x0000, 0x00000000, 0x00, 0x00"


def _set(path: tuple[str | int, ...], new: object) -> Callable[[Any], None]:
    def change(data: Any) -> None:
        for key in path[:-1]:
            data = data[key]
        data[path[-1]] = new

    return change


def _delete(path: tuple[str | int, ...]) -> Callable[[Any], None]:
    def change(data: Any) -> None:
        for key in path[:-1]:
            data = data[key]
        del data[path[-1]]

    return change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        # The example from the brief, verbatim.
        (
            _set(("RD", 2, "WV"), 12),
            "metervalue: RD[2].WV: expected a decimal string, got 12",
        ),
        (
            _set(("RD", 0, "RV"), "-1.000"),
            "metervalue: RD[0].RV: expected a decimal string, got '-1.000'",
        ),
        (
            _set(("RD", 1, "RV"), "+1.000"),
            "metervalue: RD[1].RV: expected a decimal string",
        ),
        (
            _set(("RD", 2, "WV"), "1e3"),
            "metervalue: RD[2].WV: expected a decimal string",
        ),
        (
            _set(("RD", 2, "WV"), "NaN"),
            "metervalue: RD[2].WV: expected a decimal string",
        ),
        (
            _set(("RD", 2, "WV"), "Infinity"),
            "metervalue: RD[2].WV: expected a decimal string",
        ),
        (
            _set(("RD", 2, "WV"), "1,040"),
            "metervalue: RD[2].WV: expected a decimal string",
        ),
        (
            _set(("RD", 2, "WV"), " 1.040"),
            "metervalue: RD[2].WV: expected a decimal string",
        ),
        (
            _set(("RD", 2, "WV"), "1.040\n"),
            "metervalue: RD[2].WV: expected a decimal string",
        ),
        (
            _set(("RD", 2, "WV"), "1."),
            "metervalue: RD[2].WV: expected a decimal string",
        ),
        (
            _set(("RD", 2, "WV"), ".5"),
            "metervalue: RD[2].WV: expected a decimal string",
        ),
        (_set(("RD", 2, "WV"), ""), "metervalue: RD[2].WV: expected a decimal string"),
        (
            _set(("RD", 2, "WV"), "\uff11.0"),
            "metervalue: RD[2].WV: expected a decimal string",
        ),
        (_delete(("RD", 3, "WV")), "metervalue: RD[3].WV: missing"),
        (_set(("RD", 0, "RU"), "Wh"), "metervalue: RD[0].RU: expected 'kWh', got 'Wh'"),
        (_delete(("RD", 3, "WU")), "metervalue: RD[3].WU: missing"),
        (_set(("RD", 1, "RI"), 7), "metervalue: RD[1].RI: expected a string, got 7"),
        (_set(("RD", 1), "1-b:2.8.e"), "metervalue: RD[1]: expected an object"),
        (
            _set(("RD", 1, "RI"), "1-b:1.8.e"),
            "metervalue: RD[1].RI: register 1-b:1.8.e appears twice",
        ),
        (
            _set(("RD", 3, "WI"), "transaction_1-b:3.8.e"),
            "metervalue: RD: register transaction_1-b:2.8.e missing",
        ),
        (
            _set(("RD",), []),
            "metervalue: RD: register 1-b:1.8.e, 1-b:2.8.e, transaction_1-b:1.8.e, transaction_1-b:2.8.e missing",
        ),
        (_set(("RD",), {}), "metervalue: RD: expected an array, got {}"),
        (_delete(("RD",)), "metervalue: RD: missing"),
        (_set(("XT",), "false"), "metervalue: XT: expected a boolean, got 'false'"),
        (_set(("XT",), 0), "metervalue: XT: expected a boolean, got 0"),
        (_set(("XT",), None), "metervalue: XT: expected a boolean, got None"),
        (_set(("U2",), True), "metervalue: U2: expected a number, got True"),
        (_set(("I",), "5"), "metervalue: I: expected a number, got '5'"),
        (_set(("P",), None), "metervalue: P: expected a number, got None"),
        (
            _set(("P",), float("nan")),
            "metervalue: P: expected a finite number, got nan",
        ),
        (
            _set(("U1",), float("-inf")),
            "metervalue: U1: expected a finite number, got -inf",
        ),
        (_set(("U3",), 10**400), "metervalue: U3: expected a finite number"),
        (_delete(("U4",)), "metervalue: U4: missing"),
        (_set(("MS",), 1), "metervalue: MS: expected a string, got 1"),
        (
            _set(("TM",), "2024-12-15T22:42:28,000+0200"),
            "metervalue: TM: expected a meter time",
        ),
        (_delete(("TM",)), "metervalue: TM: missing"),
        (_set(("EF",), None), "metervalue: EF: expected a string, got None"),
        (_set(("ST",), ["G"]), "metervalue: ST: expected a string, got ['G']"),
        (_set(("XS",), 4), "metervalue: XS: expected a string, got 4"),
        (_delete(("XC",)), "metervalue: XC: missing"),
    ],
)
def test_meter_value_rejects_bad_fields(
    change: Callable[[Any], None], message: str
) -> None:
    data = load(METERVALUE)
    change(data)

    with pytest.raises(IemDcrResponseError) as caught:
        MeterValue.from_json(data)

    assert str(caught.value).startswith(message)
    assert caught.value.endpoint == "metervalue"
    assert caught.value.field == message.split(": ")[1]


@pytest.mark.parametrize("data", [None, [], "metervalue", 1, True])
def test_meter_value_requires_an_object(data: object) -> None:
    with pytest.raises(
        IemDcrResponseError, match=r"^metervalue: expected an object"
    ) as caught:
        MeterValue.from_json(data)

    assert caught.value.field is None


def test_long_bad_values_are_shortened_in_messages() -> None:
    data = load(METERVALUE) | {"MS": ["x" * 1000]}

    with pytest.raises(IemDcrResponseError) as caught:
        MeterValue.from_json(data)

    assert len(str(caught.value)) < 100


# --- PublicKey, SignedData, datetime ------------------------------------------


def test_public_key_from_the_documented_example() -> None:
    key = PublicKey.from_json(load(PUBLICKEY))

    assert key.algorithm == "ECDSA-secp256r1-SHA256"
    assert key.key == load(PUBLICKEY)["PK"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"SA": "ECDSA-secp256r1-SHA256"}, "publickey: PK: missing"),
        ({"SA": "ECDSA-secp256r1-SHA256", "PK": ""}, "publickey: PK: empty"),
        (
            {"SA": "ECDSA-secp256r1-SHA256", "PK": 3059},
            "publickey: PK: expected a string, got 3059",
        ),
        ({"PK": "3059"}, "publickey: SA: missing"),
        ("3059", "publickey: expected an object, got '3059'"),
    ],
)
def test_public_key_rejects_bad_bodies(data: object, message: str) -> None:
    with pytest.raises(IemDcrResponseError) as caught:
        PublicKey.from_json(data)

    assert str(caught.value) == message


def test_signed_data_keeps_text_verbatim() -> None:
    text = ' OCMF|{"FV":"1.0"}|{"SA":"x","SD":"30"}\r\n'

    assert SignedData.from_json(text).text == text


def test_signed_data_repr_hides_the_record() -> None:
    """The record holds the customer's ID; logging the object must not leak it."""
    signed = SignedData('OCMF|{"ID":"04A1B2C3D4E5F6"}|{}')

    assert "04A1B2C3D4E5F6" not in repr(signed)


@pytest.mark.parametrize("data", ["", None, 1, ["OCMF|"]])
def test_signed_data_must_be_a_non_empty_string(data: object) -> None:
    with pytest.raises(IemDcrResponseError):
        SignedData.from_json(data)


def test_datetime_body() -> None:
    time = meter_time_from_json({"TM": "2025-06-06T09:26:24,000+0100 I"})

    assert time.status is TimeStatus.INFORMATIVE
    assert time.value == datetime(2025, 6, 6, 8, 26, 24, tzinfo=UTC)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "datetime: TM: missing"),
        ({"TM": 1}, "datetime: TM: expected a string, got 1"),
        ({"TM": "now"}, "datetime: TM: expected a meter time, got 'now'"),
        ("2025-06-06T09:26:24,000+0100 I", "datetime: expected an object"),
    ],
)
def test_datetime_body_rejects_junk(data: object, message: str) -> None:
    with pytest.raises(IemDcrResponseError) as caught:
        meter_time_from_json(data)

    assert str(caught.value).startswith(message)


# --- UserData ----------------------------------------------------------------


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


def _compact(body: dict[str, Any]) -> str:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def test_user_body_matches_what_evse_manager_sends() -> None:
    assert _compact(_user().to_json()) == USER_FROM_EVSE_MANAGER


def test_user_body_key_order_with_tariff() -> None:
    user = _user(
        identification_level="CERTIFIED",
        identification_flags=("RFID_PSK", "OCPP_CERTIFIED"),
        identification_type="ISO15693",
        identification_data="9109543224",
        show_user_id=True,
        tariff_text="0,20 €/kWh",
    )

    assert _compact(user.to_json()) == (
        '{"IS":true,"IL":"CERTIFIED","IF":["RFID_PSK","OCPP_CERTIFIED"],'
        '"IT":"ISO15693","ID":"9109543224","US":true,"TT":"0,20 €/kWh"}'
    )


@pytest.mark.parametrize("tariff_text", [None, ""])
def test_user_body_leaves_out_an_empty_tariff(tariff_text: str | None) -> None:
    assert "TT" not in _user(tariff_text=tariff_text).to_json()


def test_user_repr_hides_identification_data() -> None:
    assert "04A1B2C3D4E5F6" not in repr(_user())
    assert "04A1B2C3D4E5F6" not in str(_user())


def test_user_from_json_reads_what_to_json_writes() -> None:
    user = _user(identification_flags=("RFID_PLAIN",), tariff_text="T1")

    assert UserData.from_json(user.to_json()) == user
    assert UserData.from_json(load(USER_FROM_EVSE_MANAGER)) == _user()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"IF": ["RFID_PLAIN", 3]}, "user: IF[1]: expected a string, got 3"),
        ({"IF": "RFID_PLAIN"}, "user: IF: expected an array"),
        ({"IS": "true"}, "user: IS: expected a boolean"),
        ({"TT": 1}, "user: TT: expected a string, got 1"),
    ],
)
def test_user_from_json_rejects_bad_fields(
    change: dict[str, Any], message: str
) -> None:
    with pytest.raises(IemDcrResponseError) as caught:
        UserData.from_json(load(USER_FROM_EVSE_MANAGER) | change)

    assert str(caught.value).startswith(message)


# --- Whatever the body: only IemDcrResponseError -------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**300, max_value=10**400)
    | st.floats()
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.text(max_size=4), children, max_size=5)
    ),
    max_leaves=20,
)

PARSERS: list[tuple[str, Callable[[object], object]]] = [
    ("gw", Gateway.from_json),
    ("metervalue", MeterValue.from_json),
    ("publickey", PublicKey.from_json),
    ("receipt", SignedData.from_json),
    ("user", UserData.from_json),
    ("datetime", meter_time_from_json),
]


def _only_response_errors(
    endpoint: str, parse: Callable[[object], object], data: object
) -> None:
    try:
        parse(data)
    except IemDcrResponseError as err:
        error = err
    else:
        return
    assert error.endpoint == endpoint
    assert str(error).startswith(f"{endpoint}: ")


@pytest.mark.parametrize(("endpoint", "parse"), PARSERS)
@given(data=json_values)
def test_random_json_raises_only_response_errors(
    endpoint: str, parse: Callable[[object], object], data: object
) -> None:
    _only_response_errors(endpoint, parse, data)


VALID_BODIES = {
    "gw": GW_UNSET,
    "metervalue": METERVALUE,
    "publickey": PUBLICKEY,
    "user": USER_FROM_EVSE_MANAGER,
    "datetime": '{"TM": "2025-06-06T09:26:24,000+0100 I"}',
}


def _paths(
    data: object, prefix: tuple[str | int, ...] = ()
) -> list[tuple[str | int, ...]]:
    """Every key/index path into a JSON value."""
    found: list[tuple[str | int, ...]] = []
    children: list[tuple[str | int, object]] = []
    if isinstance(data, dict):
        children = list(data.items())
    elif isinstance(data, list):
        children = list(enumerate(data))
    for key, child in children:
        found.append((*prefix, key))
        found.extend(_paths(child, (*prefix, key)))
    return found


@pytest.mark.parametrize(
    ("endpoint", "parse"), [p for p in PARSERS if p[0] in VALID_BODIES]
)
@given(st.data())
def test_mutated_valid_bodies_raise_only_response_errors(
    endpoint: str, parse: Callable[[object], object], data: st.DataObject
) -> None:
    """Nearly valid bodies get deep into the parser, where random ones do not."""
    body = load(VALID_BODIES[endpoint])
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        paths = _paths(body)
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        if data.draw(st.booleans()):
            _set(path, data.draw(json_values))(body)
        else:
            _delete(path)(body)

    _only_response_errors(endpoint, parse, body)
