"""MeterState without HTTP: clock, registers, transactions, power cycle."""

from __future__ import annotations

from decimal import Decimal
import json

import pytest

from iem_dcr_simulator import (
    HEALTHY_ERROR_CODE,
    MeterRefusedError,
    MeterState,
    UserIdentification,
)

from .conftest import FakeClock
from .ocmf_check import signature_verifies, split_record

POSTED = "2025-06-06T09:26:24,000+0100"


@pytest.fixture
def meter(clock: FakeClock) -> MeterState:
    return MeterState(clock=clock)


def payload_of(record: str) -> dict[str, object]:
    payload, _ = split_record(record)
    document: dict[str, object] = json.loads(payload)
    return document


def user(**changes: object) -> UserIdentification:
    fields: dict[str, object] = {
        "identification_status": True,
        "identification_level": "UNKNOWN",
        "identification_flags": ("RFID_PLAIN",),
        "identification_type": "ISO14443",
        "identification_data": "04A1B2C3D4E5F6",
        "show_user_id": False,
    }
    fields.update(changes)
    return UserIdentification(**fields)  # type: ignore[arg-type]


def test_power_up_values(meter: MeterState) -> None:
    assert meter.serial == "1ISA0200001132"
    assert meter.charge_point_id_type == ""
    assert meter.charge_point_id == ""
    assert meter.gateway_set is False
    assert meter.tariff_text == ""
    assert meter.time_set is False
    assert meter.transaction_active is False
    assert meter.error_code == HEALTHY_ERROR_CODE == "0x0000, 0x00000000, 0x00, 0x00"
    assert meter.activation_threshold == 0.5
    assert meter.energy_import_total == Decimal(0)
    assert meter.pagination == 0
    assert meter.issued == []
    assert meter.last_ocmf is None
    assert meter.staged_user is None


def test_unsynchronised_clock_is_utc_with_status_u(
    meter: MeterState, clock: FakeClock
) -> None:
    assert meter.meter_time() == "2026-03-01T12:00:00,000+0000 U"
    clock.advance(seconds=61.9)
    assert meter.meter_time() == "2026-03-01T12:01:01,000+0000 U"
    assert meter.meter_value()["EF"] == "t"


def test_posted_time_runs_with_the_clock_and_keeps_its_offset(
    meter: MeterState, clock: FakeClock
) -> None:
    meter.set_datetime(POSTED)
    assert meter.time_set
    assert meter.meter_time() == "2025-06-06T09:26:24,000+0100 I"
    clock.advance(seconds=90)
    assert meter.meter_time() == "2025-06-06T09:27:54,000+0100 I"
    assert meter.meter_value()["EF"] == ""


def test_negative_offset_and_day_rollover(meter: MeterState, clock: FakeClock) -> None:
    meter.set_datetime("2025-01-01T23:59:30,000-0530")
    clock.advance(seconds=45)
    assert meter.meter_time() == "2025-01-02T00:00:15,000-0530 I"


def test_gateway_is_accepted_once_per_power_cycle(
    meter: MeterState, clock: FakeClock
) -> None:
    meter.set_gateway("EVSEID", "DE*ABC*E1234", POSTED)
    assert (meter.charge_point_id_type, meter.charge_point_id) == (
        "EVSEID",
        "DE*ABC*E1234",
    )
    assert meter.gateway() == {
        "CT": "EVSEID",
        "CI": "DE*ABC*E1234",
        "TM": "2025-06-06T09:26:24,000+0100 I",
    }
    with pytest.raises(MeterRefusedError):
        meter.set_gateway("CBIDC", "other", POSTED)
    assert meter.charge_point_id == "DE*ABC*E1234"


def test_bad_posted_time_is_rejected_before_anything_changes(
    meter: MeterState,
) -> None:
    with pytest.raises(ValueError):
        meter.set_gateway("EVSEID", "1234", "2025-06-06 09:26:24")
    assert not meter.gateway_set
    assert not meter.time_set


def test_datetime_is_refused_during_a_transaction(meter: MeterState) -> None:
    meter.begin_transaction()
    with pytest.raises(MeterRefusedError):
        meter.set_datetime(POSTED)
    assert not meter.time_set


def test_energy_integrates_power_over_clock_time(
    meter: MeterState, clock: FakeClock
) -> None:
    meter.set_measurements(voltage=400.0, current=10.0)  # 4 kW
    assert meter.power == 4000.0
    clock.advance(minutes=30)
    assert meter.energy_import_total == Decimal(2)
    meter.set_measurements(current=-5.0)  # 2 kW back to the grid
    clock.advance(minutes=15)
    assert meter.energy_export_total == Decimal("0.5")
    assert meter.energy_import_total == Decimal(2)


def test_energy_counts_at_the_old_power_until_the_change(
    meter: MeterState, clock: FakeClock
) -> None:
    meter.set_measurements(voltage=500.0, current=2.0)  # 1 kW
    clock.advance(hours=1)
    meter.set_measurements(current=0.0)
    clock.advance(hours=5)
    assert meter.energy_import_total == Decimal(1)


