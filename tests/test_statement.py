"""The statement bundle, read back: PDF text, both CSVs and the Transparenzsoftware XML."""

from __future__ import annotations

import csv
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
import hashlib
import io
import os
from pathlib import Path
import re
from typing import Any
from xml.etree import ElementTree as ET

from pypdf import PdfReader
import pytest

from custom_components.iem_dcr.pricing import (
    CostAccumulator,
    GapKind,
    PriceGap,
    PriceMethod,
    Reconciliation,
    RegisterKind,
    SessionCost,
    Tariff,
)
from custom_components.iem_dcr.sessions import (
    Session,
    TpsVerdict,
    build_sessions,
    settle,
)
from custom_components.iem_dcr.statement import (
    LEGAL_BASIS_NOTE,
    MeterInfo,
    Period,
    StatementError,
    StatementPricing,
    bundle as bundle_module,
    key_fingerprint,
    write_statement,
)
from custom_components.iem_dcr.statement.csv_export import PLAIN_COLUMNS

from .charging import (
    ALICE_CARD,
    BERLIN,
    DRIVERS,
    GUEST_CARD,
    JUERGEN_CARD,
    Charger,
    entry_at,
)

NOVEMBER = Period.month(2026, 11, BERLIN)
CREATED = datetime(2026, 12, 1, 7, 30, tzinfo=UTC)
PRICES = {"Alice": Decimal("0.29"), "Jürgen Größe": Decimal("0.3175")}
TARIFF = Tariff(Decimal("0.3175"), {"Alice": Decimal("0.29")})
CARDS = (ALICE_CARD, JUERGEN_CARD, GUEST_CARD)
_RV = re.compile(r'"RV":"([0-9.]+)"')


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _signed_energy(ocmf: str) -> Decimal:
    """End minus begin register, read straight from the signed text."""
    begin, end = _RV.findall(ocmf)
    return Decimal(end) - Decimal(begin)


def _german(amount: Decimal) -> str:
    return f"{amount:.2f}".replace(".", ",")


def _german_energy(kwh: Decimal) -> str:
    return f"{kwh:.3f}".replace(".", ",")


def _pdf_text(path: Path) -> str:
    reader = PdfReader(path)
    # One space for any run of white space: lines wrap where the layout wants.
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


@pytest.fixture
def charger(tmp_path: Path) -> Charger:
    # Begins late on 31 October (Berlin): that session belongs to October.
    return Charger(tmp_path, datetime(2026, 10, 31, 22, 30, tzinfo=UTC))


@pytest.fixture
def november(charger: Charger) -> list[Session]:
    """A month of charging by three people, one session a day."""
    for day in range(31):
        charger.charge(
            CARDS[day % 3],
            timedelta(minutes=40 + 3 * day),
            pause=timedelta(hours=23) - timedelta(minutes=40 + 3 * day),
        )
    return build_sessions(
        charger.ledger.entries(), resolve_driver=DRIVERS.get, tariff=TARIFF
    )


def _meter(charger: Charger) -> MeterInfo:
    return MeterInfo(
        "Isabellenhütte",
        "IEM-DCR-125-1000-32-00-006-B_000",
        "1ISA0200001132",
        charger.public_key,
    )


@pytest.fixture
def exports(tmp_path: Path) -> Path:
    return tmp_path / "iem_dcr_exports"


def _write(
    folder: Path, sessions: list[Session], charger: Charger, **options: Any
) -> Any:
    arguments: dict[str, Any] = {
        "meter": _meter(charger),
        "period": NOVEMBER,
        "currency": "EUR",
        "language": "de",
        "zone": BERLIN,
        "note": LEGAL_BASIS_NOTE["de"],
        "created_at": CREATED,
    }
    return write_statement(folder, sessions, **(arguments | options))


def _in_november(sessions: list[Session]) -> list[Session]:
    return [s for s in sessions if NOVEMBER.contains(s.starts_at)]


# --- the PDF ------------------------------------------------------------------------


