"""A stand-in for the Isabellenhütte IEM-DCR DC meter's HTTP API, for tests and demos.

It shares no code with the Home Assistant integration, which verifies what it signs
independently.
"""

from .faults import FaultKind
from .meter_api import RecordedRequest
from .server import MeterSimulator
from .signing import SignatureShape
from .state import (
    DEFAULT_SERIAL,
    HEALTHY_ERROR_CODE,
    MeterRefusedError,
    MeterState,
    UserIdentification,
)
from .transport import Transport

__all__ = [
    "DEFAULT_SERIAL",
    "HEALTHY_ERROR_CODE",
    "FaultKind",
    "MeterRefusedError",
    "MeterSimulator",
    "MeterState",
    "RecordedRequest",
    "SignatureShape",
    "Transport",
    "UserIdentification",
]
