"""Read an OCMF section as JSON, as leniently as the Transparenzsoftware does.

The Transparenzsoftware reads sections with Gson, which keeps the last of two
values under one key and takes a number written `0100.000` as its text. Both
are accepted here and reported as deviations. Clean JSON takes the fast path
through the standard library; anything else goes through a small reader that
knows where in the document it is, so a deviation can be named by its path.
"""

from __future__ import annotations

from dataclasses import dataclass
import json
import re
from typing import Any

from .errors import quoted

DUPLICATE_KEY = "duplicate_key"
LEADING_ZERO = "leading_zero"

_WHITESPACE = re.compile(r"[ \t\n\r]*")
# JSON's number grammar, with any digits before the point (JSON allows "0" or
# a digit other than 0 first).
_NUMBER = re.compile(r"-?([0-9]+)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_]{1,20}")
_LITERALS = {"true": True, "false": False, "null": None}
_STRING_DECODER = json.JSONDecoder()


@dataclass(frozen=True, slots=True)
class JsonNumber:
    """A JSON number as the sender wrote it (the spec forbids reformatting)."""

    literal: str


@dataclass(frozen=True, slots=True)
class JsonDeviation:
    """Something the reader accepted although JSON does not allow it."""

    code: str
    path: str
    detail: str


class JsonSyntaxError(Exception):
    """Text that no lenient reading turns into a JSON value."""

    def __init__(self, message: str, position: int) -> None:
        """Keep the message and the 0-based position it refers to."""
        super().__init__(message)
        self.message = message
        self.position = position


class _NotCleanError(Exception):
    """JSON the fast path does not take (duplicate key, NaN)."""


def read_json(text: str) -> tuple[Any, tuple[JsonDeviation, ...]]:
    """Return the value `text` holds and what in it departs from JSON.

    Numbers come back as JsonNumber. Raises JsonSyntaxError when the text is
    no JSON value even read leniently, RecursionError when it nests too deeply.
    """
    try:
        value = json.loads(
            text,
            parse_float=JsonNumber,
            parse_int=JsonNumber,
            parse_constant=_not_clean,
            object_pairs_hook=_unique_keys,
        )
    except (json.JSONDecodeError, _NotCleanError):
        reader = _LenientReader(text)
        return reader.document(), tuple(reader.deviations)
    return value, ()


def path_name(path: str, key: str) -> str:
    """Return the path of member `key` under `path`, quoting an odd key."""
    name = key if _PLAIN_KEY.fullmatch(key) else quoted(key)
    return f"{path} {name}" if path else name


def _not_clean(name: str) -> Any:
    raise _NotCleanError(name)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _NotCleanError("duplicate key")
    return result


class _LenientReader:
    """Recursive descent over one JSON text, recording each deviation."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._position = 0
        self.deviations: list[JsonDeviation] = []

    def document(self) -> Any:
        value = self._value("")
        self._skip_whitespace()
        if self._position != len(self._text):
            raise JsonSyntaxError("Extra data", self._position)
        return value

    def _skip_whitespace(self) -> None:
        match = _WHITESPACE.match(self._text, self._position)
        assert match is not None  # the pattern also matches nothing
        self._position = match.end()

    def _value(self, path: str) -> Any:
        self._skip_whitespace()
        text, position = self._text, self._position
        if position >= len(text):
            raise JsonSyntaxError("Expecting value", position)
        first = text[position]
        if first == "{":
            return self._object(path)
        if first == "[":
            return self._array(path)
        if first == '"':
            return self._string()
        for word, value in _LITERALS.items():
            if text.startswith(word, position):
                self._position += len(word)
                return value
        match = _NUMBER.match(text, position)
        if match is None:
            raise JsonSyntaxError("Expecting value", position)
        self._position = match.end()
        digits = match.group(1)
        if len(digits) > 1 and digits[0] == "0":
            self.deviations.append(
                JsonDeviation(LEADING_ZERO, path, "number written with a leading zero")
            )
        return JsonNumber(match.group(0))

    def _string(self) -> str:
        try:
            value, end = _STRING_DECODER.raw_decode(self._text, self._position)
        except json.JSONDecodeError as err:
            raise JsonSyntaxError(err.msg, err.pos) from None
        self._position = end
        assert isinstance(value, str)
        return value

    def _object(self, path: str) -> dict[str, Any]:
        self._position += 1  # "{"
        result: dict[str, Any] = {}
        if self._next_is("}"):
            return result
        while True:
            self._skip_whitespace()
            if not self._text.startswith('"', self._position):
                raise JsonSyntaxError(
                    "Expecting property name enclosed in double quotes",
                    self._position,
                )
            key = self._string()
            if not self._next_is(":"):
                raise JsonSyntaxError("Expecting ':' delimiter", self._position)
            member = path_name(path, key)
            value = self._value(member)
            if key in result:
                self.deviations.append(
                    JsonDeviation(
                        DUPLICATE_KEY,
                        path,
                        f"key {quoted(key)} appears twice; the last value counts",
                    )
                )
            result[key] = value
            if self._next_is("}"):
                return result
            if not self._next_is(","):
                raise JsonSyntaxError("Expecting ',' delimiter", self._position)

    def _array(self, path: str) -> list[Any]:
        self._position += 1  # "["
        result: list[Any] = []
        if self._next_is("]"):
            return result
        while True:
            result.append(self._value(f"{path}[{len(result)}]"))
            if self._next_is("]"):
                return result
            if not self._next_is(","):
                raise JsonSyntaxError("Expecting ',' delimiter", self._position)

    def _next_is(self, character: str) -> bool:
        """Skip whitespace; consume `character` if it comes next."""
        self._skip_whitespace()
        if self._text.startswith(character, self._position):
            self._position += 1
            return True
        return False