def test_the_pdf_names_meter_period_sessions_and_totals_to_the_cent(
    exports: Path, charger: Charger, november: list[Session]
) -> None:
    chosen = _in_november(november)
    expected_energy = sum((_signed_energy(s.ocmf) for s in chosen), Decimal(0))
    expected_cost = sum(
        (
            _cents(
                _signed_energy(s.ocmf) * PRICES.get(s.driver or "", Decimal("0.3175"))
            )
            for s in chosen
        ),
        Decimal(0),
    )

    bundle = _write(exports, november, charger)
    text = _pdf_text(bundle.pdf)

    assert len(chosen) == 30  # the session begun on 31 October is not in November
    assert bundle.totals.sessions == 30
    assert bundle.totals.energy_kwh == expected_energy
    assert bundle.totals.cost == expected_cost
    assert bundle.totals.verified_sessions == 30
    assert f"30 Ladevorgänge, {_german_energy(expected_energy)} kWh" in text
    assert f"{_german(expected_cost)} €" in text
    for heading in ("Ladevorgänge", "Zähler", "Öffentlicher Schlüssel", "Geprüft"):
        assert heading in text
    assert "Isabellenhütte IEM-DCR-125-1000-32-00-006-B_000" in text
    assert "1ISA0200001132" in text
    assert "November 2026" in text
    assert key_fingerprint(charger.public_key) in text
    assert "Jürgen Größe" in text
    assert "Transparenzsoftware" in text
    assert "safe-ev.de" in text
    assert bundle.xml.name in text
    assert "Bundesministeriums der Finanzen" in text
    assert "34 ct für 2026" in text
    for session in chosen:
        assert session.label in text
    # No identification data on paper.
    for card in CARDS:
        assert card not in text


def test_an_english_statement(
    exports: Path, charger: Charger, november: list[Session]
) -> None:
    bundle = _write(
        exports, november, charger, language="en", note=LEGAL_BASIS_NOTE["en"]
    )
    text = _pdf_text(bundle.pdf)

    assert "Charging sessions" in text
    assert "Serial number" in text
    assert f"€{bundle.totals.cost:.2f}" in text
    assert "34 ct for 2026" in text
    assert "2026-11-01" in text


