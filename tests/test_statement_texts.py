"""The statement's document texts and how numbers and dates are written."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
import re
import string

import pytest

from custom_components.iem_dcr.pricing import PriceMethod
from custom_components.iem_dcr.statement.model import Period, Remark, RemarkKind
from custom_components.iem_dcr.statement.texts import (
    FINDINGS_DE,
    LANGUAGES,
    LEGAL_BASIS_NOTE,
    TEXTS,
)
from custom_components.iem_dcr.statement.wording import Wording

from .charging import BERLIN

PACKAGE = Path(__file__).parents[1] / "custom_components" / "iem_dcr"


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_language_has_every_text_with_the_same_placeholders() -> None:
    english = TEXTS["en"]
    assert set(TEXTS) == set(LANGUAGES) == set(LEGAL_BASIS_NOTE)
    for language, texts in TEXTS.items():
        assert set(texts) == set(english), language
        for key, text in english.items():
            assert _placeholders(texts[key]) == _placeholders(text), (language, key)


def test_every_calibration_law_finding_has_a_german_text() -> None:
    source = (PACKAGE / "ocmf" / "eichrecht.py").read_text(encoding="utf-8")
    source += (PACKAGE / "sessions.py").read_text(encoding="utf-8")
    codes = set(re.findall(r'(?:EichrechtIssue|Finding)\(\s*"(\w+)"', source))

    assert codes
    assert codes <= set(FINDINGS_DE)


@pytest.mark.parametrize(
    ("language", "value", "energy", "price", "amount", "money"),
    [
        ("de", "1234.5", "1.234,500", "1.234,50", "1.234,50", "1.234,50\u00a0€"),
        ("en", "1234.5", "1,234.500", "1,234.50", "1,234.50", "€1,234.50"),
        ("de", "0.31749", "0,31749", "0,3175", "0,32", "0,32\u00a0€"),
        ("en", "-0.125", "-0.125", "-0.125", "-0.13", "-€0.13"),
        ("de", "6.4001", "6,4001", "6,4001", "6,40", "6,40\u00a0€"),
    ],
)
def test_numbers_are_written_the_languages_way(
    language: str, value: str, energy: str, price: str, amount: str, money: str
) -> None:
    wording = Wording(language, "EUR", BERLIN)
    number = Decimal(value)

    assert wording.energy(number) == energy  # signed values keep every digit
    assert wording.price(number) == price  # two to four decimals
    assert wording.amount(number) == amount
    assert wording.money(number) == money


def test_other_currencies_are_written_by_symbol_or_code() -> None:
    assert Wording("en", "USD", UTC).money(Decimal(3)) == "$3.00"
    assert Wording("de", "USD", UTC).money(Decimal(3)) == "3,00\u00a0$"
    assert Wording("en", "CHF", UTC).money(Decimal(3)) == "3.00\u00a0CHF"
    assert Wording("en", "CHF", UTC).price_with_unit(Decimal("0.3")) == "0.30\u00a0CHF"
    assert Wording("en", "EUR", UTC).price_with_unit(None) == "\u2013"


def test_dates_and_times_are_shown_in_the_statements_time_zone() -> None:
    begin = datetime(2026, 11, 30, 22, 30, tzinfo=UTC)  # 23:30 in Berlin
    end = datetime(2026, 11, 30, 23, 15, tzinfo=UTC)  # 00:15 on 1 December
    german, english = Wording("de", "EUR", BERLIN), Wording("en", "EUR", BERLIN)

    assert german.date(begin) == "30.11.2026"
    assert english.date(begin) == "2026-11-30"
    assert german.clock(begin) == "23:30"
    assert german.end(begin, end) == "01.12. 00:15"
    assert english.end(begin, end) == "12-01 00:15"
    assert german.end(begin, begin) == "23:30"
    assert german.zone_name() == "Europe/Berlin"


def test_periods_are_named_by_month_or_by_their_days() -> None:
    german, english = Wording("de", "EUR", BERLIN), Wording("en", "EUR", BERLIN)
    march = Period.month(2026, 3, BERLIN)
    days = Period(
        datetime(2026, 3, 2, tzinfo=BERLIN), datetime(2026, 3, 16, 12, tzinfo=BERLIN)
    )

    assert german.period(march) == "März 2026"
    assert english.period(march) == "March 2026"
    assert german.period(days) == "02.03.2026 \u2013 16.03.2026"
    assert english.period(days) == "2026-03-02 \u2013 2026-03-16"


def test_findings_are_german_in_german_and_detailed_in_english() -> None:
    remark = Remark(
        RemarkKind.FINDING,
        {"code": "meter_status", "message": "reading 2 has meter status E"},
    )
    unknown = Remark(RemarkKind.FINDING, {"code": "new_check", "message": "details"})

    assert Wording("en", "EUR", UTC).remark(remark) == (
        "Finding of the calibration-law check: reading 2 has meter status E."
    )
    assert "Fehlerstatus" in Wording("de", "EUR", UTC).remark(remark)
    assert Wording("de", "EUR", UTC).remark(unknown).endswith("details.")


def test_every_price_method_has_words() -> None:
    for language in LANGUAGES:
        wording = Wording(language, "EUR", UTC)
        for method in PriceMethod:
            assert wording.method(method, Decimal("0.34"))
