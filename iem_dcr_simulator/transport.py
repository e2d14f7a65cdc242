"""Transport modes: the ways the simulated meter's HTTP server can behave.

`aiohttp` is the simulator's own server. Every other mode is served by a front
written without aiohttp (`front.py`), each with one way of speaking HTTP that a
small embedded server might have, so that a client cannot lean on what it shares
with the simulator's server.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Transport(StrEnum):
    """How the simulated meter speaks HTTP."""

    AIOHTTP = "aiohttp"
    CLOSE_SILENTLY = "close_silently"
    IDLE_DROP = "idle_drop"
    HTTP10 = "http10"
    CLOSE_DELIMITED = "close_delimited"
    CHUNKED = "chunked"
    TEXT_PLAIN = "text_plain"
    SLOW_BODY = "slow_body"
    NO_CONTINUE = "no_continue"


DESCRIPTIONS = {
    Transport.AIOHTTP: "the simulator's own aiohttp server (default)",
    Transport.CLOSE_SILENTLY: "closes the connection after each answer without "
    "sending Connection: close",
    Transport.IDLE_DROP: "advertises keep-alive on every answer, then drops a "
    "connection idle for --idle-timeout seconds",
    Transport.HTTP10: "answers as HTTP/1.0 and closes after each answer",
    Transport.CLOSE_DELIMITED: "sends bodies without Content-Length, ended by "
    "closing the connection",
    Transport.CHUNKED: "sends every body with Transfer-Encoding: chunked",
    Transport.TEXT_PLAIN: "serves the meter's JSON as text/plain",
    Transport.SLOW_BODY: "sends the head at once and the body --body-delay "
    "seconds later",
    Transport.NO_CONTINUE: "never answers Expect: 100-continue; waits for the "
    "body instead",
}


class Framing(StrEnum):
    """How a body is delimited on the wire."""

    LENGTH = "length"  # Content-Length
    CHUNKED = "chunked"  # Transfer-Encoding: chunked
    CLOSE = "close"  # the end of the connection


class Persistence(StrEnum):
    """What happens to a connection after an answer."""

    COMPLIANT = "compliant"  # kept unless the client asks to close; says so
    CLOSE_SILENTLY = "close_silently"  # always closed, without saying so
    CLOSE_ANNOUNCED = "close_announced"  # always closed, with Connection: close
    KEEP_ALIVE_THEN_DROP = "keep_alive_then_drop"  # promised, then dropped when idle


@dataclass(frozen=True, slots=True)
class Behaviour:
    """What the front does in one mode."""

    version: str = "HTTP/1.1"
    framing: Framing = Framing.LENGTH
    persistence: Persistence = Persistence.COMPLIANT
    answers_continue: bool = True
    json_as_text: bool = False
    delays_body: bool = False


BEHAVIOURS = {
    Transport.CLOSE_SILENTLY: Behaviour(persistence=Persistence.CLOSE_SILENTLY),
    Transport.IDLE_DROP: Behaviour(persistence=Persistence.KEEP_ALIVE_THEN_DROP),
    # An HTTP/1.0 server knows neither persistent connections nor 100 Continue.
    Transport.HTTP10: Behaviour(
        version="HTTP/1.0",
        persistence=Persistence.CLOSE_SILENTLY,
        answers_continue=False,
    ),
    Transport.CLOSE_DELIMITED: Behaviour(
        framing=Framing.CLOSE, persistence=Persistence.CLOSE_ANNOUNCED
    ),
    Transport.CHUNKED: Behaviour(framing=Framing.CHUNKED),
    Transport.TEXT_PLAIN: Behaviour(json_as_text=True),
    Transport.SLOW_BODY: Behaviour(delays_body=True),
    Transport.NO_CONTINUE: Behaviour(answers_continue=False),
}
