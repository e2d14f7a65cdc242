"""Whatever the input, parse, verify and the law checks raise nothing but OcmfError."""

from __future__ import annotations

import base64
from datetime import datetime
import json
from typing import Any

from hypothesis import HealthCheck, event, given, settings, strategies as st

from custom_components.iem_dcr.ocmf import (
    EichrechtIssue,
    OcmfError,
    OcmfRecord,
    TransparencyEntry,
    eichrecht_issues,
    parse,
    tps_compatibility,
    transparency_xml,
    verify_signature,
)
from custom_components.iem_dcr.ocmf.json_reader import _LenientReader, read_json
from tests.test_ocmf_samples import SAMPLES
from tests.test_ocmf_verify import ALGORITHMS, SIGNED

FUZZ = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
SPKI_PREFIX = bytes.fromhex("3059301306072A8648CE3D020106082A8648CE3D03010703420004")
KNOWN_RECORDS = [s.ocmf for s in SAMPLES] + [s.text for s in SIGNED.values()]
KEYS = [s.public_key for s in SAMPLES] + [s.key_hex for s in SIGNED.values()]


def exercise(text: str, key: str | None) -> None:
    """Run everything on `text`; only OcmfError may come out."""
    exercise_raw(text, key)
    try:
        record = parse(text)
    except OcmfError:
        event("parse: OcmfError")
        return
    assert isinstance(record, OcmfRecord)
    issues = eichrecht_issues(record)
    assert all(isinstance(issue, EichrechtIssue) for issue in issues)
    try:
        verified = verify_signature(record, key)
    except OcmfError:
        event("verify: OcmfError")
    else:
        assert isinstance(verified, bool)
        event(f"verify: {verified}")
    compatibility = tps_compatibility(record, key)
    assert compatibility.compatible is (compatibility.reason is None)
    for canonical in (False, True):
        try:
            transparency_xml(
                [TransparencyEntry(text, key or "")], canonical_signatures=canonical
            )
        except OcmfError:
            event("xml: OcmfError")


def exercise_raw(text: str, key: str | None) -> None:
    """Verify straight from the text: only OcmfError, and only for what it names."""
    try:
        verified = verify_signature(text, key)
    except OcmfError:
        event("raw verify: OcmfError")
    else:
        assert isinstance(verified, bool)


@st.composite
def mutated_record(draw: st.DrawFn) -> str:
    """A real record with a few characters deleted, inserted or replaced."""
    text = draw(st.sampled_from(KNOWN_RECORDS))
    for _ in range(draw(st.integers(1, 4))):
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, min(len(text), start + 8)))
        insert = draw(
            st.text(max_size=4)
            | st.sampled_from([*'|{}[]",:0-9eE.+ ntfTBX\\', "\\ud800", "\\u"])
        )
        text = text[:start] + insert + text[end:]
    return text


JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["", "B", "E", "G", "T1", "2025-01-01T12:00:00,000+0100 S"])
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=8,
)


def ocmf_time(moment: datetime, offset: str, status: str) -> str:
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:"
        f"{moment.minute:02d}:{moment.second:02d},{moment.microsecond // 1000:03d}"
        f"{offset} {status}"
    )


TIMES = st.builds(
    ocmf_time,
    st.datetimes(),
    st.sampled_from(["+0000", "+0100", "-0530", "+1400", "Z", "+02:00"]),
    st.sampled_from("UISRX"),
)
NUMBERS = st.decimals(allow_nan=False, allow_infinity=False).map(str) | st.integers(
    0, 10**12
).map(lambda n: f"{n / 1000:012.3f}")
TEXTS = st.text(max_size=12) | st.integers().map(str)
# Values of the type each field should have, mostly; any JSON value sometimes.
READING_FIELDS = {
    "TX": st.sampled_from(list("BCXESTLRAP")) | TEXTS,
    "RV": NUMBERS | st.integers() | st.floats(allow_nan=False, allow_infinity=False),
    "RI": st.sampled_from(["1-b:1.8.e", "1-0:2.8.0"]),
    "RU": st.sampled_from(["kWh", "Wh", "mOhm"]),
    "RT": st.sampled_from(["AC", "DC"]),
    "CL": st.integers(0, 100),
    "EF": st.sampled_from(["", "E", "t", "Et"]),
    "ST": st.sampled_from(list("GNTDRMXIOSEF")),
    "UX": JSON_VALUES,
}
PAYLOAD_FIELDS = {
    **dict.fromkeys(("FV", "GI", "GS", "GV", "MV", "MM", "MS", "MF"), TEXTS),
    **dict.fromkeys(("IL", "IT", "ID", "TT", "CF", "CT", "CI"), TEXTS),
    "IS": st.booleans(),
    "IF": st.lists(TEXTS, max_size=4),
    "LC": st.dictionaries(
        st.sampled_from(["LN", "LI", "LR", "LU"]), TEXTS | st.integers()
    ),
    "XA": JSON_VALUES,
}


