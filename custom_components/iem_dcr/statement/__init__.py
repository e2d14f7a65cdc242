"""Statements of charging sessions: a PDF, two CSVs and the Transparenzsoftware XML.

No Home Assistant in here: the caller passes the sessions, the meter, the
period, the language, the currency and the folder.
"""

from __future__ import annotations

from .bundle import StatementBundle, write_statement
from .model import (
    MeterInfo,
    Period,
    Statement,
    StatementError,
    StatementPricing,
    StatementTotals,
    build_statement,
    key_fingerprint,
)
from .texts import LANGUAGES, LEGAL_BASIS_NOTE

__all__ = [
    "LANGUAGES",
    "LEGAL_BASIS_NOTE",
    "MeterInfo",
    "Period",
    "Statement",
    "StatementBundle",
    "StatementError",
    "StatementPricing",
    "StatementTotals",
    "build_statement",
    "key_fingerprint",
    "write_statement",
]
