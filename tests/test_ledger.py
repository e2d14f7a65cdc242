"""Tests for the append-only OCMF ledger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
import hashlib
import json
import logging
import os
import stat
import threading
from typing import TYPE_CHECKING, Any
import uuid

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.iem_dcr.ledger import (
    LEDGER_FORMAT_VERSION,
    AppendResult,
    Ledger,
    LedgerError,
    LoadReport,
    PaginationGap,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

SERIAL = "1ISA0200001132"
PUBLIC_KEY = "3059301306072A8648CE3D020106082A8648CE3D03010703420004" + "AB" * 64
USER_ID = "04A1B2C3D4E5F6"
BASE_TIME = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)

# SAFE-eV/transparenzsoftware test_ocmf_keba_kcp30.xml, byte for byte.
KEBA_RECORD = (
    'OCMF|{"FV":"1.0","GI":"KEBA_KCP30","GS":"17619300","GV":"2.8.5","PG":"T32",'
    '"IS":false,"IL":"NONE","IF":["RFID_NONE","OCPP_NONE","ISO15118_NONE",'
    '"PLMN_NONE"],"IT":"NONE","ID":"","RD":[{"TM":"2019-08-13T10:03:15,000+0000 I",'
    '"TX":"B","EF":"","ST":"G","RV":0.2596,"RI":"1-b:1.8.0","RU":"kWh"},'
    '{"TM":"2019-08-13T10:03:36,000+0000 R","TX":"E","EF":"","ST":"G","RV":0.2597,'
    '"RI":"1-b:1.8.0","RU":"kWh"}]}|{"SD":"304502200E2F107C987A300AC1695CA89EA149A8'
    "CDFA16188AF0A33EE64B67964AA943F9022100889A72B6D65364BEA8562E7F6A0253157ACFF84F"
    'E4929A93B5964D23C4265699"}'
)


def make_ocmf(pagination: str, *, meter: str = SERIAL, signature: str = "3044") -> str:
    """Build an IEM-DCR-like record (RV as a string, as the meter sends it)."""
    payload = (
        f'{{"FV":"1.0","GI":"IEM-DCR-125-1000-32-00-006-B_000","GS":"{meter}",'
        f'"PG":"{pagination}","MS":"{meter}","IS":true,"IT":"ISO14443",'
        f'"ID":"{USER_ID}","RD":[{{"TM":"2025-03-01T09:00:00,000+0100 I","TX":"B",'
        '"RV":"00000446.540","RI":"1-b:1.8.e","RU":"kWh","RT":"DC","ST":"G"}]}'
    )
    return f'OCMF|{payload}|{{"SA":"ECDSA-secp256r1-SHA256","SD":"{signature}"}}'


def add(
    ledger: Ledger,
    pagination: str,
    *,
    ocmf: str | None = None,
    meter: str = SERIAL,
    minute: int = 0,
    reason: str = "stopped",
    signature_valid: bool | None = True,
) -> AppendResult:
    return ledger.append(
        meter_serial=meter,
        pagination=pagination,
        ocmf=ocmf if ocmf is not None else make_ocmf(pagination, meter=meter),
        public_key=PUBLIC_KEY,
        signature_valid=signature_valid,
        reason=reason,
        recorded_at=BASE_TIME + timedelta(minutes=minute),
    )


def reopen(path: Path) -> tuple[Ledger, LoadReport]:
    ledger = Ledger(path, fsync=False)
    return ledger, ledger.load()


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def documented_line(record: dict[str, Any]) -> bytes:
    """Serialise a record as the module docstring specifies the file format."""
    canonical = json.dumps(
        record, sort_keys=True, separators=(",", ":"), ensure_ascii=True
    )
    full = {**record, "sha256": hashlib.sha256(canonical.encode()).hexdigest()}
    return json.dumps(full, separators=(",", ":")).encode() + b"\n"


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "iem_dcr" / f"ledger_{SERIAL}.jsonl"


@pytest.fixture
def ledger(path: Path) -> Ledger:
    ledger = Ledger(path, fsync=False)
    ledger.load()
    return ledger


def test_missing_file_is_an_empty_ledger(path: Path) -> None:
    ledger = Ledger(path)
    assert ledger.load() == LoadReport(entries=0, skipped_torn=0, skipped_corrupt=0)
    assert len(ledger) == 0
    assert ledger.last() is None
    assert ledger.entries() == []
    assert ledger.gaps() == []
    assert not path.exists()


def test_use_before_load_is_refused(path: Path) -> None:
    ledger = Ledger(path)
    with pytest.raises(RuntimeError):
        add(ledger, "T1")
    with pytest.raises(RuntimeError):
        len(ledger)


def test_round_trip_keeps_ocmf_verbatim(ledger: Ledger, path: Path) -> None:
    odd = (
        'OCMF|{ "FV" : "1.0",\t"PG":"T7",  "TT":"0,20 €/kWh → Säule 3 ✓",'
        '\r\n "ID":"ß\u00a0x\u2028y\u0085z", "RV":"00000446.540", "X":1.50e1,'
        ' "Z":"\\u00e9 \\"q\\"" }|{"SD":"30440220AB" }'
    )
    assert add(ledger, "T32", ocmf=KEBA_RECORD).entry.ocmf == KEBA_RECORD
    assert add(ledger, "T7", ocmf=odd).entry.ocmf == odd

    raw = path.read_bytes()
    assert raw.isascii()
    # Line breaks inside the payload must not split the record.
    assert raw.count(b"\n") == 2

    reloaded, report = reopen(path)
    assert report == LoadReport(entries=2, skipped_torn=0, skipped_corrupt=0)
    assert [entry.ocmf for entry in reloaded.entries()] == [KEBA_RECORD, odd]
    assert reloaded.entries()[1].ocmf.encode() == odd.encode()


_SECTION = st.text(alphabet=st.characters(exclude_characters="|"), max_size=200)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(payload=_SECTION, signature=_SECTION, serial=st.text(), reason=st.text())
def test_any_text_round_trips(
    tmp_path: Path, payload: str, signature: str, serial: str, reason: str
) -> None:
    path = tmp_path / uuid.uuid4().hex / "ledger.jsonl"
    ledger = Ledger(path, fsync=False)
    ledger.load()
    ocmf = f"OCMF|{payload}|{signature}"
    entry = add(ledger, "T1", ocmf=ocmf, meter=serial, reason=reason).entry

    reloaded, report = reopen(path)
    assert report.entries == 1
    assert reloaded.entries() == [entry]
    assert reloaded.entries()[0].ocmf == ocmf
    assert reloaded.entries()[0].meter_serial == serial
    assert reloaded.entries()[0].reason == reason


def test_reload_gives_equal_entries(ledger: Ledger, path: Path) -> None:
    local = timezone(timedelta(hours=2))
    first = ledger.append(
        meter_serial=SERIAL,
        pagination="T1",
        ocmf=make_ocmf("T1"),
        public_key=PUBLIC_KEY,
        signature_valid=None,
        reason="recovered",
        recorded_at=datetime(2025, 6, 1, 12, 0, tzinfo=local),
    ).entry
    add(ledger, "T2", minute=5, reason="superseded", signature_valid=False)
    add(ledger, "T4", minute=9, reason="a reason we do not know yet")
    add(ledger, "F1", minute=10)

    assert first.recorded_at == datetime(2025, 6, 1, 10, 0, tzinfo=UTC)
    assert first.recorded_at.utcoffset() == timedelta(0)

    reloaded, report = reopen(path)
    assert report == LoadReport(entries=4, skipped_torn=0, skipped_corrupt=0)
    assert reloaded.entries() == ledger.entries()
    assert reloaded.last() == ledger.last()
    assert reloaded.gaps() == ledger.gaps()
    assert len(reloaded) == 4
    assert reloaded.contains(make_ocmf("T2"))
    assert [entry.sequence for entry in reloaded.entries()] == [1, 2, 3, 4]
    assert reloaded.entries()[0].to_dict() == {
        "sequence": 1,
        "recorded_at": "2025-06-01T10:00:00+00:00",
        "meter_serial": SERIAL,
        "pagination": "T1",
        "reason": "recovered",
        "ocmf": make_ocmf("T1"),
        "public_key": PUBLIC_KEY,
        "signature_valid": None,
        "parse_error": None,
    }
    json.dumps([entry.to_dict() for entry in reloaded.entries()])


def test_load_is_idempotent(ledger: Ledger, path: Path) -> None:
    add(ledger, "T1")
    add(ledger, "T3")
    again = Ledger(path, fsync=False)
    first_report = again.load()
    first_entries = again.entries()
    assert again.load() == first_report
    assert again.entries() == first_entries
    assert again.gaps() == [PaginationGap(previous="T1", current="T3", missing=1)]


def test_duplicate_is_stored_once(ledger: Ledger, path: Path) -> None:
    original = add(ledger, "T5", minute=1)
    before = path.read_bytes()

    again = add(ledger, "T5", minute=30, reason="recovered")
    resigned = add(ledger, "T5", ocmf=make_ocmf("T5", signature="3045FFFF"))

    for result in (again, resigned):
        assert result.duplicate
        assert result.gap is None
        assert result.entry == original.entry
    assert not original.duplicate
    assert path.read_bytes() == before
    assert len(ledger) == 1
    assert ledger.contains(make_ocmf("T5", signature="anything"))
    assert not ledger.contains(make_ocmf("T6"))
    assert not ledger.contains("not an OCMF record")


def test_torn_last_line_is_skipped_and_left_untouched(
    ledger: Ledger, path: Path, tmp_path: Path
) -> None:
    kept = [add(ledger, f"T{number}", minute=number).entry for number in (1, 2, 3)]
    # What a crash halfway through writing the T4 record leaves behind.
    other = Ledger(tmp_path / "other.jsonl", fsync=False)
    other.load()
    add(other, "T4")
    full_line = (tmp_path / "other.jsonl").read_bytes()
    with path.open("ab") as file:
        file.write(full_line[: len(full_line) // 2])
    with_torn_tail = path.read_bytes()

    reloaded, report = reopen(path)
    assert report == LoadReport(entries=3, skipped_torn=1, skipped_corrupt=0)
    assert reloaded.entries() == kept

    result = add(reloaded, "T4", minute=4)
    assert not result.duplicate
    assert result.entry.sequence == 4
    after = path.read_bytes()
    assert after.startswith(with_torn_tail)
    new_line = after[len(with_torn_tail) :]
    assert new_line.startswith(b"\n")
    assert new_line.count(b"\n") == 2
    assert json.loads(new_line)["ocmf"] == make_ocmf("T4")

    # Now that a record follows it, the torn line is no longer the last one: it
    # cannot be told from damage and is reported as corrupt.
    final, report = reopen(path)
    assert report == LoadReport(entries=4, skipped_torn=0, skipped_corrupt=1)
    assert final.entries() == [*kept, result.entry]


def test_last_record_missing_only_its_newline_is_kept(
    ledger: Ledger, path: Path
) -> None:
    first = add(ledger, "T1").entry
    path.write_bytes(path.read_bytes().rstrip(b"\n"))

    reloaded, report = reopen(path)
    assert report == LoadReport(entries=1, skipped_torn=0, skipped_corrupt=0)
    assert reloaded.entries() == [first]

    second = add(reloaded, "T2").entry
    assert second.sequence == 2
    assert len(lines_of(path)) == 2
    final, report = reopen(path)
    assert report == LoadReport(entries=2, skipped_torn=0, skipped_corrupt=0)
    assert final.entries() == [first, second]


def test_unterminated_last_line_that_fails_its_checksum_is_torn(
    ledger: Ledger, path: Path
) -> None:
    first = add(ledger, "T1").entry
    add(ledger, "T2")
    lines = lines_of(path)
    path.write_bytes(lines[0] + _alter_checksum(lines[1]).rstrip(b"\n"))

    reloaded, report = reopen(path)
    assert report == LoadReport(entries=1, skipped_torn=1, skipped_corrupt=0)
    assert reloaded.entries() == [first]


def test_corrupt_last_record_keeps_its_sequence_number(
    ledger: Ledger, path: Path
) -> None:
    add(ledger, "T1")
    add(ledger, "T2")
    lines = lines_of(path)
    path.write_bytes(lines[0] + _alter_payload(lines[1]))

    reloaded, report = reopen(path)
    assert report == LoadReport(entries=1, skipped_torn=0, skipped_corrupt=1)
    assert add(reloaded, "T3").entry.sequence == 3


def _alter_payload(line: bytes) -> bytes:
    return line.replace(b'\\"PG\\":\\"T2\\"', b'\\"PG\\":\\"T9\\"')


def _alter_checksum(line: bytes) -> bytes:
    digest = json.loads(line)["sha256"].encode()
    return line.replace(digest, hashlib.sha256(b"other").hexdigest().encode())


def _break_json(line: bytes) -> bytes:
    return line.replace(b'{"format":1,', b'{"format":1,,', 1)


def _wrong_field_type(line: bytes) -> bytes:
    record = json.loads(line)
    del record["sha256"]
    record["sequence"] = "2"
    return documented_line(record)


@pytest.mark.parametrize(
    "damage",
    [_alter_payload, _alter_checksum, _break_json, _wrong_field_type],
)
def test_corrupt_middle_line_is_skipped(
    ledger: Ledger,
    path: Path,
    caplog: pytest.LogCaptureFixture,
    damage: Callable[[bytes], bytes],
) -> None:
    entries = [add(ledger, f"T{number}", minute=number).entry for number in (1, 2, 3)]
    lines = lines_of(path)
    damaged = damage(lines[1])
    assert damaged != lines[1]
    path.write_bytes(lines[0] + damaged + lines[2])

    with caplog.at_level(logging.DEBUG):
        reloaded, report = reopen(path)

    assert report == LoadReport(entries=2, skipped_torn=0, skipped_corrupt=1)
    assert reloaded.entries() == [entries[0], entries[2]]
    assert "line 2" in caplog.text
    assert USER_ID not in caplog.text
    assert "OCMF|" not in caplog.text
    assert [r.levelno for r in caplog.records if "line 2" in r.getMessage()] == [
        logging.WARNING
    ]
    # A lost record's number is never handed out again.
    assert add(reloaded, "T4").entry.sequence == 4


def test_incomplete_middle_line_is_corrupt_not_torn(
    ledger: Ledger, path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    entries = [add(ledger, f"T{number}", minute=number).entry for number in (1, 2, 3)]
    lines = lines_of(path)
    path.write_bytes(lines[0] + lines[1][:50] + b"\n" + lines[2])

    with caplog.at_level(logging.INFO):
        reloaded, report = reopen(path)

    assert report == LoadReport(entries=2, skipped_torn=0, skipped_corrupt=1)
    assert reloaded.entries() == [entries[0], entries[2]]
    assert [r.levelno for r in caplog.records if "line 2" in r.getMessage()] == [
        logging.WARNING
    ]


def test_future_format_version_is_reported_not_fatal(
    ledger: Ledger, path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = add(ledger, "T1").entry
    future = documented_line(
        {
            "format": LEDGER_FORMAT_VERSION + 1,
            "sequence": 2,
            "stored": {"nested": ["new", "shape"]},
            "ocmf": make_ocmf("T2"),
        }
    )
    with path.open("ab") as file:
        file.write(future)

    with caplog.at_level(logging.WARNING):
        reloaded, report = reopen(path)

    assert report == LoadReport(entries=1, skipped_torn=0, skipped_corrupt=1)
    assert reloaded.entries() == [first]
    assert f"format version {LEDGER_FORMAT_VERSION + 1}" in caplog.text
    assert USER_ID not in caplog.text
    add(reloaded, "T3")
    assert lines_of(path)[1] == future


def test_pagination_gaps(ledger: Ledger, path: Path) -> None:
    assert add(ledger, "T1").gap is None
    assert add(ledger, "T2").gap is None
    assert add(ledger, "F1").gap is None
    jump = add(ledger, "T5")
    assert add(ledger, "T6").gap is None
    fiscal_jump = add(ledger, "F3")
    # A meter reset or an out-of-order record is not a gap.
    assert add(ledger, "T3").gap is None
    assert add(ledger, "T1", ocmf=make_ocmf("T1", meter="reset")).gap is None
    assert add(ledger, "T7").gap is None

    expected = [
        PaginationGap(previous="T2", current="T5", missing=2),
        PaginationGap(previous="F1", current="F3", missing=1),
    ]
    assert [jump.gap, fiscal_jump.gap] == expected
    assert ledger.gaps() == expected
    reloaded, _ = reopen(path)
    assert reloaded.gaps() == expected


def test_pagination_is_counted_per_meter(ledger: Ledger) -> None:
    add(ledger, "T1", meter="meter-a")
    add(ledger, "T40", meter="meter-b")
    add(ledger, "T2", meter="meter-a")
    add(ledger, "T41", meter="meter-b")
    assert ledger.gaps() == []
    assert add(ledger, "T4", meter="meter-a").gap == PaginationGap("T2", "T4", 1)


@pytest.mark.parametrize(
    "pagination", ["X5", "T", "t5", "T5 ", " T5", "T-1", "T٣", "5", "TT5", ""]
)
def test_invalid_pagination_is_refused(
    ledger: Ledger, path: Path, pagination: str
) -> None:
    with pytest.raises(ValueError):
        add(ledger, pagination, ocmf=make_ocmf("T1"))
    assert len(ledger) == 0
    assert not path.exists()


@pytest.mark.parametrize("ocmf", ["", " \n"])
def test_empty_ocmf_is_refused(ledger: Ledger, path: Path, ocmf: str) -> None:
    with pytest.raises(ValueError):
        add(ledger, "T1", ocmf=ocmf)
    assert not path.exists()


@pytest.mark.parametrize("text", ["OCMF", "OCMF|{}", "OCMF {} {}", 'OCMF|{"PG":|{}'])
def test_unreadable_text_is_stored_verbatim(
    ledger: Ledger, path: Path, text: str
) -> None:
    result = ledger.append(
        meter_serial=SERIAL,
        pagination=None,
        ocmf=text,
        public_key=PUBLIC_KEY,
        signature_valid=None,
        reason="stopped",
        recorded_at=BASE_TIME,
        parse_error="payload section is not valid JSON",
    )
    assert not result.duplicate
    assert result.gap is None
    assert ledger.contains(text)
    again = ledger.append(
        meter_serial=SERIAL,
        pagination=None,
        ocmf=text,
        public_key=PUBLIC_KEY,
        signature_valid=None,
        reason="recovered",
        recorded_at=BASE_TIME,
        parse_error="payload section is not valid JSON",
    )
    assert again.duplicate
    assert again.entry == result.entry

    reloaded, report = reopen(path)
    assert report == LoadReport(entries=1, skipped_torn=0, skipped_corrupt=0)
    [entry] = reloaded.entries()
    assert entry == result.entry
    assert entry.ocmf == text
    assert entry.pagination is None
    assert entry.parse_error == "payload section is not valid JSON"
    record = json.loads(lines_of(path)[0])
    assert record["pagination"] is None
    assert list(record)[-2:] == ["parse_error", "sha256"]


def test_readable_record_lines_carry_no_parse_error(ledger: Ledger, path: Path) -> None:
    add(ledger, "T1")
    assert "parse_error" not in json.loads(lines_of(path)[0])


def _signed(pagination: str, signature: str, valid: bool | None) -> dict[str, Any]:
    return {
        "ocmf": make_ocmf(pagination, signature=signature),
        "signature_valid": valid,
    }


def test_a_verifying_copy_follows_copies_that_did_not_verify(
    ledger: Ledger, path: Path
) -> None:
    damaged = add(ledger, "T5", **_signed("T5", "30440220AA", valid=False))
    assert not damaged.duplicate
    # Another damaged copy of the same payload adds nothing.
    assert add(ledger, "T5", **_signed("T5", "30440220BB", valid=False)).duplicate
    assert add(ledger, "T5", **_signed("T5", "30440220CC", valid=None)).duplicate
    good = add(ledger, "T5", **_signed("T5", "30440220DD", valid=True))
    assert not good.duplicate
    assert good.gap is None
    # Once a copy verifies, the payload is stored: any other copy is a duplicate.
    again = add(ledger, "T5", **_signed("T5", "30440220EE", valid=True))
    assert again.duplicate
    assert again.entry == good.entry
    assert ledger.copies(make_ocmf("T5")) == [damaged.entry, good.entry]

    reloaded, _ = reopen(path)
    assert reloaded.entries() == [damaged.entry, good.entry]
    assert reloaded.gaps() == []


def test_a_copy_that_does_not_verify_never_follows_one_that_does(
    ledger: Ledger,
) -> None:
    good = add(ledger, "T5", **_signed("T5", "30440220DD", valid=True))
    bad = add(ledger, "T5", **_signed("T5", "30440220AA", valid=False))
    assert bad.duplicate
    assert bad.entry == good.entry


def test_naive_timestamp_is_refused(ledger: Ledger, path: Path) -> None:
    with pytest.raises(ValueError):
        ledger.append(
            meter_serial=SERIAL,
            pagination="T1",
            ocmf=make_ocmf("T1"),
            public_key=PUBLIC_KEY,
            signature_valid=True,
            reason="stopped",
            recorded_at=datetime(2025, 1, 1, 12, 0),  # noqa: DTZ001
        )
    assert not path.exists()


def test_entries_in_time_range_inclusive(ledger: Ledger) -> None:
    for minute in range(5):
        add(ledger, f"T{minute + 1}", minute=minute * 10)
    selected = ledger.entries(
        start=BASE_TIME + timedelta(minutes=10), end=BASE_TIME + timedelta(minutes=30)
    )
    assert [entry.pagination for entry in selected] == ["T2", "T3", "T4"]
    later = ledger.entries(start=BASE_TIME + timedelta(minutes=31))
    assert [entry.pagination for entry in later] == ["T5"]
    earlier = ledger.entries(end=BASE_TIME)
    assert [entry.pagination for entry in earlier] == ["T1"]


class FsyncSpy:
    """Records what os.fsync is asked to sync, then really syncs it."""

    def __init__(self) -> None:
        self.files: list[os.stat_result] = []
        self._real = os.fsync

    def __call__(self, descriptor: int) -> None:
        self.files.append(os.fstat(descriptor))
        self._real(descriptor)

    def regular(self) -> list[int]:
        return [s.st_ino for s in self.files if stat.S_ISREG(s.st_mode)]

    def directories(self) -> set[int]:
        return {s.st_ino for s in self.files if stat.S_ISDIR(s.st_mode)}


def test_each_append_is_synced_once(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = Ledger(path)
    ledger.load()
    add(ledger, "T1")
    spy = FsyncSpy()
    monkeypatch.setattr(os, "fsync", spy)

    for number in range(2, 7):
        add(ledger, f"T{number}")
        assert spy.regular() == [path.stat().st_ino] * (number - 1)
    assert spy.directories() == set()

    add(ledger, "T6")  # duplicate: nothing to sync
    assert len(spy.files) == 5


def test_creating_the_file_syncs_new_directory_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "new" / "nested" / "ledger.jsonl"
    spy = FsyncSpy()
    monkeypatch.setattr(os, "fsync", spy)
    ledger = Ledger(path)
    ledger.load()
    add(ledger, "T1")

    assert spy.regular() == [path.stat().st_ino]
    assert spy.directories() == {
        (tmp_path / "new" / "nested").stat().st_ino,
        (tmp_path / "new").stat().st_ino,
        tmp_path.stat().st_ino,
    }


def test_fsync_can_be_disabled(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    spy = FsyncSpy()
    monkeypatch.setattr(os, "fsync", spy)
    add(ledger, "T1")
    add(ledger, "T2")
    assert spy.files == []


def test_unsynced_record_is_not_acknowledged(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = Ledger(path)
    ledger.load()
    add(ledger, "T1")

    def failing_fsync(descriptor: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(LedgerError, match="Input/output error"):
        add(ledger, "T2")
    assert len(ledger) == 1
    assert not ledger.contains(make_ocmf("T2"))

    monkeypatch.undo()
    retried = add(ledger, "T2")
    assert not retried.duplicate
    # The failed attempt's bytes may still be on disk; they must not count twice.
    reloaded, report = reopen(path)
    assert report == LoadReport(entries=2, skipped_torn=0, skipped_corrupt=0)
    assert reloaded.entries() == ledger.entries()


def test_failed_write_leaving_part_of_a_line_does_not_swallow_the_next(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = Ledger(path)
    ledger.load()
    first = add(ledger, "T1").entry
    real_fsync = os.fsync

    def disk_full(descriptor: int) -> None:
        # Only part of the line reached the disk before the device failed.
        os.ftruncate(descriptor, os.fstat(descriptor).st_size - 40)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(LedgerError, match="No space left"):
        add(ledger, "T2")
    monkeypatch.setattr(os, "fsync", real_fsync)

    second = add(ledger, "T2").entry
    reloaded, report = reopen(path)
    # The part line is followed by the next record, so it counts as corrupt.
    assert report == LoadReport(entries=2, skipped_torn=0, skipped_corrupt=1)
    assert reloaded.entries() == [first, second]


def test_append_writes_only_the_new_line(ledger: Ledger, path: Path) -> None:
    for number in range(1, 51):
        add(ledger, f"T{number}", minute=number)
    before = path.read_bytes()
    prefix_hash = hashlib.sha256(before).hexdigest()

    add(ledger, "T51", minute=51)

    after = path.read_bytes()
    assert hashlib.sha256(after[: len(before)]).hexdigest() == prefix_hash
    new_bytes = after[len(before) :]
    assert len(after) == len(before) + len(new_bytes)
    assert new_bytes.count(b"\n") == 1
    assert new_bytes.endswith(b"\n")
    assert json.loads(new_bytes)["ocmf"] == make_ocmf("T51")


def test_ten_thousand_records_reload(ledger: Ledger, path: Path) -> None:
    count = 10_000
    for number in range(1, count + 1):
        add(ledger, f"T{number}", minute=number)

    reloaded, report = reopen(path)
    assert report == LoadReport(entries=count, skipped_torn=0, skipped_corrupt=0)
    assert len(reloaded) == count
    entries = reloaded.entries()
    assert [entry.pagination for entry in entries] == [
        f"T{number}" for number in range(1, count + 1)
    ]
    assert [entry.sequence for entry in entries] == list(range(1, count + 1))
    assert all(entry.ocmf == make_ocmf(f"T{entry.sequence}") for entry in entries)
    assert reloaded.contains(make_ocmf("T1"))
    assert reloaded.contains(make_ocmf("T5000"))
    assert not reloaded.contains(make_ocmf(f"T{count + 1}"))
    last = reloaded.last()
    assert last is not None
    assert last.pagination == f"T{count}"
    assert reloaded.gaps() == []
    window = reloaded.entries(
        start=BASE_TIME + timedelta(minutes=100), end=BASE_TIME + timedelta(minutes=109)
    )
    assert [entry.pagination for entry in window] == [f"T{n}" for n in range(100, 110)]
    assert add(reloaded, "T1").duplicate


def _run_threads(workers: int, target: Callable[[int], None]) -> None:
    start = threading.Barrier(workers)
    errors: list[BaseException] = []

    def run(worker: int) -> None:
        try:
            start.wait()
            target(worker)
        except BaseException as err:  # noqa: BLE001
            errors.append(err)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_concurrent_appends(ledger: Ledger, path: Path) -> None:
    per_thread = 60

    def append_own_records(worker: int) -> None:
        for number in range(1, per_thread + 1):
            add(ledger, f"T{number}", meter=f"meter-{worker}")

    _run_threads(8, append_own_records)

    lines = lines_of(path)
    assert len(lines) == 8 * per_thread
    records = [json.loads(line) for line in lines]
    assert all(line.endswith(b"\n") and line.count(b"\n") == 1 for line in lines)
    assert sorted(r["sequence"] for r in records) == list(range(1, 8 * per_thread + 1))
    for worker in range(8):
        own = [
            r["pagination"] for r in records if r["meter_serial"] == f"meter-{worker}"
        ]
        assert own == [f"T{number}" for number in range(1, per_thread + 1)]
    assert ledger.gaps() == []

    reloaded, report = reopen(path)
    assert report == LoadReport(
        entries=8 * per_thread, skipped_torn=0, skipped_corrupt=0
    )
    assert reloaded.entries() == ledger.entries()


def test_concurrent_duplicates_are_stored_once(ledger: Ledger, path: Path) -> None:
    results: list[AppendResult] = []

    def append_shared_records(worker: int) -> None:
        results.extend(add(ledger, f"T{number}") for number in range(1, 21))

    _run_threads(8, append_shared_records)

    assert len(lines_of(path)) == 20
    assert sum(not result.duplicate for result in results) == 20
    assert len(ledger) == 20


def test_unwritable_path_raises_ledger_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    ledger = Ledger(blocker / "ledger.jsonl")
    with pytest.raises(LedgerError, match="not-a-directory"):
        ledger.load()

    # The directory is replaced by a file after the (empty) ledger was loaded.
    replaced = tmp_path / "replaced"
    ledger = Ledger(replaced / "ledger.jsonl")
    ledger.load()
    replaced.write_text("")
    with pytest.raises(LedgerError) as raised:
        add(ledger, "T1")
    assert isinstance(raised.value.__cause__, OSError)
    assert len(ledger) == 0


def test_directory_in_place_of_file_raises_ledger_error(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    with pytest.raises(LedgerError, match="Cannot read ledger"):
        ledger.load()
