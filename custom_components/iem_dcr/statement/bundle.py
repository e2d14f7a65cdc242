"""Write one statement bundle: PDF, CSV, German-Excel CSV and Transparenzsoftware XML."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
import os
from pathlib import Path
import re
import tempfile
from typing import Any
import unicodedata

from custom_components.iem_dcr.ocmf import (
    OcmfError,
    TransparencyEntry,
    transparency_xml,
)
from custom_components.iem_dcr.sessions import Session

from .csv_export import excel_csv, plain_csv
from .model import (
    MeterInfo,
    Period,
    StatementPricing,
    StatementTotals,
    build_statement,
    select_sessions,
)
from .pdf import render_pdf

_UNSAFE = re.compile(r"[^A-Za-z0-9.-]+")
# File names stay ASCII: German letters as German writes them without umlauts.
_TRANSLITERATION = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"}
)
_SUFFIXES = {
    "pdf": ".pdf",
    "csv": ".csv",
    "csv_excel": "_excel.csv",
    "xml": ".xml",
}


@dataclass(frozen=True)
class StatementBundle:
    """The files of one statement and its totals."""

    pdf: Path
    csv: Path
    csv_excel: Path
    xml: Path
    totals: StatementTotals
    not_in_xml: tuple[str, ...]  # labels of sessions the XML could not take

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable copy (a service response)."""
        return {
            "pdf": str(self.pdf),
            "csv": str(self.csv),
            "csv_excel": str(self.csv_excel),
            "xml": str(self.xml),
            "totals": self.totals.as_dict(),
            "not_in_xml": list(self.not_in_xml),
        }


def write_statement(
    folder: Path,
    sessions: Iterable[Session],
    *,
    meter: MeterInfo,
    period: Period,
    currency: str,
    language: str,
    zone: tzinfo,
    driver: str | None = None,
    pricing: StatementPricing | None = None,
    note: str = "",
    created_at: datetime | None = None,
) -> StatementBundle:
    """Write the statement of `sessions` that begin in `period` into `folder`.

    Everything is rendered before anything is written; an existing file is
    never replaced (a statement already handed out stays as it was). Raises
    StatementError for input it cannot use and OSError when a file cannot be
    written (then no file of the bundle is left behind).
    """
    created_at = created_at or datetime.now(UTC)
    pricing = pricing or StatementPricing()
    chosen = select_sessions(sessions, period=period, driver=driver)
    stem = _stem(
        folder,
        serial=meter.serial,
        period=period,
        zone=zone,
        driver=driver,
        created_at=created_at,
    )
    xml, not_in_xml = _transparency_xml(chosen)
    statement = build_statement(
        chosen,
        meter=meter,
        period=period,
        driver=driver,
        pricing=pricing,
        currency=currency,
        language=language,
        zone=zone,
        note=note,
        created_at=created_at,
        xml_name=stem + _SUFFIXES["xml"],
        not_in_xml=frozenset(session.sequence for session in not_in_xml),
    )
    contents = {
        "pdf": render_pdf(statement),
        "csv": plain_csv(statement).encode("utf-8"),
        "csv_excel": excel_csv(statement),
        "xml": xml.encode("utf-8"),
    }
    paths = _write_all(folder, stem, contents)
    return StatementBundle(
        pdf=paths["pdf"],
        csv=paths["csv"],
        csv_excel=paths["csv_excel"],
        xml=paths["xml"],
        totals=statement.totals,
        not_in_xml=tuple(session.label for session in not_in_xml),
    )


def _transparency_xml(sessions: list[Session]) -> tuple[str, list[Session]]:
    """Return the XML of the sessions it can hold, and those it cannot."""
    entries = {
        session.sequence: TransparencyEntry(
            ocmf=session.ocmf, public_key=session.public_key
        )
        for session in sessions
    }
    try:
        return transparency_xml(entries.values()), []
    except OcmfError:
        pass
    refused = []
    for session in sessions:
        try:
            transparency_xml([entries[session.sequence]])
        except OcmfError:
            refused.append(session)
    kept = [entries[session.sequence] for session in sessions if session not in refused]
    return transparency_xml(kept), refused


def _stem(
    folder: Path,
    *,
    serial: str,
    period: Period,
    zone: tzinfo,
    driver: str | None,
    created_at: datetime,
) -> str:
    month = period.calendar_month(zone)
    if month is not None:
        span = f"{month[0]:04d}-{month[1]:02d}"
    else:
        first, last = period.days_in(zone)
        span = f"{first.isoformat()}_{last.isoformat()}"
    parts = ["statement", serial, span]
    if driver:
        parts.append(driver)
    parts.append(created_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ"))
    base = "_".join(_file_name_part(part) for part in parts)
    stem, number = base, 1
    while any((folder / f"{stem}{suffix}").exists() for suffix in _SUFFIXES.values()):
        number += 1
        stem = f"{base}-{number}"
    return stem


def _file_name_part(text: str) -> str:
    ascii_text = (
        unicodedata.normalize("NFKD", text.translate(_TRANSLITERATION))
        .encode("ascii", "ignore")
        .decode("ascii")
    )
    return _UNSAFE.sub("-", ascii_text).strip("-.") or "-"


def _write_all(folder: Path, stem: str, contents: dict[str, bytes]) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        for kind, data in contents.items():
            path = folder / f"{stem}{_SUFFIXES[kind]}"
            _write_new(path, data)
            written.append(path)
    except OSError:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return {kind: folder / f"{stem}{_SUFFIXES[kind]}" for kind in contents}


def _write_new(path: Path, data: bytes) -> None:
    """Write a file completely under a temporary name, then give it its name."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".statement-")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)  # mkstemp makes it private to the owner
        try:
            # link() refuses an existing name: a file handed out is never replaced.
            os.link(temporary, path)
        except FileExistsError:
            raise
        except OSError:
            # No hard links on this file system (some network shares); the
            # name was checked to be free when the stem was chosen.
            os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
