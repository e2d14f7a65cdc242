"""scripts/bench's start/stop measurement against a real Home Assistant process.

What the split rests on: each request to the meter passes the proxy as a
connection of its own, no poll falls into a call, and the requests of each call
are those of transaction.py's sequence, whose pauses `configured_pauses` counts.
No timing is asserted: only that the parts are what the requests say and add up.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.realhass import latency
from custom_components.iem_dcr.transaction import RECEIPT_DELAY, SETTLE_DELAY

pytestmark = pytest.mark.realhass

START = [
    ("GET", "gw", 200),
    ("GET", "metervalue", 200),
    # The reference driver's unconditional end before a begin: nothing runs.
    ("POST", "receipt", 428),
    ("GET", "transaction", 200),
    ("POST", "user", 200),
    ("POST", "receipt", 200),
    ("GET", "metervalue", 200),
    ("GET", "metervalue", 200),  # the refresh after the start
]
STOP = [
    ("GET", "metervalue", 200),
    ("POST", "receipt", 200),
    ("GET", "receipt", 200),
    ("GET", "metervalue", 200),  # the refresh after the stop
]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No test Home Assistant here: the real one runs in its own process."""


def test_each_call_is_split_by_the_requests_the_meter_saw(
    tmp_path: Path, socket_enabled: None
) -> None:
    calls = latency.run(runs=2, directory=tmp_path)

    assert [call.kind for call in calls] == ["start", "stop", "start", "stop"]
    for call in calls:
        seen = [
            (r.method, r.path.removeprefix("/counter/v1/ocmf/"), r.status)
            for r in call.requests
        ]
        assert seen == (START if call.kind == "start" else STOP)
        assert call.split.pauses == (
            SETTLE_DELAY if call.kind == "start" else RECEIPT_DELAY
        )
        assert call.split.meter > 0
        assert call.split.ours > 0  # the parts do not overlap
    rows = dict(
        latency.rows(
            [c.split for c in calls if c.kind == "start"],
            [c.split for c in calls if c.kind == "stop"],
        )
    )
    assert set(rows) == {
        "start_transaction, median of 2",
        "stop_transaction, median of 2",
    }