def test_a_year_of_1500_sessions_runs_over_many_numbered_pages(
    tmp_path: Path, exports: Path
) -> None:
    charger = Charger(tmp_path, datetime(2026, 1, 1, 6, tzinfo=UTC))
    step = timedelta(days=360) / 1500
    for number in range(1500):
        charger.charge(
            CARDS[number % 3], timedelta(minutes=30), pause=step - timedelta(minutes=30)
        )
    sessions = build_sessions(
        charger.ledger.entries(), resolve_driver=DRIVERS.get, tariff=TARIFF
    )
    year = Period.days(date(2026, 1, 1), date(2026, 12, 31), BERLIN)

    bundle = _write(exports, sessions, charger, period=year)
    reader = PdfReader(bundle.pdf)
    pages = len(reader.pages)
    last = reader.pages[-1].extract_text()

    assert bundle.totals.sessions == 1500
    assert pages > 20
    assert f"Seite {pages} von {pages}" in last
    assert "Seite 1 von" in reader.pages[0].extract_text()
    # The table's header repeats on every page it continues on.
    assert "Vorgang" in reader.pages[pages // 2].extract_text()
    assert "01.01.2026 \u2013 31.12.2026" in reader.pages[0].extract_text()
    assert bundle.totals.cost == sum(
        (
            _cents(
                _signed_energy(s.ocmf) * PRICES.get(s.driver or "", Decimal("0.3175"))
            )
            for s in sessions
        ),
        Decimal(0),
    )


def test_characters_the_font_lacks_are_replaced_visibly(
    exports: Path, charger: Charger, november: list[Session]
) -> None:
    renamed = [replace(s, driver="Łukasz Dvořák 🚗") for s in november]

    bundle = _write(exports, renamed, charger, note="Ğ ş \u0131 — 漢字 ✓")
    text = _pdf_text(bundle.pdf)

    assert "Łukasz Dvořák \ufffd" in text
    assert "Ğ ş \u0131 — \ufffd\ufffd \ufffd" in text


def test_remarks_explain_gaps_findings_and_signatures(
    exports: Path, charger: Charger
) -> None:
    charger.now = datetime(2026, 11, 2, 17, 0, tzinfo=UTC)
    # 1: a gap while Home Assistant was down, priced by the entity's values.
    accumulator = CostAccumulator(register_kind=RegisterKind.TRANSACTION)
    charger.begin(ALICE_CARD)
    for _ in range(10):
        accumulator.add(charger.now, charger.transaction_register, Decimal("0.25"))
        charger.run(timedelta(seconds=1))
    charger.run(timedelta(hours=1))
    accumulator.add(charger.now, charger.transaction_register, Decimal("0.40"))
    gap_entry = charger.end()
    # 2: the reference driver's default identification level, a TPS finding.
    charger.now += timedelta(hours=3)
    charger.charge(JUERGEN_CARD, timedelta(minutes=30), level="UNKNOWN")
    # 3: a tuple whose signature does not match.
    charger.begin(GUEST_CARD)
    charger.run(timedelta(minutes=20))
    tampered = charger.meter.end_transaction().replace('"TX":"E"', '"TX":"L"')
    charger.store(tampered, signature_valid=False)
    # 4: a tuple that cannot be read at all.
    unreadable = entry_at(
        99, "OCMF|{broken|{}", recorded_at=charger.now, signature_valid=None
    )
    sessions = build_sessions(
        [*charger.ledger.entries(), unreadable],
        resolve_driver=DRIVERS.get,
        tariff=Tariff(),
    )
    cost = settle(
        sessions[0],
        tariff=Tariff(),
        accumulator=accumulator,
        finished_at=charger.now,
        price_at_end=Decimal("0.40"),
    )
    sessions[0] = replace(sessions[0], cost=cost)

    bundle = _write(exports, sessions, charger)
    text = _pdf_text(bundle.pdf)

    assert gap_entry.pagination == "T1"
    (gap,) = cost.gaps
    gap_kwh = f"{gap.energy_kwh:.3f}".replace(".", ",")
    assert (
        f"T1: Home Assistant lief während eines Teils dieses Ladevorgangs nicht: "
        f"{gap_kwh} kWh wurden zu 0,40 € je kWh berechnet" in text
    )
    assert "T2: Befund der eichrechtlichen Prüfung: die Identifikationsstufe" in text
    assert "T3: Die Signatur passt nicht zum öffentlichen Schlüssel" in text
    assert "#99: Die signierten Daten sind nicht lesbar" in text
    assert "#99: Dieser Ladevorgang fehlt in der XML-Datei" in text
    assert "NEIN" in text
    assert "unlesbar" in text
    assert "mit Befund" in text
    assert "T2, T3: Für diesen Ladevorgang ist kein Preis bekannt." in text
    assert bundle.not_in_xml == ("#99",)
    assert bundle.totals.sessions == 4
    assert bundle.totals.verified_sessions == 1
    assert bundle.totals.unpriced_sessions == 3
    assert bundle.totals.cost == cost.cost
    assert "Davon geprüft: 1 Ladevorgänge" in text
    assert "3 Ladevorgänge haben keinen Preis" in text


def test_a_flat_rate_prices_every_session_alike(
    exports: Path, charger: Charger, november: list[Session]
) -> None:
    chosen = _in_november(november)

    bundle = _write(
        exports, november, charger, pricing=StatementPricing(Decimal("0.34"))
    )
    text = _pdf_text(bundle.pdf)

    assert bundle.totals.cost == sum(
        (_cents(_signed_energy(s.ocmf) * Decimal("0.34")) for s in chosen), Decimal(0)
    )
    assert "Pauschale von 0,34 € je kWh für jeden Ladevorgang" in text
    assert "Mit dem heutigen Preis" not in text


def test_one_drivers_statement_leaves_the_others_out(
    exports: Path, charger: Charger, november: list[Session]
) -> None:
    bundle = _write(exports, november, charger, driver="Jürgen Größe")
    rows = list(csv.DictReader(io.StringIO(bundle.csv.read_text(encoding="utf-8"))))

    assert bundle.totals.sessions == 10
    assert {row["driver"] for row in rows} == {"Jürgen Größe"}
    assert "_Juergen-Groesse_" in bundle.pdf.name
    text = _pdf_text(bundle.pdf)
    assert "Fahrer Jürgen Größe" in text
    assert "Alice" not in text


def test_a_period_without_sessions_still_makes_a_statement(
    exports: Path, charger: Charger, november: list[Session]
) -> None:
    bundle = _write(exports, november, charger, period=Period.month(2027, 2, BERLIN))

    assert bundle.totals.sessions == 0
    assert bundle.totals.cost == 0
    assert "Kein Ladevorgang in diesem Zeitraum." in _pdf_text(bundle.pdf)
    assert ET.parse(bundle.xml).getroot().findall("value") == []


# --- the CSVs -----------------------------------------------------------------------


def test_the_csv_has_one_row_per_session_with_exact_numbers(
    exports: Path, charger: Charger, november: list[Session]
) -> None:
    chosen = _in_november(november)

    bundle = _write(exports, november, charger)
    raw = bundle.csv.read_bytes()
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8"))))

    assert not raw.startswith(b"\xef\xbb\xbf")
    assert tuple(rows[0]) == PLAIN_COLUMNS
    assert [row["session"] for row in rows] == [s.label for s in chosen]
    for row, session in zip(rows, chosen, strict=True):
        assert Decimal(row["energy_kwh"]) == _signed_energy(session.ocmf)
        assert datetime.fromisoformat(row["begin"]) == session.begin
        assert datetime.fromisoformat(row["end"]) == session.end
        assert row["date"] == session.starts_at.astimezone(BERLIN).date().isoformat()
        assert row["currency"] == "EUR"
        assert row["verified"] == "valid"
    assert sum(Decimal(row["cost"]) for row in rows) == bundle.totals.cost
    assert {row["price_method"] for row in rows} == {"driver", "fixed"}
    assert {row["driver"] for row in rows} == {"Alice", "Jürgen Größe", ""}
    excel = bundle.csv_excel.read_bytes()
    for card in CARDS:  # no identification data outside the signed tuples
        assert card.encode() not in raw
        assert card.encode() not in excel
        assert card not in str(bundle.as_dict())


def test_the_excel_csv_is_german_excel_shaped(
    exports: Path, charger: Charger, november: list[Session]
) -> None:
    chosen = _in_november(november)

    bundle = _write(exports, november, charger)
    raw = bundle.csv_excel.read_bytes()
    header, *rows = csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";")

    assert raw.startswith(b"\xef\xbb\xbf")
    assert header == [
        "Vorgang",
        "Datum",
        "Beginn",
        "Ende",
        "Fahrer",
        "kWh",
        "€/kWh",
        "Kosten (€)",
        "Preisermittlung",
        "Geprüft",
    ]
    assert len(rows) == len(chosen)
    for row, session in zip(rows, chosen, strict=True):
        assert "." not in row[5]
        assert Decimal(row[5].replace(",", ".")) == _signed_energy(session.ocmf)
        assert re.fullmatch(r"\d\d\.\d\d\.2026", row[1])
        assert re.fullmatch(r"\d\d:\d\d:\d\d", row[2])
    assert sum(Decimal(row[7].replace(",", ".")) for row in rows) == bundle.totals.cost


