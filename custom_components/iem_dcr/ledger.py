"""Durable, append-only ledger of signed OCMF data tuples.

Calibration law (Eichrecht) expects the operator to keep every signed record,
without gaps in the pagination, for as long as an invoice can be contested.
The integration appends each tuple here before anything else sees it.

File format (JSON Lines, version ``LEDGER_FORMAT_VERSION``): one record per
line, pure ASCII, each line ending in a newline::

    {"format":1,"sequence":1,"recorded_at":"2025-01-01T12:00:00+00:00",
     "meter_serial":"...","pagination":"T5","reason":"stopped",
     "signature_valid":true,"public_key":"...","ocmf":"OCMF|...|...",
     "sha256":"<64 hex digits>"}

A text the meter handed out that cannot be read as OCMF is stored all the same
(signed data is kept first and judged after): ``pagination`` is then ``null``
and ``"parse_error":"<why>"`` comes before ``sha256``. Lines without
``parse_error`` are byte for byte what earlier versions wrote.

``sha256`` is the SHA-256 of the record without ``sha256``, serialised as
``json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=True)``.
Strings survive JSON encoding exactly, so the OCMF text reads back identical.

Only the last line can be a torn write (an interrupted append): one that never
received its end (``,"sha256":"<hex>"}``) or that lacks its newline and does not
verify. Any other line that does not verify, or comes from a newer format, is
corrupt. Both are skipped and counted, and neither is ever rewritten: the file
is only opened for appending.

A payload is stored once. The one exception: a copy whose signature verifies is
stored after copies of the same payload that did not verify, so that a tuple
damaged on the way never keeps out the meter's good copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
import hashlib
import json
import logging
import os
import re
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

_LOGGER = logging.getLogger(__name__)

LEDGER_FORMAT_VERSION = 1

_PAGINATION = re.compile(r"[TF][0-9]+")
# Written last on every line; quotes inside string values are escaped, so this
# sequence can only occur at the real end of a completely written record.
_END_OF_RECORD = re.compile(rb',"sha256":"[0-9a-f]{64}"\}\Z')

type _ContextKey = tuple[str, str]


@dataclass(frozen=True)
class LedgerEntry:
    """One stored signed data tuple and what we knew when storing it."""

    sequence: int
    recorded_at: datetime
    meter_serial: str
    pagination: str | None  # None: no pagination could be read from the text
    reason: str
    ocmf: str
    public_key: str
    signature_valid: bool | None
    parse_error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable copy (``recorded_at`` in ISO 8601)."""
        return {
            "sequence": self.sequence,
            "recorded_at": self.recorded_at.isoformat(),
            "meter_serial": self.meter_serial,
            "pagination": self.pagination,
            "reason": self.reason,
            "ocmf": self.ocmf,
            "public_key": self.public_key,
            "signature_valid": self.signature_valid,
            "parse_error": self.parse_error,
        }


@dataclass(frozen=True)
class PaginationGap:
    """Pagination numbers missing between two records of the same context."""

    previous: str
    current: str
    missing: int


@dataclass(frozen=True)
class AppendResult:
    """Outcome of `Ledger.append`."""

    entry: LedgerEntry
    duplicate: bool
    gap: PaginationGap | None


@dataclass(frozen=True)
class LoadReport:
    """What `Ledger.load` found in the file."""

    entries: int
    skipped_torn: int
    skipped_corrupt: int


class LedgerError(Exception):
    """The ledger file cannot be read or written."""


class _BadRecordError(Exception):
    """A line is not a valid record; the message names why, never its content."""