def test_transaction_registers_start_at_begin(
    meter: MeterState, clock: FakeClock
) -> None:
    meter.add_energy(Decimal("446.54"), Decimal("4.881"))
    meter.begin_transaction()
    meter.add_energy(Decimal("1.04"), Decimal("2.503"))
    assert meter.energy_import_transaction == Decimal("1.04")
    assert meter.energy_export_transaction == Decimal("2.503")
    assert meter.energy_import_total == Decimal("447.58")
    rd = meter.meter_value()["RD"]
    assert [reading.get("RV", reading.get("WV")) for reading in rd] == [
        "00000447.580",
        "00000007.384",
        "00000001.040",
        "00000002.503",
    ]


def test_transaction_registers_keep_the_last_transaction_until_the_next_begin(
    meter: MeterState,
) -> None:
    meter.begin_transaction()
    meter.add_energy(Decimal(3))
    meter.end_transaction()
    meter.add_energy(Decimal(1))
    assert meter.energy_import_transaction == Decimal(3)
    assert meter.energy_import_total == Decimal(4)
    meter.begin_transaction()
    assert meter.energy_import_transaction == Decimal(0)


def test_add_energy_rejects_negative_and_non_finite(meter: MeterState) -> None:
    with pytest.raises(ValueError):
        meter.add_energy(Decimal(-1))
    with pytest.raises(ValueError):
        meter.add_energy(export_kwh=Decimal("NaN"))
    assert meter.energy_import_total == Decimal(0)


def test_measurements_are_validated(meter: MeterState) -> None:
    with pytest.raises(ValueError):
        meter.set_measurements(voltage=-1.0)
    with pytest.raises(ValueError):
        meter.set_measurements(current=float("inf"))
    assert (meter.voltage, meter.current) == (0.0, 0.0)


@pytest.mark.parametrize("current", [0.51, -0.51])
def test_begin_is_refused_above_the_activation_threshold(
    meter: MeterState, current: float
) -> None:
    meter.set_measurements(current=current)
    with pytest.raises(MeterRefusedError):
        meter.begin_transaction()
    assert not meter.transaction_active


def test_begin_at_exactly_the_threshold_is_allowed(meter: MeterState) -> None:
    meter.set_measurements(current=0.5)
    meter.begin_transaction()
    assert meter.transaction_active


def test_end_is_refused_above_the_threshold_and_when_idle(meter: MeterState) -> None:
    with pytest.raises(MeterRefusedError):
        meter.end_transaction()
    meter.begin_transaction()
    meter.set_measurements(current=32.0)
    with pytest.raises(MeterRefusedError):
        meter.end_transaction()
    with pytest.raises(MeterRefusedError):
        meter.read_receipt()
    assert meter.transaction_active
    assert meter.pagination == 0
    meter.set_measurements(current=0.0)
    meter.end_transaction()
    assert not meter.transaction_active


def test_begin_twice_is_refused(meter: MeterState) -> None:
    meter.begin_transaction()
    with pytest.raises(MeterRefusedError):
        meter.begin_transaction()


def test_record_without_user_uses_the_defaults(meter: MeterState) -> None:
    meter.set_tariff("0,20 EUR/kWh")
    meter.begin_transaction()
    payload = payload_of(meter.end_transaction())
    assert payload["IS"] is False
    assert payload["IL"] == "NONE"
    assert payload["IF"] == []
    assert payload["IT"] == "NONE"
    assert payload["ID"] == ""
    assert payload["TT"] == "0,20 EUR/kWh"


def test_record_carries_the_staged_user_and_its_tariff_text(
    meter: MeterState,
) -> None:
    meter.set_tariff("0,20 EUR/kWh")
    meter.stage_user(user(tariff_text="0,59 EUR/kWh"))
    meter.begin_transaction()
    payload = payload_of(meter.end_transaction())
    assert payload["IS"] is True
    assert payload["IL"] == "UNKNOWN"
    assert payload["IF"] == ["RFID_PLAIN"]
    assert payload["IT"] == "ISO14443"
    assert payload["ID"] == "04A1B2C3D4E5F6"
    assert payload["TT"] == "0,59 EUR/kWh"
    assert meter.staged_user is None


def test_record_readings_show_time_and_import_register(
    meter: MeterState, clock: FakeClock
) -> None:
    meter.set_gateway("EVSEID", "1234", POSTED)
    meter.add_energy(Decimal("446.54"))
    meter.begin_transaction()
    clock.advance(seconds=21)
    meter.add_energy(Decimal("0.5"))
    payload = payload_of(meter.end_transaction())
    assert payload["CT"] == "EVSEID"
    assert payload["CI"] == "1234"
    assert payload["RD"] == [
        {
            "TM": "2025-06-06T09:26:24,000+0100 I",
            "TX": "B",
            "EF": "",
            "ST": "G",
            "RV": "00000446.540",
            "RI": "1-b:1.8.e",
            "RU": "kWh",
            "RT": "DC",
        },
        {
            "TM": "2025-06-06T09:26:45,000+0100 I",
            "TX": "E",
            "EF": "",
            "ST": "G",
            "RV": "00000447.040",
            "RI": "1-b:1.8.e",
            "RU": "kWh",
            "RT": "DC",
        },
    ]