def test_the_excel_csv_never_hands_a_formula_to_the_spreadsheet(
    exports: Path, charger: Charger, november: list[Session]
) -> None:
    renamed = [replace(s, driver="=HYPERLINK(1)") for s in november]

    bundle = _write(exports, renamed, charger, driver="=HYPERLINK(1)")
    rows = list(
        csv.reader(
            io.StringIO(bundle.csv_excel.read_bytes().decode("utf-8-sig")),
            delimiter=";",
        )
    )

    assert {row[4] for row in rows[1:]} == {"'=HYPERLINK(1)"}


# --- the XML --------------------------------------------------------------------


def test_the_xml_holds_exactly_the_statements_signed_tuples_verbatim(
    exports: Path, charger: Charger, november: list[Session]
) -> None:
    chosen = _in_november(november)
    stored = {entry.sequence: entry.ocmf for entry in charger.ledger.entries()}

    bundle = _write(exports, november, charger)
    values = ET.parse(bundle.xml).getroot().findall("value")

    assert [value.findtext("signedData") for value in values] == [
        stored[session.sequence] for session in chosen
    ]
    assert {value.findtext("publicKey") for value in values} == {charger.public_key}


# --- writing ----------------------------------------------------------------------


def test_a_statement_already_written_is_never_replaced(
    exports: Path, charger: Charger, november: list[Session]
) -> None:
    first = _write(exports, november, charger)
    before = {path: path.read_bytes() for path in exports.iterdir()}

    second = _write(exports, november, charger, language="en")

    assert second.pdf != first.pdf
    assert second.pdf.name.endswith("-2.pdf")
    assert {path: path.read_bytes() for path in before} == before
    assert len(list(exports.iterdir())) == 8
    assert not [path for path in exports.iterdir() if path.name.startswith(".")]
    assert first.as_dict()["pdf"] == str(first.pdf)
    assert first.as_dict()["totals"]["cost"] == str(first.totals.cost)