class _LedgerState:
    """In-memory index of the records read from or written to the file."""

    __slots__ = ("by_payload", "entries", "gaps", "highest", "next_sequence")

    def __init__(self) -> None:
        self.entries: list[LedgerEntry] = []
        # Every stored copy of a payload (more than one only after a bad copy).
        self.by_payload: dict[str, list[LedgerEntry]] = {}
        self.highest: dict[_ContextKey, int] = {}
        self.gaps: list[PaginationGap] = []
        self.next_sequence = 1

    def stored_copy(
        self, ocmf: str, signature_valid: bool | None
    ) -> LedgerEntry | None:
        """Return the stored entry that makes this tuple a duplicate, if any."""
        copies = self.by_payload.get(_dedup_key(ocmf))
        if not copies:
            return None
        text = ocmf.strip()
        for copy in copies:
            if copy.ocmf.strip() == text or copy.signature_valid is True:
                return copy
        # Only copies that did not verify are stored: a verifying one is new.
        return None if signature_valid is True else copies[0]

    def remember(self, entry: LedgerEntry) -> PaginationGap | None:
        """Index a stored entry; return the pagination gap it reveals, if any."""
        self.entries.append(entry)
        self.by_payload.setdefault(_dedup_key(entry.ocmf), []).append(entry)
        self.next_sequence = max(self.next_sequence, entry.sequence + 1)
        if entry.pagination is None:
            return None

        context, number = entry.pagination[0], int(entry.pagination[1:])
        # Pagination is counted by each meter, so a second meter is not a gap.
        key = (entry.meter_serial, context)
        highest = self.highest.get(key)
        gap = None
        if highest is not None and number > highest + 1:
            gap = PaginationGap(
                previous=f"{context}{highest}",
                current=entry.pagination,
                missing=number - highest - 1,
            )
            self.gaps.append(gap)
        # A lower number (meter reset, re-ordering) is not a gap.
        if highest is None or number > highest:
            self.highest[key] = number
        return gap


class Ledger:
    """Append-only store of signed OCMF tuples in one JSON Lines file."""

    def __init__(self, path: Path, *, fsync: bool = True) -> None:
        """Prepare a ledger at ``path``; call `load` before using it."""
        self.path = path
        self._fsync = fsync
        self._lock = threading.Lock()
        self._state: _LedgerState | None = None
        # The file does not end in a newline (torn tail, failed write): the
        # next record must start on a line of its own.
        self._needs_separator = False
        self._file_exists = False

    def load(self) -> LoadReport:
        """Read the file (a missing file is an empty ledger); safe to repeat."""
        with self._lock:
            reader = _Reader(self.path)
            try:
                with self.path.open("rb") as file:
                    self._file_exists = True
                    previous: tuple[int, bytes] | None = None
                    # One line of look-ahead: only the last line can be torn.
                    for number, raw in enumerate(file, start=1):
                        if previous is not None:
                            reader.read(*previous, last=False)
                        previous = (number, raw)
                    if previous is not None:
                        reader.read(*previous, last=True)
            except FileNotFoundError:
                self._file_exists = False
            except OSError as err:
                raise LedgerError(
                    f"Cannot read ledger {self.path}: {err.strerror or err}"
                ) from err

            state = reader.state
            # Never hand out a number an earlier (even unreadable) record may hold.
            state.next_sequence = max(state.next_sequence, reader.complete_lines + 1)
            self._needs_separator = not reader.ends_with_newline
            self._state = state
            report = LoadReport(
                entries=len(state.entries),
                skipped_torn=reader.torn,
                skipped_corrupt=reader.corrupt,
            )
            _LOGGER.debug("Ledger %s loaded: %s", self.path, report)
            return report

    def append(
        self,
        *,
        meter_serial: str,
        pagination: str | None,
        ocmf: str,
        public_key: str,
        signature_valid: bool | None,
        reason: str,
        recorded_at: datetime,
        parse_error: str | None = None,
    ) -> AppendResult:
        """Store a tuple durably; a tuple already stored is not written again.

        ``pagination`` is None for a text that could not be read as OCMF;
        ``parse_error`` says why. Any non-empty text is accepted.
        """
        if pagination is not None and not _PAGINATION.fullmatch(pagination):
            raise ValueError(f"Invalid OCMF pagination {pagination!r}")
        if not isinstance(ocmf, str) or not ocmf.strip():
            raise ValueError("OCMF text must not be empty")
        # Refuse what load would reject, so no acknowledged record is lost.
        for name, value in (
            ("meter_serial", meter_serial),
            ("public_key", public_key),
            ("reason", reason),
        ):
            if not isinstance(value, str):
                raise TypeError(f"{name} must be a str")
        if parse_error is not None and not isinstance(parse_error, str):
            raise TypeError("parse_error must be a str or None")
        if signature_valid is not None and not isinstance(signature_valid, bool):
            raise TypeError("signature_valid must be a bool or None")
        if recorded_at.utcoffset() is None:
            raise ValueError("recorded_at must be timezone-aware")

        with self._lock:
            state = self._loaded_state()
            stored = state.stored_copy(ocmf, signature_valid)
            if stored is not None:
                return AppendResult(entry=stored, duplicate=True, gap=None)
            entry = LedgerEntry(
                sequence=state.next_sequence,
                recorded_at=recorded_at.astimezone(UTC),
                meter_serial=meter_serial,
                pagination=pagination,
                reason=reason,
                ocmf=ocmf,
                public_key=public_key,
                signature_valid=signature_valid,
                parse_error=parse_error,
            )
            self._write(_encode_record(entry))
            gap = state.remember(entry)
            return AppendResult(entry=entry, duplicate=False, gap=gap)

    def entries(
        self, *, start: datetime | None = None, end: datetime | None = None
    ) -> list[LedgerEntry]:
        """Return entries in ledger order, optionally within [start, end]."""
        with self._lock:
            snapshot = list(self._loaded_state().entries)
        return [
            entry
            for entry in snapshot
            if (start is None or entry.recorded_at >= start)
            and (end is None or entry.recorded_at <= end)
        ]

    def contains(self, ocmf: str) -> bool:
        """Return whether a copy of this tuple (the same signed payload) is stored.

        The payload carries the pagination (PG). A text without OCMF sections is
        compared whole.
        """
        with self._lock:
            return _dedup_key(ocmf) in self._loaded_state().by_payload

    def copies(self, ocmf: str) -> list[LedgerEntry]:
        """Return the stored copies of this tuple's payload, oldest first."""
        with self._lock:
            return list(self._loaded_state().by_payload.get(_dedup_key(ocmf), ()))

    def last(self) -> LedgerEntry | None:
        """Return the most recently stored entry."""
        with self._lock:
            entries = self._loaded_state().entries
            return entries[-1] if entries else None

    def gaps(self) -> list[PaginationGap]:
        """Return every pagination gap found so far, in ledger order."""
        with self._lock:
            return list(self._loaded_state().gaps)

    def __len__(self) -> int:
        """Return the number of stored entries."""
        with self._lock:
            return len(self._loaded_state().entries)

    def _loaded_state(self) -> _LedgerState:
        if self._state is None:
            raise RuntimeError("Ledger.load() must be called before use")
        return self._state

    def _write(self, line: bytes) -> None:
        """Append one line with a single write and make it durable."""
        data = b"\n" + line if self._needs_separator else line
        creating = not self._file_exists
        try:
            new_directories = _make_directories(self.path.parent) if creating else []
            with self.path.open("ab") as file:
                file.write(data)
                file.flush()
                if self._fsync:
                    os.fsync(file.fileno())
            if creating and self._fsync:
                # A new file's directory entry is only durable once its
                # directory (and any directory we created) is synced too.
                _fsync_directory(self.path.parent)
                for directory in new_directories:
                    _fsync_directory(directory.parent)
        except OSError as err:
            # Part of the line may have reached the file.
            self._needs_separator = True
            raise LedgerError(
                f"Cannot append to ledger {self.path}: {err.strerror or err}"
            ) from err
        self._needs_separator = False
        self._file_exists = True


