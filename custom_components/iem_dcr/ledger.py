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

``sha256`` is the SHA-256 of the record without ``sha256``, serialised as
``json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=True)``.
Strings survive JSON encoding exactly, so the OCMF text reads back identical.

A line that never received its end (``,"sha256":"<hex>"}``), or an
unterminated last line that does not verify, is a torn write; any other line
that does not verify, or comes from a newer format, is corrupt. Both are
skipped and counted, and neither is ever rewritten: the file is only opened
for appending.
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

type _DedupKey = tuple[str, str]
type _ContextKey = tuple[str, str]


@dataclass(frozen=True)
class LedgerEntry:
    """One stored signed data tuple and what we knew when storing it."""

    sequence: int
    recorded_at: datetime
    meter_serial: str
    pagination: str
    reason: str
    ocmf: str
    public_key: str
    signature_valid: bool | None

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

    __slots__ = ("by_key", "entries", "gaps", "highest", "next_sequence", "payloads")

    def __init__(self) -> None:
        self.entries: list[LedgerEntry] = []
        self.by_key: dict[_DedupKey, LedgerEntry] = {}
        self.payloads: set[str] = set()
        self.highest: dict[_ContextKey, int] = {}
        self.gaps: list[PaginationGap] = []
        self.next_sequence = 1

    def remember(self, entry: LedgerEntry) -> PaginationGap | None:
        """Index a stored entry; return the pagination gap it reveals, if any."""
        payload = _payload_section(entry.ocmf)
        self.entries.append(entry)
        self.by_key[entry.pagination, payload] = entry
        self.payloads.add(payload)
        self.next_sequence = max(self.next_sequence, entry.sequence + 1)

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
            state = _LedgerState()
            torn = corrupt = complete_lines = 0
            ends_with_newline = True
            try:
                with self.path.open("rb") as file:
                    self._file_exists = True
                    for number, raw in enumerate(file, start=1):
                        ends_with_newline = raw.endswith(b"\n")
                        line = raw.rstrip(b"\r\n")
                        if not line.strip():
                            continue
                        if _END_OF_RECORD.search(line) is None:
                            torn += 1
                            self._log_torn(number)
                            continue
                        try:
                            entry = _decode_record(line)
                        except _BadRecordError as err:
                            if not ends_with_newline:
                                torn += 1
                                self._log_torn(number)
                                continue
                            complete_lines += 1
                            corrupt += 1
                            _LOGGER.warning(
                                "Ledger %s line %d skipped: %s", self.path, number, err
                            )
                            continue
                        complete_lines += 1
                        if (entry.pagination, _payload_section(entry.ocmf)) in (
                            state.by_key
                        ):
                            _LOGGER.debug(
                                "Ledger %s line %d repeats a stored record; ignored",
                                self.path,
                                number,
                            )
                            continue
                        state.remember(entry)
            except FileNotFoundError:
                self._file_exists = False
            except OSError as err:
                raise LedgerError(
                    f"Cannot read ledger {self.path}: {err.strerror or err}"
                ) from err

            # Never hand out a number an earlier (even unreadable) record may hold.
            state.next_sequence = max(state.next_sequence, complete_lines + 1)
            self._needs_separator = not ends_with_newline
            self._state = state
            report = LoadReport(
                entries=len(state.entries), skipped_torn=torn, skipped_corrupt=corrupt
            )
            _LOGGER.debug("Ledger %s loaded: %s", self.path, report)
            return report

    def append(
        self,
        *,
        meter_serial: str,
        pagination: str,
        ocmf: str,
        public_key: str,
        signature_valid: bool | None,
        reason: str,
        recorded_at: datetime,
    ) -> AppendResult:
        """Store a tuple durably; a tuple already stored is not written again."""
        if not _PAGINATION.fullmatch(pagination):
            raise ValueError(f"Invalid OCMF pagination {pagination!r}")
        payload = _payload_section(ocmf)
        # Refuse what load would reject, so no acknowledged record is lost.
        for name, value in (
            ("meter_serial", meter_serial),
            ("public_key", public_key),
            ("reason", reason),
        ):
            if not isinstance(value, str):
                raise TypeError(f"{name} must be a str")
        if signature_valid is not None and not isinstance(signature_valid, bool):
            raise TypeError("signature_valid must be a bool or None")
        if recorded_at.utcoffset() is None:
            raise ValueError("recorded_at must be timezone-aware")

        with self._lock:
            state = self._loaded_state()
            stored = state.by_key.get((pagination, payload))
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
        """Return whether a tuple with this payload section is stored.

        The payload carries the pagination (PG), so this is the same test
        `append` uses to recognise a duplicate.
        """
        try:
            payload = _payload_section(ocmf)
        except ValueError:
            return False
        with self._lock:
            return payload in self._loaded_state().payloads

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

    def _log_torn(self, line_number: int) -> None:
        _LOGGER.info(
            "Ledger %s line %d skipped: incomplete record from an interrupted write",
            self.path,
            line_number,
        )

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


def _payload_section(ocmf: str) -> str:
    """Return the signed payload: the text between the first and second ``|``."""
    sections = ocmf.split("|", 2)
    if len(sections) < 3:
        raise ValueError("OCMF text must contain at least two '|' separators")
    return sections[1]


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
    # sha256 goes last: it marks a completely written line.
    record["sha256"] = _checksum(record)
    text = json.dumps(record, separators=(",", ":"), ensure_ascii=True)
    return f"{text}\n".encode("ascii")


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
    pagination = _field(record, "pagination", str)
    ocmf = _field(record, "ocmf", str)
    signature_valid = record.get("signature_valid")
    if sequence < 1:
        raise _BadRecordError("invalid field 'sequence'")
    if not _PAGINATION.fullmatch(pagination):
        raise _BadRecordError("invalid field 'pagination'")
    if ocmf.count("|") < 2:
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
