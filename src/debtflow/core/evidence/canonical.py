"""Canonical JSON: one byte string per value, so a leaf hash is reproducible anywhere.

The rules (``docs/evidence.md`` states them for implementers in other languages):

* UTF-8 without BOM; no whitespace between tokens.
* Objects: keys are strings, unique, sorted by Unicode code point; ``{"a":1,"b":2}``.
* Arrays keep their order: ``[1,2]``.
* Strings: ``"`` and ``\\`` are escaped as ``\\"`` and ``\\\\``; U+0008, U+0009, U+000A,
  U+000C, U+000D as ``\\b \\t \\n \\f \\r``; the other characters below U+0020 as
  ``\\u00xx`` (lowercase hex); every other character, including non-ASCII, is written as its
  UTF-8 bytes. Lone surrogates are rejected. No Unicode normalisation is applied.
* Numbers: integers only, in ``[-2**63, 2**63)``, in decimal without leading zeros or ``+``.
  Floats (including NaN and infinities) and ``Decimal`` are rejected: money is integer fen.
* ``true``, ``false``, ``null``.
* On encoding, an aware ``datetime`` becomes the string ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in
  UTC (always six fraction digits); a naive ``datetime`` is rejected; a ``date`` becomes
  ``YYYY-MM-DD``.

Only the standard library is imported (the offline verifier uses this module).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from json.encoder import encode_basestring

INT_MIN = -(2**63)
INT_MAX = 2**63 - 1
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z\Z")


class CanonicalJsonError(ValueError):
    """A value cannot be written as canonical JSON, or bytes are not canonical JSON."""


def format_timestamp(moment: datetime) -> str:
    """An aware datetime as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC."""
    if not isinstance(moment, datetime):
        raise CanonicalJsonError(f"expected a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise CanonicalJsonError(f"datetime {moment.isoformat()} has no time zone")
    utc = moment.astimezone(UTC)
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T"
        f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}.{utc.microsecond:06d}Z"
    )


def parse_timestamp(text: str) -> datetime:
    """The inverse of :func:`format_timestamp`; anything else is rejected."""
    if not isinstance(text, str) or not _TIMESTAMP.match(text):
        raise CanonicalJsonError(f"{text!r} is not a UTC timestamp YYYY-MM-DDTHH:MM:SS.ffffffZ")
    try:
        parsed = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError as exc:
        raise CanonicalJsonError(f"{text!r} is not a valid date and time") from exc
    return parsed.replace(tzinfo=UTC)


def _encode_string(text: str, out: list[str]) -> None:
    # The stdlib's escaper for ensure_ascii=False: exactly the escapes documented above.
    out.append(encode_basestring(text))


def _encode(value: object, out: list[str], depth: int) -> None:
    if depth > 64:
        raise CanonicalJsonError("value is nested more than 64 levels deep")
    exact = type(value)  # fast paths for the plain types; subclasses take the general path
    if exact is str and isinstance(value, str):
        out.append(encode_basestring(value))
        return
    if exact is int and isinstance(value, int) and INT_MIN <= value <= INT_MAX:
        out.append(int.__repr__(value))
        return
    if exact is dict and isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise CanonicalJsonError(f"object key {key!r} is not a string")
        out.append("{")
        for position, key in enumerate(sorted(value)):
            if position:
                out.append(",")
            out.append(encode_basestring(key))
            out.append(":")
            _encode(value[key], out, depth + 1)
        out.append("}")
        return
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        if not INT_MIN <= value <= INT_MAX:
            raise CanonicalJsonError(f"integer {value} is outside the signed 64-bit range")
        out.append(str(int(value)))
    elif isinstance(value, float):
        raise CanonicalJsonError(f"float {value!r} is not allowed: use integers (money in fen)")
    elif isinstance(value, str):
        _encode_string(value, out)
    elif isinstance(value, datetime):
        _encode_string(format_timestamp(value), out)
    elif isinstance(value, date):
        _encode_string(value.isoformat(), out)
    elif isinstance(value, Mapping):
        keys = list(value.keys())
        for key in keys:
            if not isinstance(key, str):
                raise CanonicalJsonError(f"object key {key!r} is not a string")
        out.append("{")
        for position, key in enumerate(sorted(keys)):
            if position:
                out.append(",")
            _encode_string(key, out)
            out.append(":")
            _encode(value[key], out, depth + 1)
        out.append("}")
    elif isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        out.append("[")
        for position, item in enumerate(value):
            if position:
                out.append(",")
            _encode(item, out, depth + 1)
        out.append("]")
    else:
        raise CanonicalJsonError(f"{type(value).__name__} values cannot be canonical JSON")


def canonical_json(value: object) -> bytes:
    """The canonical JSON bytes of ``value`` (dict, list, str, int, bool, None, datetime)."""
    out: list[str] = []
    _encode(value, out, 0)
    try:
        return "".join(out).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CanonicalJsonError("a string contains a lone surrogate") from exc


def _reject_float(text: str) -> object:
    raise CanonicalJsonError(f"number {text} is not an integer")


def _reject_constant(text: str) -> object:
    raise CanonicalJsonError(f"{text} is not allowed")


def _unique_pairs(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise CanonicalJsonError(f"duplicate key {key!r}")
        result[key] = value
    return result


def parse_canonical_json(raw: bytes) -> object:
    """Parse bytes that must be canonical JSON; raise :class:`CanonicalJsonError` otherwise.

    Timestamps stay strings (JSON has no time type); use :func:`parse_timestamp`.
    """
    if not isinstance(raw, bytes):
        raise CanonicalJsonError("canonical JSON must be given as bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CanonicalJsonError(f"not UTF-8 (byte {exc.start})") from exc
    try:
        value: object = json.loads(
            text,
            parse_float=_reject_float,
            parse_constant=_reject_constant,
            object_pairs_hook=_unique_pairs,
        )
    except CanonicalJsonError:
        raise
    except (ValueError, RecursionError) as exc:
        raise CanonicalJsonError(f"not valid JSON: {exc}") from exc
    if canonical_json(value) != raw:
        raise CanonicalJsonError("valid JSON but not in canonical form")
    return value