def test_a_write_that_fails_leaves_no_part_of_the_bundle(
    exports: Path,
    charger: Charger,
    november: list[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = bundle_module._write_new
    written: list[Path] = []

    def fail_third(path: Path, data: bytes) -> None:
        if len(written) == 2:
            raise OSError(28, "No space left on device")
        real(path, data)
        written.append(path)

    monkeypatch.setattr(bundle_module, "_write_new", fail_third)

    with pytest.raises(OSError, match="No space left"):
        _write(exports, november, charger)

    assert len(written) == 2
    assert list(exports.iterdir()) == []


def test_a_folder_that_cannot_be_made_is_an_os_error(
    tmp_path: Path, charger: Charger, november: list[Session]
) -> None:
    blocker = tmp_path / "exports"
    blocker.write_text("a file, not a folder")

    with pytest.raises(OSError):
        _write(blocker / "statements", november, charger)


def test_without_hard_links_the_files_are_still_written(
    exports: Path,
    charger: Charger,
    november: list[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_links(source: str, target: Path) -> None:
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)

    bundle = _write(exports, november, charger)

    assert bundle.pdf.read_bytes().startswith(b"%PDF-")
    assert len(list(exports.iterdir())) == 4


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"language": "fr"}, "unsupported language"),
        ({"currency": " "}, "currency"),
        ({"created_at": datetime(2026, 12, 1)}, "timezone-aware"),  # noqa: DTZ001
    ],
)
def test_bad_input_is_refused_before_anything_is_written(
    exports: Path,
    charger: Charger,
    november: list[Session],
    options: dict[str, Any],
    message: str,
) -> None:
    with pytest.raises(StatementError, match=message):
        _write(exports, november, charger, **options)
    assert not exports.exists()


@pytest.mark.parametrize(
    "build",
    [
        lambda: Period(datetime(2026, 11, 1), datetime(2026, 12, 1, tzinfo=UTC)),  # noqa: DTZ001
        lambda: Period(
            datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)
        ),
        lambda: Period.month(2026, 13, BERLIN),
        lambda: Period.days(date(2026, 11, 2), date(2026, 11, 1), BERLIN),
        lambda: StatementPricing(Decimal("NaN")),
    ],
)
def test_periods_and_rates_that_make_no_sense_are_refused(build: Any) -> None:
    with pytest.raises(StatementError):
        build()


def test_periods_follow_the_calendar_of_the_time_zone() -> None:
    march = Period.month(2026, 3, BERLIN)  # summer time begins on 29 March
    december = Period.month(2026, 12, BERLIN)

    assert march.start == datetime.fromisoformat("2026-03-01T00:00:00+01:00")
    assert march.end == datetime.fromisoformat("2026-04-01T00:00:00+02:00")
    assert december.end == datetime.fromisoformat("2027-01-01T00:00:00+01:00")
    assert march.calendar_month(BERLIN) == (2026, 3)
    assert march.calendar_month(UTC) is None
    assert (
        Period.days(date(2026, 3, 1), date(2026, 3, 30), BERLIN).calendar_month(BERLIN)
        is None
    )


