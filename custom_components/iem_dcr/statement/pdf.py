"""The statement as a PDF a person reads (reportlab, an embedded Noto Sans)."""

from __future__ import annotations

from functools import cache
import io
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    LongTable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from .model import Statement, StatementRow
from .wording import DASH, Wording

_FONTS = Path(__file__).parent / "fonts"
_REGULAR = "IemDcrNotoSans"
_BOLD = "IemDcrNotoSans-Bold"
_MARGIN = 16 * mm
# The page's frame pads its content by 6 pt on each side.
_FRAME_WIDTH = A4[0] - 2 * _MARGIN - 12
_TABLE_FONT_SIZE = 8
_HEADER_FILL = colors.HexColor("#E4EAF1")
_STRIPE_FILL = colors.HexColor("#F5F7FA")
_RULE = colors.HexColor("#8A96A3")
_REPLACEMENT = "\ufffd"
# Column widths in mm, with and without the driver column.
_COLUMNS_WITH_DRIVER: tuple[int, ...] = (14, 19, 11, 18, 30, 18, 16, 18, 28)
_COLUMNS: tuple[int, ...] = (16, 21, 14, 20, 0, 23, 20, 22, 36)
_NUMERIC_COLUMNS = (5, 6, 7)


def render_pdf(statement: Statement) -> bytes:
    """Return the statement as PDF bytes (A4, as many pages as the table needs)."""
    _register_fonts()
    wording = Wording.of(statement)
    buffer = io.BytesIO()
    period = wording.period(statement.period)
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=_MARGIN + 4 * mm,
        title=f"{wording.text('title')} {statement.meter.serial} {period}",
        author=statement.meter.serial,
        subject=wording.text("subtitle"),
        creator="Home Assistant, Isabellenhütte IEM-DCR integration",
    )
    footer = wording.text("footer", serial=statement.meter.serial, period=period)
    document.build(
        _story(statement, wording),
        canvasmaker=_numbered_canvas(footer, wording),
    )
    return buffer.getvalue()


# --- the story ----------------------------------------------------------------------


def _story(statement: Statement, wording: Wording) -> list[Flowable]:
    styles = _styles()
    story: list[Flowable] = [
        Paragraph(_markup(wording.text("title")), styles["title"]),
        Paragraph(_markup(wording.text("subtitle")), styles["subtitle"]),
        _facts(statement, wording, styles),
        Spacer(1, 5 * mm),
    ]
    if statement.rows:
        story.append(_sessions_table(statement, wording))
    else:
        story.append(Paragraph(_markup(wording.text("no_sessions")), styles["body"]))
    story.append(Spacer(1, 3 * mm))
    story.extend(
        Paragraph(_markup(line), styles["total"])
        for line in _total_lines(statement, wording)
    )
    story.append(
        Paragraph(
            _markup(
                wording.text("methods_used", methods=wording.methods_used(statement))
            ),
            styles["body"],
        )
    )
    story.append(
        Paragraph(
            _markup(wording.text("times", zone=wording.zone_name())), styles["body"]
        )
    )
    story.extend(_remarks(statement, wording, styles))
    story.append(
        KeepTogether(
            [
                Paragraph(
                    _markup(wording.text("how_to_check_title")), styles["heading"]
                ),
                Paragraph(
                    _markup(wording.text("how_to_check", xml=statement.xml_name)),
                    styles["body"],
                ),
            ]
        )
    )
    if statement.note:
        story.append(
            KeepTogether(
                [
                    Paragraph(_markup(wording.text("note_title")), styles["heading"]),
                    Paragraph(_markup(statement.note), styles["body"]),
                ]
            )
        )
    return story


