"""Exceptions raised by the IEM-DCR client; nothing else ever escapes it."""

from __future__ import annotations


class IemDcrError(Exception):
    """Base class of every error the client raises."""


class IemDcrConnectionError(IemDcrError):
    """The meter could not be reached, or the answer was cut off on the wire."""


class IemDcrTimeoutError(IemDcrConnectionError):
    """No complete answer arrived within the request timeout.

    A timeout is a connection problem for callers that do not care about the
    difference, hence the subclass.
    """


class IemDcrRefusedError(IemDcrError):
    """The meter answered with an HTTP status other than 200.

    The meter signals every refusal this way and carries no reason in the body,
    so the status and the endpoint are all there is to go on: for example an
    already written gateway configuration, or ending a transaction on an idle
    meter.
    """

    def __init__(self, status: int, endpoint: str = "") -> None:
        """Keep the status and the endpoint for callers that branch on them."""
        where = f"{endpoint}: " if endpoint else ""
        super().__init__(f"{where}refused with HTTP status {status}")
        self.status = status
        self.endpoint = endpoint


class IemDcrResponseError(IemDcrError):
    """The meter answered 200 with a body the client cannot use.

    The message names the endpoint and the offending field, for example
    ``metervalue: RD[2].WV: expected a decimal string, got 12``.
    """

    def __init__(
        self, problem: str, *, endpoint: str = "", field: str | None = None
    ) -> None:
        """Build the message from the endpoint, the field and the problem."""
        parts = [part for part in (endpoint, field) if part]
        super().__init__(": ".join([*parts, problem]))
        self.problem = problem
        self.endpoint = endpoint
        self.field = field