def test_the_fingerprint_is_the_sha256_of_the_der_key(charger: Charger) -> None:
    digest = hashlib.sha256(bytes.fromhex(charger.public_key)).hexdigest().upper()

    fingerprint = key_fingerprint(charger.public_key)

    assert fingerprint.replace(" ", "") == digest
    assert len(fingerprint.split()) == 16
    assert _meter(charger).fingerprint == fingerprint
    assert key_fingerprint("") == ""
    assert key_fingerprint("not hex") == " ".join(
        re.findall("....", hashlib.sha256(b"nothex").hexdigest().upper())
    )


def test_english_remarks_for_prices_found_without_polls_and_the_tps(
    exports: Path, charger: Charger, november: list[Session]
) -> None:
    first, second, third = _in_november(november)[:3]
    energy = first.energy_kwh
    assert energy is not None
    gaps = (
        PriceGap(
            kind=GapKind.PRICE_UNAVAILABLE,
            start=first.begin,
            end=first.end,
            energy_kwh=Decimal("0.125"),
            price_per_kwh=Decimal("0.31"),
        ),
    )
    scaled = SessionCost(
        method=PriceMethod.ENTITY,
        energy_kwh=energy,
        price_per_kwh=Decimal("0.3"),
        cost=_cents(energy * Decimal("0.3")),
        settled=True,
        gaps=gaps,
        reconciliation=Reconciliation.SCALED,
        polled_energy_kwh=energy - Decimal("0.5"),
    )
    unmatched = SessionCost(
        method=PriceMethod.ENTITY,
        energy_kwh=second.energy_kwh,
        price_per_kwh=Decimal("0.33"),
        cost=Decimal("1.00"),
        settled=True,
        gaps=(
            PriceGap(
                kind=GapKind.UNOBSERVED,
                start=None,
                end=second.end,
                energy_kwh=second.energy_kwh or Decimal(0),
                price_per_kwh=Decimal("0.33"),
            ),
        ),
        reconciliation=Reconciliation.UNMATCHED,
    )
    sessions = [
        replace(first, cost=scaled),
        replace(second, cost=unmatched),
        replace(third, tps=TpsVerdict(False, "superfluous leading zero in s")),
    ]

    bundle = _write(exports, sessions, charger, language="en", note="")
    text = _pdf_text(bundle.pdf)

    assert (
        f"{first.label}: The price entity had no value for 0.125 kWh; they were "
        "priced at €0.31 per kWh, the next known price." in text
    )
    assert (
        f"{first.label}: The polled energy ({energy - Decimal('0.5'):.3f} kWh) does "
        f"not add up to the signed energy ({energy:.3f} kWh)" in text
    )
    assert (
        f"{second.label}: No price was polled while energy flowed: all energy was "
        "priced at €0.33 per kWh" in text
    )
    assert (
        f"{third.label}: The Transparenzsoftware cannot check this signature "
        "(superfluous leading zero in s)" in text
    )
    assert "the price entity's value" in text
    assert "Note" not in text.split("How to check")[-1]


def test_a_session_without_a_key_asks_the_reader_to_check_it(
    exports: Path, charger: Charger, november: list[Session]
) -> None:
    first = _in_november(november)[0]
    unchecked = replace(first, signature_valid=None, public_key="")

    bundle = _write(exports, [unchecked], charger, language="en")
    text = _pdf_text(bundle.pdf)

    assert "no key" in text
    assert (
        f"{first.label}: No public key was known to check the signature; check it "
        "with the Transparenzsoftware." in text
    )
    assert bundle.totals.verified_sessions == 0


def test_a_file_that_appears_meanwhile_is_not_replaced(
    exports: Path,
    charger: Charger,
    november: list[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_link = os.link

    def someone_was_faster(source: str, target: Path) -> None:
        Path(target).write_text("written by someone else")
        real_link(source, target)

    monkeypatch.setattr(os, "link", someone_was_faster)

    with pytest.raises(FileExistsError):
        _write(exports, november, charger)

    assert [path.read_text() for path in exports.iterdir()] == [
        "written by someone else"
    ]
