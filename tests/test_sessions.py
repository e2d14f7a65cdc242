"""Sessions read from stored signed tuples (simulator-made, and hand-made)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
import logging
from typing import TYPE_CHECKING

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.iem_dcr import sessions as sessions_module
from custom_components.iem_dcr.ocmf import OcmfError, OcmfRecord
from custom_components.iem_dcr.pricing import PriceMethod, Tariff, priced_at
from custom_components.iem_dcr.sessions import (
    Session,
    SessionIndex,
    TpsVerdict,
    Verdict,
    build_sessions,
    session_from_tuple,
    with_cost,
)

from .charging import ALICE_CARD, DRIVERS, GUEST_CARD, JUERGEN_CARD, Charger, entry_at

if TYPE_CHECKING:
    from pathlib import Path

START = datetime(2026, 11, 2, 17, 0, tzinfo=UTC)
UNSIGNED = '{"SD":"3044"}'


def _record(readings: str, *, pagination: str = "T3", extra: str = "") -> str:
    return (
        f'OCMF|{{"FV":"1.0","PG":"{pagination}","MS":"1ISA0200001132",'
        f'"IS":true,"IL":"VERIFIED","IT":"ISO14443","ID":"{ALICE_CARD}"{extra},'
        f'"RD":[{readings}]}}|{UNSIGNED}'
    )


def _reading(tx: str, time: str, value: str, unit: str = "kWh") -> str:
    return (
        f'{{"TM":"{time} I","TX":"{tx}","RV":{value},"RI":"1-b:1.8.e",'
        f'"RU":"{unit}","ST":"G","EF":""}}'
    )


@pytest.fixture
def charger(tmp_path: Path) -> Charger:
    return Charger(tmp_path, START)


def test_every_stored_tuple_is_a_session_with_signed_times_and_exact_energy(
    charger: Charger,
) -> None:
    for card, minutes in ((ALICE_CARD, 61), (JUERGEN_CARD, 95), (GUEST_CARD, 7)):
        charger.charge(card, timedelta(minutes=minutes))
    registers = []
    for ocmf in charger.meter.issued:
        values = [part.split('"')[0] for part in ocmf.split('"RV":"')[1:]]
        registers.append((Decimal(values[0]), Decimal(values[1])))

    sessions = build_sessions(charger.ledger.entries(), resolve_driver=DRIVERS.get)

    assert [session.pagination for session in sessions] == ["T1", "T2", "T3"]
    assert [session.driver for session in sessions] == ["Alice", "Jürgen Größe", None]
    assert [session.identification_data for session in sessions] == [
        ALICE_CARD,
        JUERGEN_CARD,
        GUEST_CARD,
    ]
    for session, (begin, end), minutes in zip(
        sessions, registers, (61, 95, 7), strict=True
    ):
        assert session.begin_register_kwh == begin
        assert session.end_register_kwh == end
        assert session.energy_kwh == end - begin
        # 400 V x 16 A for the whole session, at the meter's Wh resolution.
        assert abs(session.energy_kwh - Decimal("6.4") * minutes / 60) < Decimal(
            "0.002"
        )
        assert session.begin is not None
        assert session.end is not None
        assert session.end - session.begin == timedelta(minutes=minutes)
        # Meter time keeps the offset the meter signs (Berlin in November).
        assert session.begin.utcoffset() == timedelta(hours=1)
        assert session.signature_valid is True
        assert session.verdict is Verdict.VALID
        assert session.findings == ()
        assert session.meter_serial == charger.meter.serial
        assert session.cost is not None
        assert session.cost.method is PriceMethod.NONE
    assert sessions[0].begin == START


def test_a_session_never_shows_its_identification_data_in_its_repr(
    charger: Charger,
) -> None:
    charger.charge(ALICE_CARD, timedelta(minutes=5))

    (session,) = build_sessions(charger.ledger.entries(), resolve_driver=DRIVERS.get)

    assert session.identification_data == ALICE_CARD
    assert ALICE_CARD not in repr(session)
    assert "Alice" in repr(session)


def test_a_driver_is_only_resolved_from_identification_data(charger: Charger) -> None:
    asked: list[str] = []

    def resolve(card: str) -> str | None:
        asked.append(card)
        return None

    charger.charge(None, timedelta(minutes=5))
    charger.charge(GUEST_CARD, timedelta(minutes=5))

    sessions = build_sessions(charger.ledger.entries(), resolve_driver=resolve)

    assert asked == [GUEST_CARD]
    assert [session.driver for session in sessions] == [None, None]
    assert sessions[0].identification_data is None


def test_a_tuple_that_does_not_parse_is_still_a_session() -> None:
    stored = datetime(2026, 11, 3, 8, 0, tzinfo=UTC)
    entry = entry_at(7, "OCMF|{not json|{}", recorded_at=stored, signature_valid=None)

    session = session_from_tuple(entry, tps_check=lambda record, key: TpsVerdict(True))

    assert session.sequence == 7
    assert session.label == "#7"
    assert session.verdict is Verdict.UNREADABLE
    assert session.energy_kwh is None
    assert session.starts_at == session.ends_at == stored
    assert session.parse_error is not None
    assert "payload section is not valid JSON" in session.parse_error
    assert session.tps.compatible is False
    assert [finding.code for finding in session.findings] == ["unreadable"]


def test_energy_in_wh_is_converted_to_exact_kwh() -> None:
    text = _record(
        _reading("B", "2026-11-02T18:00:00,000+0100", "1234567", "Wh")
        + ","
        + _reading("E", "2026-11-02T19:00:00,000+0100", "1241012", "Wh")
    )

    session = session_from_tuple(entry_at(1, text, recorded_at=START))

    assert session.begin_register_kwh == Decimal("1234.567")
    assert session.end_register_kwh == Decimal("1241.012")
    assert session.energy_kwh == Decimal("6.445")


@pytest.mark.parametrize(
    ("begin", "end", "unit", "code"),
    [
        ("10.5", "12.0", "sec", "energy_unit"),
        ("12.0", "10.5", "kWh", "negative_energy"),
    ],
)
def test_energy_that_cannot_be_billed_is_unknown_and_says_why(
    begin: str, end: str, unit: str, code: str
) -> None:
    text = _record(
        _reading("B", "2026-11-02T18:00:00,000+0100", begin, unit)
        + ","
        + _reading("E", "2026-11-02T19:00:00,000+0100", end, unit)
    )

    session = session_from_tuple(entry_at(1, text, recorded_at=START))

    assert session.energy_kwh is None
    assert code in {finding.code for finding in session.findings}


def test_a_record_without_an_end_reading_has_no_energy() -> None:
    text = _record(_reading("B", "2026-11-02T18:00:00,000+0100", "10.5"))

    session = session_from_tuple(entry_at(1, text, recorded_at=START))

    assert session.end is None
    assert session.energy_kwh is None
    assert session.ends_at == session.starts_at == session.begin
    assert "no_end" in {finding.code for finding in session.findings}
    assert session.verdict is Verdict.UNCHECKED


def test_calibration_law_findings_mark_the_session(charger: Charger) -> None:
    charger.charge(ALICE_CARD, timedelta(minutes=5), level="UNKNOWN")

    (session,) = build_sessions(charger.ledger.entries())

    assert session.signature_valid is True
    assert session.verdict is Verdict.FINDINGS
    assert [finding.code for finding in session.findings] == ["identification_error"]


def test_the_stored_verdict_is_used_unless_asked_to_verify_again(
    charger: Charger,
) -> None:
    charger.begin(ALICE_CARD)
    charger.run(timedelta(minutes=5))
    genuine = charger.meter.end_transaction()
    tampered = genuine.replace('"TX":"E"', '"TX":"L"')
    charger.store(tampered, signature_valid=True)  # a lying ledger, for the test
    charger.store(genuine.replace('"PG":"T1"', '"PG":"T2"'), signature_valid=None)

    stored = build_sessions(charger.ledger.entries())
    checked = build_sessions(charger.ledger.entries(), verify=True)

    assert [session.signature_valid for session in stored] == [True, False]
    assert [session.signature_valid for session in checked] == [False, False]
    assert checked[0].verdict is Verdict.INVALID


def test_without_a_public_key_the_verdict_stays_unchecked() -> None:
    text = _record(
        _reading("B", "2026-11-02T18:00:00,000+0100", "1.0")
        + ","
        + _reading("E", "2026-11-02T19:00:00,000+0100", "2.0")
    )

    session = session_from_tuple(entry_at(1, text, recorded_at=START), verify=True)

    assert session.signature_valid is None
    assert session.verdict is Verdict.UNCHECKED


def test_an_unusable_public_key_keeps_the_stored_verdict() -> None:
    text = _record(
        _reading("B", "2026-11-02T18:00:00,000+0100", "1.0")
        + ","
        + _reading("E", "2026-11-02T19:00:00,000+0100", "2.0")
    )
    entry = entry_at(1, text, recorded_at=START, public_key="not a key")

    assert session_from_tuple(entry, verify=True).signature_valid is None


def test_transparenzsoftware_compatibility_comes_from_the_caller(
    charger: Charger,
) -> None:
    charger.charge(ALICE_CARD, timedelta(minutes=5))
    seen: list[tuple[str | None, str]] = []

    def check(record: OcmfRecord, public_key: str) -> TpsVerdict:
        seen.append((record.payload.pagination, public_key))
        return TpsVerdict(False, "superfluous leading zero in s")

    (session,) = build_sessions(charger.ledger.entries(), tps_check=check)
    (unknown,) = build_sessions(charger.ledger.entries())

    assert seen == [("T1", charger.public_key)]
    assert session.tps == TpsVerdict(False, "superfluous leading zero in s")
    assert unknown.tps.compatible is None


def test_a_settled_cost_wins_over_todays_tariff(charger: Charger) -> None:
    charger.charge(ALICE_CARD, timedelta(minutes=30))
    charger.charge(JUERGEN_CARD, timedelta(minutes=30))
    first = build_sessions(charger.ledger.entries())[0]
    settled = priced_at(
        first.energy_kwh, Decimal("0.30"), PriceMethod.FIXED, settled=True
    )
    tariff = Tariff(Decimal("0.40"), {"Jürgen Größe": Decimal("0.25")})

    sessions = build_sessions(
        charger.ledger.entries(),
        resolve_driver=DRIVERS.get,
        tariff=tariff,
        costs={first.sequence: settled},
    )

    assert sessions[0].cost == settled
    assert sessions[1].cost is not None
    assert sessions[1].cost.method is PriceMethod.DRIVER
    assert sessions[1].cost.price_per_kwh == Decimal("0.25")
    assert sessions[1].cost.settled is False


def test_a_settled_cost_for_other_energy_is_not_used_and_logged_without_the_card(
    charger: Charger, caplog: pytest.LogCaptureFixture
) -> None:
    charger.charge(ALICE_CARD, timedelta(minutes=30))
    (session,) = build_sessions(charger.ledger.entries())
    wrong = priced_at(
        Decimal("99.000"), Decimal("0.30"), PriceMethod.FIXED, settled=True
    )

    with caplog.at_level(logging.DEBUG):
        priced = with_cost(
            session, tariff=Tariff(Decimal("0.40")), costs={session.sequence: wrong}
        )

    assert priced.cost is not None
    assert priced.cost.price_per_kwh == Decimal("0.40")
    assert "T1" in caplog.text
    assert ALICE_CARD not in caplog.text


# --- the index -------------------------------------------------------------------


def _timed(sequence: int, begin: datetime, minutes: int) -> Session:
    text = _record(
        _reading("B", _tm(begin), "1.0")
        + ","
        + _reading("E", _tm(begin + timedelta(minutes=minutes)), "2.0"),
        pagination=f"T{sequence}",
    )
    return session_from_tuple(entry_at(sequence, text, recorded_at=begin))


def _tm(moment: datetime) -> str:
    local = moment.astimezone(UTC)
    return local.strftime("%Y-%m-%dT%H:%M:%S,000+0000")


def _overlaps(session: Session, start: datetime, end: datetime) -> bool:
    if session.ends_at == session.starts_at:
        return start <= session.starts_at < end
    return session.starts_at < end and session.ends_at > start


@settings(max_examples=60, deadline=None)
@given(
    layout=st.lists(
        st.tuples(st.integers(0, 2000), st.integers(0, 600)), min_size=0, max_size=30
    ),
    query=st.tuples(st.integers(-100, 2700), st.integers(1, 900)),
)
def test_range_queries_return_exactly_the_overlapping_sessions(
    layout: list[tuple[int, int]], query: tuple[int, int]
) -> None:
    sessions = [
        _timed(number, START + timedelta(minutes=offset), minutes)
        for number, (offset, minutes) in enumerate(layout, start=1)
    ]
    start = START + timedelta(minutes=query[0])
    end = start + timedelta(minutes=query[1])

    bulk = SessionIndex(sessions)
    grown = SessionIndex()
    for session in reversed(sessions):
        grown.add(session)

    expected = sorted(
        (s for s in sessions if _overlaps(s, start, end)),
        key=lambda s: (s.starts_at, s.sequence),
    )
    assert bulk.overlapping(start, end) == expected
    assert grown.overlapping(start, end) == expected
    assert bulk.starting_in(start, end) == [
        s for s in expected if start <= s.starts_at < end
    ]
    assert list(grown) == list(bulk)
    assert len(bulk) == len(sessions)


def test_a_query_across_time_zones_compares_instants() -> None:
    session = _timed(1, datetime(2026, 11, 2, 17, 0, tzinfo=UTC), 60)
    index = SessionIndex([session])
    berlin_evening = datetime.fromisoformat("2026-11-02T18:30:00+01:00")

    assert index.overlapping(berlin_evening, berlin_evening + timedelta(hours=1)) == [
        session
    ]
    assert (
        index.overlapping(
            berlin_evening + timedelta(minutes=30), berlin_evening + timedelta(hours=2)
        )
        == []
    )


def test_a_failing_calibration_law_check_is_a_finding(
    charger: Charger, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(record: OcmfRecord) -> list[object]:
        raise OcmfError("cannot check")

    charger.charge(ALICE_CARD, timedelta(minutes=5))
    monkeypatch.setattr(sessions_module, "eichrecht_issues", broken)

    (session,) = build_sessions(charger.ledger.entries())

    assert [finding.code for finding in session.findings] == ["check_failed"]
    assert session.verdict is Verdict.FINDINGS
    assert session.energy_kwh is not None


def test_a_reading_without_a_value_has_no_energy() -> None:
    text = _record(
        '{"TM":"2026-11-02T18:00:00,000+0100 I","TX":"B","RU":"kWh","ST":"G"},'
        + _reading("E", "2026-11-02T19:00:00,000+0100", "2.0")
    )

    session = session_from_tuple(entry_at(1, text, recorded_at=START))

    assert session.begin_register_kwh is None
    assert session.energy_kwh is None
    assert "missing_value" in {finding.code for finding in session.findings}
