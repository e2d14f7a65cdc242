"""Time parsing and verifying the real IEM-DCR record (sample 4 of ocmf-samples.txt).

Also: the lenient parser's slow path (a number written with a leading zero),
the Transparenzsoftware compatibility check, a canonical-DER export and the
pure-Python secp192k1 verification (sample 10's payload is P-192; the
secp192k1 record is the HTB begin record of the Transparenzsoftware's tests).

Run from the repository root:
    ../shared/ci/py314 .venv/bin/python -m benchmarks.bench_ocmf [iterations]
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
import sys
import time

from custom_components.iem_dcr.ocmf import (
    TransparencyEntry,
    eichrecht_issues,
    parse,
    tps_compatibility,
    transparency_xml,
    verify_signature,
)
from tests.ocmf_vectors import HTB_BEGIN, HTB_KEY

SAMPLES = Path(__file__).resolve().parents[2] / "shared/data/ocmf-samples.txt"
SAMPLE = 4


def sample(number: int) -> tuple[str, str]:
    """Return the OCMF text and public key of sample `number`."""
    for block in SAMPLES.read_text(encoding="utf-8").split("\n=== SAMPLE ")[1:]:
        first, *lines = block.splitlines()
        if int(first) == number:
            fields = dict(line.split(": ", 1) for line in lines if ": " in line)
            return fields["OCMF"], fields["PUBLIC_KEY"]
    raise LookupError(f"no sample {number} in {SAMPLES}")


def per_call(action: Callable[[], object], iterations: int) -> float:
    """Return the mean wall time of one call, in microseconds."""
    action()  # warm-up: imports, OpenSSL curve tables
    start = time.perf_counter()
    for _ in range(iterations):
        action()
    return (time.perf_counter() - start) / iterations * 1e6


def main() -> None:
    """Print the time per record of each step."""
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    text, key = sample(SAMPLE)
    record = parse(text)
    entry = TransparencyEntry(text, key, "1")
    lenient = text.replace('"RV":"00000446.540"', '"RV":00000446.540', 1)
    ebz_text, ebz_key = sample(10)
    ebz = TransparencyEntry(ebz_text, ebz_key)
    steps: dict[str, Callable[[], object]] = {
        "parse": lambda: parse(text),
        "parse (leading zero: slow path)": lambda: parse(lenient),
        "verify (parsed record)": lambda: verify_signature(record, key),
        "verify (text)": lambda: verify_signature(text, key),
        "verify secp192k1 (pure Python)": lambda: verify_signature(HTB_BEGIN, HTB_KEY),
        "eichrecht_issues": lambda: eichrecht_issues(record),
        "tps_compatibility": lambda: tps_compatibility(record, key),
        "transparency_xml (1 entry)": lambda: transparency_xml([entry]),
        "transparency_xml canonical (eBZ)": lambda: transparency_xml(
            [ebz], canonical_signatures=True
        ),
    }
    print(f"sample {SAMPLE} ({len(text)} characters), {iterations} iterations")
    for name, action in steps.items():
        print(f"  {name:34} {per_call(action, iterations):9.1f} µs per record")


if __name__ == "__main__":
    main()
