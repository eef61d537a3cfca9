"""Shapes of what callers send, shared by the JSON API and the pages.

Dates and moments are limited to the years 1970–2999: beyond them the arithmetic the
services do (a decision's expiry, a day's end, the UTC a database stores) overflows
Python's dates, and no collection work is planned there. Free text has a length limit, as
the forms do, so one request cannot store megabytes.

A page's filter form sends a field left empty, or its "all" choice, as ``name=``: an
optional query value of a page is declared with ``EmptyIsAbsent`` so that an empty one reads
as the parameter's default (``status: Annotated[CaseStatus | None, EmptyIsAbsent] = None``),
whatever its type — an enum, a number, a date.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field
from pydantic_core import PydanticUseDefault

EARLIEST_YEAR, LATEST_YEAR = 1970, 2999
NOTE_MAX = 2000  # a contact note, a script read out (the workbench form and case notes: the same)
REASON_MAX = 2000  # a written reason: override, restriction


def _within_years(value: date) -> date:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"must be within the years {EARLIEST_YEAR}–{LATEST_YEAR}")
    return value


def _moment_within_years(value: datetime) -> datetime:
    _within_years(value)
    return value


#: an aware date and time within the years 1970–2999
Moment = Annotated[AwareDatetime, AfterValidator(_moment_within_years)]
#: a calendar day within the years 1970–2999
Day = Annotated[date, AfterValidator(_within_years)]
NoteText = Annotated[str, Field(max_length=NOTE_MAX)]
Reason = Annotated[str, Field(min_length=1, max_length=REASON_MAX)]


def _empty_is_absent(value: object) -> object:
    if isinstance(value, str) and not value.strip():
        raise PydanticUseDefault()
    return value


#: an optional query value of a page: empty (``?status=``, what a filter form sends for
#: "all" or a blank field) reads as the parameter's default, as if it were not sent; any
#: other value is validated as declared
EmptyIsAbsent = BeforeValidator(_empty_is_absent)
