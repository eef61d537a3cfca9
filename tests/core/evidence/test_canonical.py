"""Canonical JSON: exact bytes, and rejection of anything ambiguous."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from debtflow.core.evidence.canonical import (
    CanonicalJsonError,
    canonical_json,
    format_timestamp,
    parse_canonical_json,
    parse_timestamp,
)

SHANGHAI = timezone(timedelta(hours=8))


def test_keys_sorted_no_whitespace_utf8_literal() -> None:
    value = {"b": [1, True, None], "a": "还款 ok", "é": {"z": -3, "y": False}}
    assert canonical_json(value) == (
        '{"a":"还款 ok","b":[1,true,null],"é":{"y":false,"z":-3}}'.encode()
    )


def test_keys_sort_by_code_point_not_locale() -> None:
    assert canonical_json({"b": 1, "B": 2, "a": 3, "中": 4, "~": 5}) == (
        '{"B":2,"a":3,"b":1,"~":5,"中":4}'.encode()
    )


def test_string_escapes() -> None:
    assert (
        canonical_json('"\\\n\t\r\b\f\x01\x1f\x7f/')
        == b'"\\"\\\\\\n\\t\\r\\b\\f\\u0001\\u001f\x7f/"'
    )


def test_times_become_utc_with_microseconds() -> None:
    moment = datetime(2026, 11, 29, 11, 0, 5, 42, tzinfo=SHANGHAI)
    assert canonical_json({"t": moment}) == b'{"t":"2026-11-29T03:00:05.000042Z"}'
    assert parse_timestamp(format_timestamp(moment)) == moment
    assert canonical_json(date(2026, 1, 2)) == b'"2026-01-02"'


@pytest.mark.parametrize(
    "value",
    [
        1.5,
        1.0,
        math.nan,
        math.inf,
        Decimal("1.00"),
        2**63,
        -(2**63) - 1,
        datetime(2026, 1, 1),
        b"bytes",
        {1: "non-string key"},
        {"nested": [{"x": 0.1}]},
        "\ud800",
        {1, 2},
    ],
)
def test_ambiguous_values_are_rejected(value: object) -> None:
    with pytest.raises(CanonicalJsonError):
        canonical_json(value)


def test_integer_range_limits_are_inclusive() -> None:
    assert canonical_json([2**63 - 1, -(2**63)]) == b"[9223372036854775807,-9223372036854775808]"


@pytest.mark.parametrize(
    "raw",
    [
        b'{"b":1,"a":2}',
        b'{"a": 1}',
        b'{"a":1,"a":1}',
        b'{"a":1.0}',
        b'{"a":1e3}',
        b'{"a":NaN}',
        b'{"a":-0}',
        b"\xef\xbb\xbf{}",
        b'"\xff"',
        b'"\\u00e9"',
        b'"\\/"',
        b"[1,]",
        b" {}",
        b"",
    ],
)
def test_non_canonical_bytes_are_rejected(raw: bytes) -> None:
    with pytest.raises(CanonicalJsonError):
        parse_canonical_json(raw)


@pytest.mark.parametrize(
    "text",
    ["2026-11-29T03:00:00Z", "2026-11-29T03:00:00.000000+00:00", "2026-02-30T00:00:00.000000Z"],
)
def test_only_the_exact_timestamp_form_parses(text: str) -> None:
    with pytest.raises(CanonicalJsonError):
        parse_timestamp(text)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.text(st.characters(exclude_categories=("Cs",))),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.text(st.characters(exclude_categories=("Cs",)), max_size=5), inner, max_size=4
        )
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_round_trip_is_identity_on_bytes(value: object) -> None:
    raw = canonical_json(value)
    assert parse_canonical_json(raw) == value
    assert canonical_json(parse_canonical_json(raw)) == raw