class _Reader:
    """Reads the lines of a ledger file into a fresh index, counting what it skips."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.state = _LedgerState()
        self.torn = self.corrupt = self.complete_lines = 0
        self.ends_with_newline = True

    def read(self, number: int, raw: bytes, *, last: bool) -> None:
        self.ends_with_newline = raw.endswith(b"\n")
        line = raw.rstrip(b"\r\n")
        if not line.strip():
            return
        try:
            entry = _decode_line(line)
        except _BadRecordError as err:
            if last and not self.ends_with_newline:
                # What an interrupted append leaves behind; the next append
                # starts on a line of its own.
                self.torn += 1
                _LOGGER.info(
                    "Ledger %s line %d skipped: incomplete record from an"
                    " interrupted write",
                    self.path,
                    number,
                )
                return
            self.complete_lines += 1
            self.corrupt += 1
            _LOGGER.warning("Ledger %s line %d skipped: %s", self.path, number, err)
            return
        self.complete_lines += 1
        if self.state.stored_copy(entry.ocmf, entry.signature_valid) is not None:
            _LOGGER.debug(
                "Ledger %s line %d repeats a stored record; ignored", self.path, number
            )
            return
        self.state.remember(entry)


def _dedup_key(ocmf: str) -> str:
    """Return what identifies a tuple: its signed payload, else the whole text."""
    sections = ocmf.strip().split("|", 2)
    return sections[1] if len(sections) == 3 else ocmf.strip()


def _checksum(record: dict[str, Any]) -> str:
    canonical = json.dumps(
        record, sort_keys=True, separators=(",", ":"), ensure_ascii=True
    )
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def _encode_record(entry: LedgerEntry) -> bytes:
    record: dict[str, Any] = {
        "format": LEDGER_FORMAT_VERSION,
        "sequence": entry.sequence,
        "recorded_at": entry.recorded_at.isoformat(),
        "meter_serial": entry.meter_serial,
        "pagination": entry.pagination,
        "reason": entry.reason,
        "signature_valid": entry.signature_valid,
        "public_key": entry.public_key,
        "ocmf": entry.ocmf,
    }
    if entry.parse_error is not None:
        record["parse_error"] = entry.parse_error
    # sha256 goes last: it marks a completely written line.
    record["sha256"] = _checksum(record)
    text = json.dumps(record, separators=(",", ":"), ensure_ascii=True)
    return f"{text}\n".encode("ascii")


def _decode_line(line: bytes) -> LedgerEntry:
    if _END_OF_RECORD.search(line) is None:
        raise _BadRecordError("incomplete record")
    return _decode_record(line)


def _decode_record(line: bytes) -> LedgerEntry:
    try:
        record = json.loads(line.decode("utf-8"))
    except (ValueError, RecursionError) as err:
        raise _BadRecordError("not valid JSON") from err
    if not isinstance(record, dict):
        raise _BadRecordError("not a JSON object")
    version = record.get("format")
    if type(version) is not int:
        raise _BadRecordError("no format version")
    if version > LEDGER_FORMAT_VERSION:
        raise _BadRecordError(
            f"written in format version {version}, newer than the supported "
            f"{LEDGER_FORMAT_VERSION} (was the integration downgraded?)"
        )
    if version != LEDGER_FORMAT_VERSION:
        raise _BadRecordError(f"unknown format version {version}")
    checksum = record.pop("sha256", None)
    if checksum != _checksum(record):
        raise _BadRecordError("checksum mismatch")

    sequence = _field(record, "sequence", int)
    parse_error = record.get("parse_error")
    if parse_error is not None and type(parse_error) is not str:
        raise _BadRecordError("invalid field 'parse_error'")
    # A text that could not be read as OCMF has no pagination.
    pagination = (
        None
        if record.get("pagination", "") is None
        else _field(record, "pagination", str)
    )
    ocmf = _field(record, "ocmf", str)
    signature_valid = record.get("signature_valid")
    if sequence < 1:
        raise _BadRecordError("invalid field 'sequence'")
    if pagination is not None and not _PAGINATION.fullmatch(pagination):
        raise _BadRecordError("invalid field 'pagination'")
    if not ocmf.strip():
        raise _BadRecordError("invalid field 'ocmf'")
    if signature_valid is not None and type(signature_valid) is not bool:
        raise _BadRecordError("invalid field 'signature_valid'")
    try:
        recorded_at = datetime.fromisoformat(_field(record, "recorded_at", str))
    except ValueError as err:
        raise _BadRecordError("invalid field 'recorded_at'") from err
    if recorded_at.utcoffset() is None:
        raise _BadRecordError("invalid field 'recorded_at'")

    return LedgerEntry(
        sequence=sequence,
        recorded_at=recorded_at.astimezone(UTC),
        meter_serial=_field(record, "meter_serial", str),
        pagination=pagination,
        reason=_field(record, "reason", str),
        ocmf=ocmf,
        public_key=_field(record, "public_key", str),
        signature_valid=signature_valid,
        parse_error=parse_error,
    )


def _field[T](record: dict[str, Any], name: str, kind: type[T]) -> T:
    value = record.get(name)
    # Exact type: a JSON true must not pass as the integer 1.
    if type(value) is not kind or not isinstance(value, kind):
        raise _BadRecordError(f"missing or invalid field {name!r}")
    return value


def _make_directories(directory: Path) -> list[Path]:
    """Create ``directory`` and missing parents; return those created."""
    missing: list[Path] = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for path in reversed(missing):
        path.mkdir(exist_ok=True)
    return missing


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