def _facts(
    statement: Statement, wording: Wording, styles: dict[str, ParagraphStyle]
) -> Table:
    meter = statement.meter
    key = " ".join(
        meter.public_key[index : index + 8]
        for index in range(0, len(meter.public_key), 8)
    )
    facts = [
        ("meter", f"{meter.make} {meter.model}".strip()),
        ("serial", meter.serial),
        ("public_key", key or DASH),
        ("fingerprint", meter.fingerprint or DASH),
        ("period", wording.period(statement.period)),
        ("driver", statement.driver or wording.text("all_drivers")),
        ("price_method", wording.methods_used(statement)),
        (
            "created",
            f"{wording.date(statement.created_at)} {wording.clock(statement.created_at)}",
        ),
    ]
    rows = [
        [
            Paragraph(_markup(wording.text(label)), styles["label"]),
            Paragraph(
                _markup(value),
                styles["key"]
                if label in {"public_key", "fingerprint"}
                else styles["value"],
            ),
        ]
        for label, value in facts
    ]
    table = Table(rows, colWidths=(44 * mm, _FRAME_WIDTH - 44 * mm), hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return table


def _sessions_table(statement: Statement, wording: Wording) -> LongTable:
    with_driver = statement.per_driver_column
    widths_mm = _COLUMNS_WITH_DRIVER if with_driver else _COLUMNS
    header = [
        wording.text("col_session"),
        wording.text("col_date"),
        wording.text("col_begin"),
        wording.text("col_end"),
        wording.text("col_driver"),
        wording.text("col_energy"),
        wording.text("col_price", currency=wording.symbol),
        wording.text("col_cost", currency=wording.symbol),
        wording.text("col_verified"),
    ]
    rows = [header]
    rows.extend(_cells(row, wording, widths_mm) for row in statement.rows)
    totals = statement.totals
    rows.append(
        [
            wording.text("total"),
            "",
            "",
            "",
            "",
            wording.energy(totals.energy_kwh),
            "",
            wording.amount(totals.cost),
            "",
        ]
    )
    if not with_driver:
        rows = [row[:4] + row[5:] for row in rows]
        widths_mm = widths_mm[:4] + widths_mm[5:]
    numeric = [column - (0 if with_driver else 1) for column in _NUMERIC_COLUMNS]
    rows = [[_printable(cell) for cell in row] for row in rows]
    table = LongTable(rows, colWidths=[width * mm for width in widths_mm], repeatRows=1)
    style: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), _REGULAR, _TABLE_FONT_SIZE),
        ("FONT", (0, 0), (-1, 0), _BOLD, _TABLE_FONT_SIZE),
        ("FONT", (0, -1), (-1, -1), _BOLD, _TABLE_FONT_SIZE),
        ("BACKGROUND", (0, 0), (-1, 0), _HEADER_FILL),
        ("ROWBACKGROUNDS", (0, 1), (-1, -2), [colors.white, _STRIPE_FILL]),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, _RULE),
        ("LINEABOVE", (0, -1), (-1, -1), 0.6, _RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 2),
        ("RIGHTPADDING", (0, 0), (-1, -1), 2),
    ]
    style.extend(("ALIGN", (column, 0), (column, -1), "RIGHT") for column in numeric)
    table.setStyle(TableStyle(style))
    return table


def _cells(
    row: StatementRow, wording: Wording, widths_mm: tuple[int, ...]
) -> list[str]:
    session = row.session
    begin, end = session.starts_at, session.ends_at
    label = session.label + (" *" if row.remarks else "")
    return [
        label,
        wording.date(begin),
        wording.clock(begin),
        wording.end(begin, end),
        _fit(wording.driver(session.driver), widths_mm[4] * mm),
        wording.energy(session.energy_kwh),
        wording.price(row.cost.price_per_kwh),
        wording.amount(row.cost.cost),
        wording.verdict(session.verdict),
    ]


def _total_lines(statement: Statement, wording: Wording) -> list[str]:
    totals = statement.totals
    lines = [
        wording.text(
            "totals",
            sessions=totals.sessions,
            energy=wording.energy(totals.energy_kwh),
            cost=wording.money(totals.cost),
        )
    ]
    if totals.verified_sessions != totals.sessions:
        lines.append(
            wording.text(
                "totals_verified",
                sessions=totals.verified_sessions,
                energy=wording.energy(totals.verified_energy_kwh),
                cost=wording.money(totals.verified_cost),
            )
        )
    if totals.unpriced_sessions:
        lines.append(wording.text("totals_unpriced", count=totals.unpriced_sessions))
    return lines


