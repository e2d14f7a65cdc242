"""Prices and costs: fixed and driver prices, and a price entity polled every second."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal
import json
from typing import TYPE_CHECKING, Any

from hypothesis import given, strategies as st
import pytest

from custom_components.iem_dcr.pricing import (
    CostAccumulator,
    GapKind,
    PriceMethod,
    PricingError,
    Reconciliation,
    RegisterKind,
    SessionCost,
    Tariff,
    priced_at,
    round_cost,
)
from custom_components.iem_dcr.sessions import Session, build_sessions, settle

from .charging import ALICE_CARD, DRIVERS, JUERGEN_CARD, Charger

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

START = datetime(2026, 11, 2, 17, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
CHEAP, DEAR = Decimal("0.2512"), Decimal("0.4187")


@pytest.fixture
def charger(tmp_path: Path) -> Charger:
    return Charger(tmp_path, START)


def _poll(
    accumulator: CostAccumulator, charger: Charger, price: Decimal | None
) -> Decimal:
    """Poll like the integration: meter time, transaction register, price."""
    register = (
        charger.transaction_register
        if accumulator.register_kind is RegisterKind.TRANSACTION
        else charger.total_register
    )
    accumulator.add(charger.now, register, price)
    return register


def _charge_polled(
    charger: Charger,
    accumulator: CostAccumulator,
    prices: Sequence[Decimal | None],
    *,
    current: float = 16.0,
) -> list[Decimal]:
    """Poll once, then each second at prices[i] while current flows."""
    registers = [_poll(accumulator, charger, prices[0])]
    for price in prices[1:]:
        charger.run(SECOND, current=current)
        registers.append(_poll(accumulator, charger, price))
    return registers


def _session(charger: Charger) -> Session:
    return build_sessions(charger.ledger.entries(), resolve_driver=DRIVERS.get)[-1]


def _settle(
    charger: Charger,
    accumulator: CostAccumulator | None,
    *,
    price_at_end: Decimal | None,
    tariff: Tariff | None = None,
) -> SessionCost:
    return settle(
        _session(charger),
        tariff=tariff or Tariff(),
        accumulator=accumulator,
        finished_at=charger.now,
        price_at_end=price_at_end,
    )


# --- fixed prices and rounding -----------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "rounded"),
    [
        ("0.125", "0.13"),  # half up; banker's rounding would give 0.12
        ("0.135", "0.14"),
        ("2.0320", "2.03"),
        ("-0.125", "-0.13"),
        ("0.004999", "0.00"),
    ],
)
def test_costs_are_rounded_to_the_cent_half_up(amount: str, rounded: str) -> None:
    assert round_cost(Decimal(amount)) == Decimal(rounded)


def test_a_fixed_price_prices_the_signed_energy(charger: Charger) -> None:
    charger.charge(ALICE_CARD, timedelta(minutes=61), pause=timedelta(0))
    energy = _session(charger).energy_kwh
    assert energy is not None

    cost = _settle(charger, None, price_at_end=None, tariff=Tariff(Decimal("0.3175")))

    assert cost.method is PriceMethod.FIXED
    assert cost.energy_kwh == energy
    assert cost.price_per_kwh == Decimal("0.3175")
    assert cost.cost == (energy * Decimal("0.3175")).quantize(
        Decimal("0.01"), rounding="ROUND_HALF_UP"
    )
    assert cost.settled is True


def test_a_drivers_price_overrides_the_meter_price_and_the_entity(
    charger: Charger,
) -> None:
    accumulator = CostAccumulator(register_kind=RegisterKind.TRANSACTION)
    charger.begin(JUERGEN_CARD)
    _charge_polled(charger, accumulator, [DEAR] * 30)
    charger.end()
    energy = _session(charger).energy_kwh
    assert energy is not None

    own = Tariff(driver_prices={"Jürgen Größe": Decimal("0.29")})
    cost = _settle(charger, accumulator, price_at_end=DEAR, tariff=own)

    assert cost.method is PriceMethod.DRIVER
    assert cost.cost == round_cost(energy * Decimal("0.29"))


def test_priced_energy_that_is_unknown_has_no_cost() -> None:
    cost = priced_at(None, Decimal("0.30"), PriceMethod.FIXED, settled=True)

    assert cost.cost is None
    assert cost.method is PriceMethod.FIXED


@pytest.mark.parametrize("price", [Decimal("NaN"), Decimal("Infinity"), 0.3])
def test_a_tariff_refuses_a_price_that_is_no_finite_decimal(price: Any) -> None:
    with pytest.raises(PricingError):
        Tariff(price)
    with pytest.raises(PricingError):
        Tariff(driver_prices={"Alice": price})


def test_negative_prices_are_prices(charger: Charger) -> None:
    charger.charge(ALICE_CARD, timedelta(minutes=30), pause=timedelta(0))

    cost = _settle(charger, None, price_at_end=None, tariff=Tariff(Decimal("-0.05")))

    assert cost.cost is not None
    assert cost.cost < 0


# --- a price entity, polled every second -------------------------------------------


@pytest.mark.parametrize("kind", list(RegisterKind))
def test_the_cost_is_energy_weighted_when_the_price_changes_during_a_session(
    charger: Charger, kind: RegisterKind
) -> None:
    accumulator = CostAccumulator(register_kind=kind)
    charger.begin(ALICE_CARD)
    # 41 s at the cheap price, then 79 s at the dear one: the poll that first
    # sees the dear price ends the last cheap second.
    prices = [CHEAP] * 41 + [DEAR] * 80
    registers = _charge_polled(charger, accumulator, prices)
    charger.end()
    session = _session(charger)
    assert session.energy_kwh is not None

    cost = _settle(charger, accumulator, price_at_end=DEAR)

    expected = sum(
        (
            (after - before) * price
            for before, after, price in zip(
                registers, registers[1:], prices, strict=False
            )
        ),
        Decimal(0),
    )
    assert registers[-1] - registers[0] == session.energy_kwh
    assert cost.method is PriceMethod.ENTITY
    assert cost.reconciliation is Reconciliation.EXACT
    assert cost.energy_kwh == session.energy_kwh
    assert cost.polled_energy_kwh == session.energy_kwh
    assert cost.cost == round_cost(expected)
    # The average price shows the exact cost, before rounding to the cent.
    assert cost.price_per_kwh == (expected / session.energy_kwh).quantize(
        Decimal("0.000001"), rounding="ROUND_HALF_UP"
    )
    assert cost.gaps == ()
    assert not cost.has_gap


def test_the_energy_of_a_gap_is_priced_at_the_price_at_its_end(
    charger: Charger,
) -> None:
    accumulator = CostAccumulator(register_kind=RegisterKind.TRANSACTION)
    charger.begin(ALICE_CARD)
    before = _charge_polled(charger, accumulator, [CHEAP] * 60)
    charger.run(timedelta(hours=2))  # Home Assistant is down, the car charges
    after = _charge_polled(charger, accumulator, [DEAR] * 60)
    charger.end()

    cost = _settle(charger, accumulator, price_at_end=DEAR)

    (gap,) = cost.gaps
    gap_energy = after[0] - before[-1]
    assert gap.kind is GapKind.MISSED_POLLS
    assert gap.energy_kwh == gap_energy
    assert gap.price_per_kwh == DEAR
    assert gap.start == START + 59 * SECOND
    assert gap.end == START + 59 * SECOND + timedelta(hours=2)
    assert cost.has_gap
    assert cost.gap_energy_kwh == gap_energy
    expected = (
        (before[-1] - before[0]) * CHEAP
        + gap_energy * DEAR
        + (after[-1] - after[0]) * DEAR
    )
    assert cost.cost == round_cost(expected)


def test_energy_while_the_price_is_unknown_waits_for_the_next_price(
    charger: Charger,
) -> None:
    accumulator = CostAccumulator(register_kind=RegisterKind.TRANSACTION)
    charger.begin(ALICE_CARD)
    prices: list[Decimal | None] = [CHEAP] * 10 + [None] * 10 + [DEAR] * 10
    registers = _charge_polled(charger, accumulator, prices)
    charger.end()

    cost = _settle(charger, accumulator, price_at_end=DEAR)

    (gap,) = cost.gaps
    assert gap.kind is GapKind.PRICE_UNAVAILABLE
    # Ten intervals began without a price: the 10th poll's to the 20th's.
    assert gap.energy_kwh == registers[20] - registers[10]
    assert gap.price_per_kwh == DEAR
    assert not cost.has_gap  # Home Assistant was running: no outage
    expected = (
        (registers[10] - registers[0]) * CHEAP
        + (registers[20] - registers[10]) * DEAR
        + (registers[29] - registers[20]) * DEAR
    )
    assert cost.cost == round_cost(expected)


def test_rounding_between_transaction_and_signed_total_registers_is_absorbed(
    charger: Charger,
) -> None:
    # After a first session the total register is no longer on a Wh step, so the
    # transaction register and the signed end minus begin can differ by 1 Wh.
    charger.charge(None, timedelta(seconds=7), pause=timedelta(0))
    rounded = 0
    for _ in range(40):
        accumulator = CostAccumulator(register_kind=RegisterKind.TRANSACTION)
        charger.begin(ALICE_CARD)
        registers = _charge_polled(charger, accumulator, [CHEAP] * 13)
        charger.end()
        session = _session(charger)
        assert session.energy_kwh is not None

        cost = _settle(charger, accumulator, price_at_end=DEAR)

        assert abs(session.energy_kwh - registers[-1]) <= Decimal("0.001")
        rounded += session.energy_kwh != registers[-1]
        assert cost.reconciliation is Reconciliation.EXACT
        assert cost.energy_kwh == session.energy_kwh
        assert cost.gaps == ()
        assert cost.cost == round_cost(session.energy_kwh * CHEAP)
    assert rounded  # the case this test is about did occur


def test_a_session_that_ends_while_home_assistant_is_down_prices_the_rest_at_the_end(
    charger: Charger,
) -> None:
    accumulator = CostAccumulator(register_kind=RegisterKind.TRANSACTION)
    charger.begin(ALICE_CARD)
    registers = _charge_polled(charger, accumulator, [CHEAP] * 30)
    charger.run(timedelta(minutes=45))
    charger.end()
    charger.now += timedelta(minutes=10)  # the tuple is fetched when HA is back
    session = _session(charger)
    assert session.energy_kwh is not None

    cost = _settle(charger, accumulator, price_at_end=DEAR)

    (gap,) = cost.gaps
    tail = session.energy_kwh - registers[-1]
    assert gap.kind is GapKind.AFTER_LAST_POLL
    assert gap.energy_kwh == tail
    assert gap.price_per_kwh == DEAR
    assert cost.cost == round_cost(registers[-1] * CHEAP + tail * DEAR)
    assert cost.reconciliation is Reconciliation.EXACT


def test_a_session_seen_late_prices_its_beginning_at_the_first_polled_price(
    charger: Charger,
) -> None:
    # Home Assistant starts while a transaction runs: total register, signed begin.
    charger.begin(ALICE_CARD)
    charger.run(timedelta(minutes=20))
    accumulator = CostAccumulator(register_kind=RegisterKind.TOTAL)
    registers = _charge_polled(charger, accumulator, [DEAR] * 30)
    charger.end()
    session = _session(charger)
    assert session.begin_register_kwh is not None

    cost = _settle(charger, accumulator, price_at_end=CHEAP)

    (gap,) = cost.gaps
    head = registers[0] - session.begin_register_kwh
    assert gap.kind is GapKind.BEFORE_FIRST_POLL
    assert gap.energy_kwh == head
    assert gap.price_per_kwh == DEAR
    assert cost.cost == round_cost((registers[-1] - session.begin_register_kwh) * DEAR)


def test_the_edges_of_a_normal_session_are_no_gaps(charger: Charger) -> None:
    accumulator = CostAccumulator(register_kind=RegisterKind.TOTAL)
    charger.begin(ALICE_CARD)
    charger.run(SECOND)  # the first poll comes a second after the begin
    _charge_polled(charger, accumulator, [CHEAP] * 20)
    charger.run(SECOND)  # and the end a second after the last poll
    charger.end()
    session = _session(charger)
    assert session.energy_kwh is not None

    cost = _settle(charger, accumulator, price_at_end=DEAR)

    assert cost.gaps == ()
    assert cost.cost == round_cost(session.energy_kwh * CHEAP)


def test_polls_that_do_not_fit_the_signed_energy_are_scaled_to_it(
    charger: Charger,
) -> None:
    accumulator = CostAccumulator(register_kind=RegisterKind.TOTAL)
    charger.begin(ALICE_CARD)
    _charge_polled(charger, accumulator, [CHEAP] * 10 + [DEAR] * 10)
    charger.end()
    session = _session(charger)
    assert session.energy_kwh is not None
    polled = accumulator.polled_energy_kwh

    # A begin register above the first poll: the polls cannot be this session's edges.
    cost = accumulator.finish(
        energy_kwh=session.energy_kwh * 2,
        begin_register_kwh=(session.end_register_kwh or Decimal(0)) + 1,
        begin_time=session.begin,
        finished_at=charger.now,
        price_at_end=DEAR,
    )

    assert cost.reconciliation is Reconciliation.SCALED
    assert cost.polled_energy_kwh == polled
    assert cost.energy_kwh == session.energy_kwh * 2
    # Twice the energy at the same average price.
    unscaled = accumulator.finish(
        energy_kwh=session.energy_kwh,
        begin_register_kwh=session.begin_register_kwh,
        begin_time=session.begin,
        finished_at=charger.now,
        price_at_end=DEAR,
    )
    assert unscaled.price_per_kwh == cost.price_per_kwh
    assert cost.cost is not None
    assert unscaled.cost is not None
    assert abs(cost.cost - 2 * unscaled.cost) <= Decimal("0.01")


def test_without_polls_the_whole_session_is_priced_at_the_end(
    charger: Charger,
) -> None:
    charger.charge(ALICE_CARD, timedelta(minutes=30), pause=timedelta(0))
    session = _session(charger)
    assert session.energy_kwh is not None

    cost = _settle(charger, None, price_at_end=DEAR)
    unknown = _settle(charger, None, price_at_end=None)

    assert cost.reconciliation is Reconciliation.UNMATCHED
    assert cost.cost == round_cost(session.energy_kwh * DEAR)
    assert [gap.kind for gap in cost.gaps] == [GapKind.UNOBSERVED]
    assert cost.has_gap
    assert unknown.method is PriceMethod.NONE
    assert unknown.cost is None


def test_when_no_price_was_ever_known_the_cost_is_unknown(charger: Charger) -> None:
    accumulator = CostAccumulator(register_kind=RegisterKind.TRANSACTION)
    charger.begin(ALICE_CARD)
    _charge_polled(charger, accumulator, [None] * 20)
    charger.end()

    cost = _settle(charger, accumulator, price_at_end=None)
    late = _settle(charger, accumulator, price_at_end=CHEAP)

    assert cost.method is PriceMethod.NONE
    assert cost.cost is None
    assert late.method is PriceMethod.ENTITY
    assert late.cost is not None


def test_an_unreadable_energy_is_not_priced() -> None:
    accumulator = CostAccumulator(register_kind=RegisterKind.TRANSACTION)

    cost = accumulator.finish(
        energy_kwh=None,
        begin_register_kwh=None,
        begin_time=None,
        finished_at=START,
        price_at_end=DEAR,
    )

    assert cost.method is PriceMethod.NONE
    assert cost.cost is None


def test_the_accumulator_survives_a_restart_through_json(charger: Charger) -> None:
    straight = CostAccumulator(register_kind=RegisterKind.TRANSACTION)
    restarted = CostAccumulator(register_kind=RegisterKind.TRANSACTION)
    charger.begin(ALICE_CARD)
    prices: list[Decimal | None] = [CHEAP] * 15 + [None] * 5 + [DEAR] * 15
    for index, price in enumerate(prices):
        if index:
            charger.run(SECOND)
        _poll(straight, charger, price)
        _poll(restarted, charger, price)
        if index in {7, 17}:
            restarted = CostAccumulator.from_dict(
                json.loads(json.dumps(restarted.to_dict()))
            )
    charger.end()

    assert restarted.to_dict() == straight.to_dict()
    empty = CostAccumulator(register_kind=RegisterKind.TOTAL, max_poll_interval=SECOND)
    assert CostAccumulator.from_dict(empty.to_dict()).to_dict() == empty.to_dict()
    assert _settle(charger, restarted, price_at_end=DEAR) == _settle(
        charger, straight, price_at_end=DEAR
    )


def test_a_session_cost_survives_json(charger: Charger) -> None:
    accumulator = CostAccumulator(register_kind=RegisterKind.TRANSACTION)
    charger.begin(ALICE_CARD)
    _charge_polled(charger, accumulator, [CHEAP] * 5)
    charger.run(timedelta(hours=1))
    _charge_polled(charger, accumulator, [None, DEAR, DEAR])
    charger.end()
    cost = _settle(charger, accumulator, price_at_end=DEAR)
    assert cost.gaps

    assert SessionCost.from_dict(json.loads(json.dumps(cost.to_dict()))) == cost


@pytest.mark.parametrize(
    ("time", "register", "price", "message"),
    [
        (START - SECOND, Decimal("1.000"), CHEAP, "older than the last one"),
        (START + SECOND, Decimal("0.100"), CHEAP, "register went down"),
        (START + SECOND, Decimal("NaN"), CHEAP, "finite"),
        (START + SECOND, Decimal("-1"), CHEAP, "negative"),
        (START + SECOND, Decimal("2.000"), Decimal("sNaN"), "finite"),
        (START + SECOND, 2.0, CHEAP, "must be a Decimal"),
        (datetime(2026, 11, 2, 17, 0, 1), Decimal("2.000"), CHEAP, "timezone-aware"),  # noqa: DTZ001
    ],
)
def test_a_bad_poll_is_refused_and_changes_nothing(
    time: datetime, register: Any, price: Decimal, message: str
) -> None:
    accumulator = CostAccumulator(register_kind=RegisterKind.TRANSACTION)
    accumulator.add(START, Decimal("1.000"), CHEAP)
    before = accumulator.to_dict()

    with pytest.raises(PricingError, match=message):
        accumulator.add(time, register, price)

    assert accumulator.to_dict() == before


def test_the_longest_poll_interval_must_be_positive() -> None:
    with pytest.raises(PricingError):
        CostAccumulator(register_kind=RegisterKind.TOTAL, max_poll_interval=SECOND * 0)


@pytest.mark.parametrize(
    "change",
    [
        {"format": 2},
        {"format": True},
        {"register_kind": "lifetime"},
        {"max_poll_interval": "30"},
        {"max_poll_interval": float("nan")},
        {"max_poll_interval": -5},
        {"cost": 1.5},
        {"cost": "abc"},
        {"cost": "Infinity"},
        {"gaps": {}},
        {"gaps": [{"kind": "outage"}]},
        {"first": None},
        {"last": {"time": None}},
        {"last": {"time": "yesterday", "register_kwh": "1"}},
        {"last": {"time": "2026-11-02T17:00:00", "register_kwh": "1"}},
        {"last": {"time": 5, "register_kwh": "1"}},
        {"last": []},
    ],
)
def test_stored_accumulator_data_that_is_wrong_is_refused(
    change: dict[str, Any],
) -> None:
    accumulator = CostAccumulator(register_kind=RegisterKind.TRANSACTION)
    accumulator.add(START, Decimal("0.000"), CHEAP)
    accumulator.add(START + timedelta(hours=1), Decimal("1.000"), CHEAP)

    with pytest.raises(PricingError):
        CostAccumulator.from_dict(accumulator.to_dict() | change)


@given(
    st.recursive(
        st.none() | st.booleans() | st.text() | st.integers(),
        lambda c: st.lists(c) | st.dictionaries(st.text(), c),
    )
)
def test_any_json_is_read_or_refused_with_a_pricing_error(data: Any) -> None:
    for reader in (CostAccumulator.from_dict, SessionCost.from_dict):
        with contextlib.suppress(PricingError):
            reader(data)


@pytest.mark.parametrize(
    "change",
    [
        {"settled": "yes"},
        {"gaps": "none"},
        {"method": "guess"},
        {"reconciliation": "maybe"},
        {"energy_kwh": 3},
    ],
)
def test_stored_session_costs_that_are_wrong_are_refused(
    change: dict[str, Any],
) -> None:
    cost = priced_at(Decimal("3.000"), CHEAP, PriceMethod.FIXED, settled=True)

    with pytest.raises(PricingError):
        SessionCost.from_dict(cost.to_dict() | change)


def test_open_gaps_of_scaled_polls_are_priced_at_the_end(charger: Charger) -> None:
    accumulator = CostAccumulator(register_kind=RegisterKind.TOTAL)
    charger.begin(ALICE_CARD)
    registers = _charge_polled(charger, accumulator, [CHEAP] * 10 + [None] * 10)
    charger.end()
    session = _session(charger)
    assert session.energy_kwh is not None
    assert accumulator.samples_seen
    assert [gap.price_per_kwh for gap in accumulator.gaps] == [None]

    def scaled(price_at_end: Decimal | None) -> SessionCost:
        # Without the signed begin register a total register cannot be matched.
        return accumulator.finish(
            energy_kwh=session.energy_kwh,
            begin_register_kwh=None,
            begin_time=session.begin,
            finished_at=charger.now,
            price_at_end=price_at_end,
        )

    cost = scaled(DEAR)
    unknown = scaled(None)

    assert cost.reconciliation is Reconciliation.SCALED
    assert [gap.price_per_kwh for gap in cost.gaps] == [DEAR]
    expected = (registers[10] - registers[0]) * CHEAP + (
        registers[-1] - registers[10]
    ) * DEAR
    assert cost.cost == round_cost(expected)
    assert unknown.method is PriceMethod.NONE
    assert unknown.reconciliation is Reconciliation.SCALED


def test_a_begin_without_a_price_takes_the_first_known_one(charger: Charger) -> None:
    accumulator = CostAccumulator(register_kind=RegisterKind.TRANSACTION)
    charger.begin(ALICE_CARD)
    charger.run(SECOND * 5)  # the first poll already sees energy, but no price
    registers = _charge_polled(charger, accumulator, [None] * 3 + [DEAR] * 5)
    charger.end()

    cost = _settle(charger, accumulator, price_at_end=CHEAP)

    assert cost.cost == round_cost(registers[-1] * DEAR)
    (gap,) = cost.gaps
    assert gap.kind is GapKind.PRICE_UNAVAILABLE
    assert gap.energy_kwh == registers[3] - registers[0]
    assert gap.price_per_kwh == DEAR


def test_a_session_without_energy_costs_nothing(charger: Charger) -> None:
    accumulator = CostAccumulator(register_kind=RegisterKind.TOTAL)
    charger.begin(ALICE_CARD)
    _charge_polled(charger, accumulator, [CHEAP] * 5, current=0.0)
    charger.end()

    unmatched = accumulator.finish(
        energy_kwh=Decimal("0.000"),
        begin_register_kwh=None,
        begin_time=None,
        finished_at=charger.now,
        price_at_end=None,
    )
    empty = CostAccumulator(register_kind=RegisterKind.TOTAL).finish(
        energy_kwh=Decimal("0.000"),
        begin_register_kwh=None,
        begin_time=None,
        finished_at=charger.now,
        price_at_end=DEAR,
    )

    # The last polled price stands in for a missing price at the end.
    assert unmatched.cost == empty.cost == Decimal("0.00")
    assert unmatched.price_per_kwh is None
    assert unmatched.gaps == empty.gaps == ()
    assert unmatched.reconciliation is Reconciliation.UNMATCHED


def test_a_pause_in_polling_without_energy_is_no_gap(charger: Charger) -> None:
    accumulator = CostAccumulator(register_kind=RegisterKind.TRANSACTION)
    charger.begin(ALICE_CARD)
    first = _charge_polled(charger, accumulator, [CHEAP] * 10)
    charger.now += timedelta(hours=2)  # the car waits; Home Assistant is down
    second = _charge_polled(charger, accumulator, [DEAR] * 10)
    charger.end()

    cost = _settle(charger, accumulator, price_at_end=DEAR)

    assert cost.gaps == ()
    assert cost.cost == round_cost(
        (first[-1] - first[0]) * CHEAP + (second[-1] - second[0]) * DEAR
    )


def test_polled_span_is_the_first_and_the_last_poll() -> None:
    assert CostAccumulator(register_kind=RegisterKind.TRANSACTION).polled_span is None
    accumulator = CostAccumulator(register_kind=RegisterKind.TRANSACTION)
    accumulator.add(START, Decimal("0.000"), CHEAP)
    accumulator.add(START + 5 * SECOND, Decimal("0.010"), CHEAP)
    accumulator.add(START + 9 * SECOND, Decimal("0.020"), None)

    assert accumulator.polled_span == (START, START + 9 * SECOND)
    # A refused poll (older than the last) leaves the span as it was.
    with pytest.raises(PricingError):
        accumulator.add(START + 2 * SECOND, Decimal("0.030"), CHEAP)
    assert accumulator.polled_span == (START, START + 9 * SECOND)
