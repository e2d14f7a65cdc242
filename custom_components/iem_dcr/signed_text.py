"""Rules for text that ends up in the signed data: it becomes part of a legal record.

The meter writes CT, CI, the identification data and the tariff text into every
OCMF tuple it signs. Control characters there are invisible on a statement and
in the Transparenzsoftware, "|" separates the OCMF sections, and an unbounded
text has no place on the meter's display, so all three are refused.
"""

from __future__ import annotations

from enum import StrEnum
import unicodedata

SEPARATOR = "|"

MAX_CT_LENGTH = 32  # "EVSEID", "CBIDC"
MAX_CI_LENGTH = 64  # an EVSE id has at most 37 characters, "<box> <connector>" ~50
MAX_ID_LENGTH = 64  # identification data and transaction ids (a UUID has 36)
MAX_TARIFF_TEXT_LENGTH = 250  # OCMF TT: 0..250


class TextProblem(StrEnum):
    """Why a text cannot go into the signed data."""

    REQUIRED = "required"
    TOO_LONG = "too_long"
    CONTROL_CHARACTER = "control_character"
    SEPARATOR = "separator"


def text_problem(
    value: str, *, max_length: int, required: bool = False
) -> TextProblem | None:
    """Return what keeps `value` out of the signed data, or None when it may go in."""
    if required and not value.strip():
        return TextProblem.REQUIRED
    if len(value) > max_length:
        return TextProblem.TOO_LONG
    # Cc: C0 controls (NUL, BEL, ESC, CR, LF, TAB, ...), DEL and C1 controls;
    # Cs: lone surrogates, which no UTF-8 text can hold.
    if any(unicodedata.category(character) in {"Cc", "Cs"} for character in value):
        return TextProblem.CONTROL_CHARACTER
    if SEPARATOR in value:
        return TextProblem.SEPARATOR
    return None