def test_record_before_time_set_flags_the_time(meter: MeterState) -> None:
    meter.begin_transaction()
    payload = payload_of(meter.end_transaction())
    readings = payload["RD"]
    assert isinstance(readings, list)
    assert [reading["EF"] for reading in readings] == ["t", "t"]
    assert all(reading["TM"].endswith("+0000 U") for reading in readings)


def test_pagination_counts_records(meter: MeterState) -> None:
    records = []
    for _ in range(3):
        meter.begin_transaction()
        records.append(meter.end_transaction())
    assert [payload_of(record)["PG"] for record in records] == ["T1", "T2", "T3"]
    assert meter.pagination == 3
    assert meter.issued == records
    assert meter.last_ocmf == records[-1]
    assert meter.last_transaction_record() == records[-1]


def test_receipt_ends_a_running_transaction(meter: MeterState) -> None:
    meter.begin_transaction()
    record = meter.read_receipt()
    assert not meter.transaction_active
    assert meter.issued == [record]
    assert meter.read_receipt() == record
    assert meter.pagination == 1


def test_no_record_before_the_first_transaction(meter: MeterState) -> None:
    with pytest.raises(MeterRefusedError):
        meter.read_receipt()
    with pytest.raises(MeterRefusedError):
        meter.last_transaction_record()


def test_transaction_record_while_another_runs_is_the_previous_one(
    meter: MeterState,
) -> None:
    meter.begin_transaction()
    first = meter.end_transaction()
    meter.begin_transaction()
    assert meter.last_transaction_record() == first


def test_end_transaction_externally(meter: MeterState) -> None:
    meter.begin_transaction()
    record = meter.end_transaction_externally()
    assert meter.last_ocmf == record
    assert not meter.transaction_active
    with pytest.raises(MeterRefusedError):
        meter.end_transaction_externally()


def test_records_verify_with_the_meter_key(meter: MeterState) -> None:
    meter.begin_transaction()
    record = meter.end_transaction()
    assert signature_verifies(record, meter.public_key()["PK"])


def test_power_cycle_loses_the_session_but_keeps_the_meter(
    meter: MeterState, clock: FakeClock
) -> None:
    meter.set_gateway("EVSEID", "1234", POSTED)
    meter.set_tariff("0,20 EUR/kWh")
    meter.begin_transaction()
    meter.add_energy(Decimal(2))
    record = meter.end_transaction()
    meter.stage_user(user())
    meter.begin_transaction()
    meter.add_energy(Decimal(1))
    public_key = meter.public_key()["PK"]

    meter.power_cycle()

    assert meter.charge_point_id_type == ""
    assert meter.charge_point_id == ""
    assert not meter.gateway_set
    assert not meter.time_set
    assert meter.meter_time() == "2026-03-01T12:00:00,000+0000 U"
    assert meter.tariff_text == ""
    assert meter.staged_user is None
    assert not meter.transaction_active
    # The interrupted transaction left no record; registers and records survive.
    assert meter.pagination == 1
    assert meter.issued == [record]
    assert meter.last_ocmf == record
    assert meter.energy_import_total == Decimal(3)
    assert meter.energy_import_transaction == Decimal(1)
    assert meter.public_key()["PK"] == public_key
    meter.set_gateway("CBIDC", "5678", POSTED)
    assert meter.charge_point_id == "5678"
    meter.begin_transaction()
    assert payload_of(meter.end_transaction())["PG"] == "T2"


def test_error_code(meter: MeterState) -> None:
    meter.set_error_code("0x0001, 0x00000000, 0x00, 0x00")
    assert meter.meter_value()["XC"] == "0x0001, 0x00000000, 0x00, 0x00"
    meter.set_error_code(None)
    assert meter.error_code == HEALTHY_ERROR_CODE


def test_serial_appears_in_meter_value_and_record(clock: FakeClock) -> None:
    meter = MeterState(serial="1ISA0299999999", clock=clock)
    assert meter.meter_value()["MS"] == "1ISA0299999999"
    meter.begin_transaction()
    payload = payload_of(meter.end_transaction())
    assert (payload["GS"], payload["MS"]) == ("1ISA0299999999", "1ISA0299999999")


def test_add_energy_accepts_ints_strings_and_floats(meter: MeterState) -> None:
    meter.add_energy(1, "0.25")
    meter.add_energy(0.1)
    assert meter.energy_import_total == Decimal("1.1")
    assert meter.energy_export_total == Decimal("0.25")