def mostly(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """The field's own kind of value nine times in ten, any JSON value else."""
    return st.sampled_from(range(10)).flatmap(
        lambda n: JSON_VALUES if n == 9 else strategy
    )


@st.composite
def structured_record(draw: st.DrawFn) -> str:
    """A well-formed record whose fields mostly hold what they should."""
    reading = st.fixed_dictionaries(
        {"TM": mostly(TIMES)},
        optional={key: mostly(value) for key, value in READING_FIELDS.items()},
    )
    payload: dict[str, Any] = draw(
        st.fixed_dictionaries(
            {
                "PG": mostly(st.from_regex(r"[TF][0-9]{1,5}", fullmatch=True)),
                "RD": mostly(st.lists(reading, min_size=1, max_size=4)),
            },
            optional={key: mostly(value) for key, value in PAYLOAD_FIELDS.items()},
        )
    )
    signature = draw(
        st.fixed_dictionaries(
            {"SD": mostly(st.binary(max_size=110).map(bytes.hex))},
            optional={
                "SA": mostly(st.sampled_from(sorted(ALGORITHMS))),
                "SE": mostly(st.sampled_from(["hex", "base64", "HEX"])),
                "SM": mostly(st.just("application/x-der")),
            },
        )
    )
    return f"OCMF|{json.dumps(payload)}|{json.dumps(signature)}"


JUNK_KEYS = (
    st.none()
    | st.text(max_size=40)
    | st.binary(max_size=130).map(bytes.hex)
    | st.binary(max_size=130).map(lambda b: base64.b64encode(b).decode())
    | st.binary(min_size=64, max_size=64).map(bytes.hex)
    | st.binary(min_size=64, max_size=64).map(lambda b: "04" + b.hex())
    | st.binary(min_size=32, max_size=32).map(lambda b: "02" + b.hex())
    | st.binary(min_size=64, max_size=64).map(lambda b: (SPKI_PREFIX + b).hex())
    | st.sampled_from(KEYS)
)


@FUZZ
@given(st.text(max_size=200), JUNK_KEYS)
def test_any_text(text: str, key: str | None) -> None:
    exercise(text, key)


@FUZZ
@given(st.text(max_size=60).map(lambda tail: "OCMF|" + tail), JUNK_KEYS)
def test_any_text_after_the_header(text: str, key: str | None) -> None:
    exercise(text, key)


@FUZZ
@given(mutated_record(), JUNK_KEYS)
def test_mutated_real_records(text: str, key: str | None) -> None:
    exercise(text, key)


@FUZZ
@given(structured_record(), JUNK_KEYS)
def test_fields_of_any_type(text: str, key: str | None) -> None:
    exercise(text, key)


@FUZZ
@given(st.sampled_from(KNOWN_RECORDS), JUNK_KEYS)
def test_real_records_with_junk_keys(text: str, key: str | None) -> None:
    exercise(text, key)


def plain(value: Any) -> Any:
    """Parsed JSON with numbers as their literal text, for comparing readers."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    literal = getattr(value, "literal", None)
    return ("number", literal) if literal is not None else value


@FUZZ
@given(JSON_VALUES, st.sampled_from([None, 0, 2]))
def test_the_lenient_reader_reads_clean_json_as_the_standard_library_does(
    value: Any, indent: int | None
) -> None:
    text = json.dumps(value, indent=indent)
    fast, deviations = read_json(text)
    assert deviations == ()
    slow = _LenientReader(text).document()
    assert plain(slow) == plain(fast)