def _remarks(
    statement: Statement, wording: Wording, styles: dict[str, ParagraphStyle]
) -> list[Flowable]:
    # One line per distinct remark, naming the sessions it concerns.
    sessions_by_remark: dict[str, list[str]] = {}
    for row in statement.rows:
        for text in wording.remarks(row):
            sessions_by_remark.setdefault(text, []).append(row.session.label)
    if not sessions_by_remark:
        return []
    story: list[Flowable] = [
        Paragraph(_markup(wording.text("remarks")), styles["heading"]),
        Paragraph(_markup(wording.text("remarks_intro")), styles["body"]),
    ]
    story.extend(
        Paragraph(
            _markup(
                wording.text("remark_sessions", sessions=", ".join(labels), remark=text)
            ),
            styles["remark"],
        )
        for text, labels in sessions_by_remark.items()
    )
    return story


# --- fonts, styles, page furniture --------------------------------------------------


@cache
def _register_fonts() -> frozenset[int]:
    """Register the embedded fonts once; return the characters they cover."""
    regular = TTFont(_REGULAR, str(_FONTS / "NotoSans-Regular.ttf"))
    pdfmetrics.registerFont(regular)
    pdfmetrics.registerFont(TTFont(_BOLD, str(_FONTS / "NotoSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(
        _REGULAR, normal=_REGULAR, bold=_BOLD, italic=_REGULAR, boldItalic=_BOLD
    )
    return frozenset(regular.face.charToGlyph)


def _printable(text: str) -> str:
    """Replace characters the font lacks (emoji, CJK) by U+FFFD, visibly."""
    covered = _register_fonts()
    if all(ord(character) in covered for character in text):
        return text
    return "".join(
        character if ord(character) in covered or character in "\n\t" else _REPLACEMENT
        for character in text
    )


def _markup(text: str) -> str:
    """Escape text for a Paragraph, keeping its line breaks."""
    return escape(_printable(text)).replace("\n", "<br/>")


def _fit(text: str, width: float) -> str:
    """Shorten text with an ellipsis to fit a table column."""
    room = width - 4  # the cell's padding
    if pdfmetrics.stringWidth(text, _REGULAR, _TABLE_FONT_SIZE) <= room:
        return text
    while (
        text and pdfmetrics.stringWidth(text + "…", _REGULAR, _TABLE_FONT_SIZE) > room
    ):
        text = text[:-1]
    return text + "…"


@cache
def _styles() -> dict[str, ParagraphStyle]:
    body = ParagraphStyle("body", fontName=_REGULAR, fontSize=9, leading=12.5)
    return {
        "title": ParagraphStyle(
            "title", parent=body, fontName=_BOLD, fontSize=17, leading=21
        ),
        "subtitle": ParagraphStyle(
            "subtitle", parent=body, textColor=colors.HexColor("#4A5561"), spaceAfter=8
        ),
        "heading": ParagraphStyle(
            "heading",
            parent=body,
            fontName=_BOLD,
            fontSize=10.5,
            spaceBefore=9,
            spaceAfter=3,
        ),
        "label": ParagraphStyle("label", parent=body, fontName=_BOLD),
        "value": body,
        "key": ParagraphStyle("key", parent=body, fontSize=7.5, leading=10),
        "total": ParagraphStyle("total", parent=body, fontName=_BOLD),
        "remark": ParagraphStyle(
            "remark", parent=body, fontSize=8, leading=11, leftIndent=8, spaceAfter=1
        ),
        "body": ParagraphStyle("body", parent=body, spaceAfter=4),
    }


def _numbered_canvas(footer: str, wording: Wording) -> type[Canvas]:
    """Return a canvas class that writes "Page x of y" once all pages are known."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802  (reportlab's name)
            self._pages.append(dict(self.__dict__))
            self._startPage()  # type: ignore[attr-defined]  # not in the stubs

        def save(self) -> None:
            count = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self._footer(number, count)
                super().showPage()
            super().save()

        def _footer(self, number: int, count: int) -> None:
            self.saveState()
            self.setFont(_REGULAR, 7.5)
            self.setFillColor(colors.HexColor("#4A5561"))
            self.drawString(_MARGIN, _MARGIN - 2 * mm, _printable(footer))
            self.drawRightString(
                A4[0] - _MARGIN,
                _MARGIN - 2 * mm,
                wording.text("page", page=number, pages=count),
            )
            self.restoreState()

    return NumberedCanvas
