"""The statement's rows as CSV: plain (for programs) and for German Excel."""

from __future__ import annotations

from collections.abc import Callable
import csv
from datetime import datetime
from decimal import Decimal
import io

from .model import Statement, StatementRow
from .wording import Wording

# Plain CSV: stable English column names, ISO 8601 times, decimal point.
PLAIN_COLUMNS = (
    "session",
    "date",
    "begin",
    "end",
    "driver",
    "energy_kwh",
    "price_per_kwh",
    "cost",
    "currency",
    "price_method",
    "verified",
)
_EXCEL_HEADER_KEYS = (
    "col_session",
    "col_date",
    "col_begin",
    "col_end",
    "col_driver",
    "col_energy",
    "col_price",
    "col_cost",
    "col_method",
    "col_verified",
)
# A cell starting with one of these is a formula to a spreadsheet.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_BOM = "\ufeff"


def plain_csv(statement: Statement) -> str:
    """Return one row per session: UTF-8 text, comma, decimal point, header row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(PLAIN_COLUMNS)
    for row in statement.rows:
        writer.writerow(_plain_row(row, statement))
    return buffer.getvalue()


def excel_csv(statement: Statement) -> bytes:
    """Return the rows for German Excel: ';', decimal comma, UTF-8 with BOM."""
    wording = Wording("de", statement.currency, statement.zone)
    labels = Wording.of(statement)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(
        labels.text(key, currency=labels.symbol) for key in _EXCEL_HEADER_KEYS
    )
    for row in statement.rows:
        session = row.session
        begin, end = session.starts_at, session.ends_at
        writer.writerow(
            [
                session.label,
                wording.date(begin),
                _seconds(wording, begin),
                _seconds(wording, end),
                _text_cell(session.driver or ""),
                _blank_if_none(session.energy_kwh, wording.energy),
                _blank_if_none(row.cost.price_per_kwh, wording.price),
                _blank_if_none(row.cost.cost, wording.amount),
                _text_cell(labels.method(row.cost.method, statement.pricing.flat_rate)),
                labels.verdict(session.verdict),
            ]
        )
    return (_BOM + buffer.getvalue()).encode("utf-8")


def _plain_row(row: StatementRow, statement: Statement) -> list[str]:
    session, cost = row.session, row.cost
    begin = session.starts_at.astimezone(statement.zone)
    end = session.ends_at.astimezone(statement.zone)
    return [
        session.label,
        begin.date().isoformat(),
        begin.isoformat(),
        end.isoformat(),
        session.driver or "",
        _exact(session.energy_kwh),
        _exact(cost.price_per_kwh),
        _exact(cost.cost),
        statement.currency,
        cost.method.value,
        session.verdict.value,
    ]


def _exact(value: Decimal | None) -> str:
    return "" if value is None else f"{value:f}"


def _blank_if_none(value: Decimal | None, write: Callable[..., str]) -> str:
    return "" if value is None else write(value, grouped=False)


def _seconds(wording: Wording, moment: datetime) -> str:
    return moment.astimezone(wording.zone).strftime("%H:%M:%S")


def _text_cell(text: str) -> str:
    """Keep a spreadsheet from running a text (a driver's name) as a formula."""
    return "'" + text if text.startswith(_FORMULA_START) else text
