"""The reasons the platform itself writes on a case's status change, and how to read them back.

A status change stores its reason as text (``case_status_change.reason``, and the same text in
the evidence log), in English, for the log and for ``debtflow case`` — "promise 69",
"payment pi1-1". The writers build that text here, and :func:`read` recognises it again, so a
page can show it in the visitor's language (``status_reason.<kind>`` in the catalogs, with
the parts as ``{name}`` fields) while what is stored stays as it was. A reason a person typed
(a hold, a manual move) is not recognised and is shown as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date


def promise_made(promise_id: int) -> str:
    return f"promise {promise_id}"


def promise_kept(promise_id: int) -> str:
    return f"promise {promise_id} kept"


def promise_broken(promise_id: int) -> str:
    return f"promise {promise_id} broken"


def payment_booked(reference: str) -> str:
    return f"payment {reference}"


def nothing_outstanding(as_of: date) -> str:
    return f"nothing outstanding on {as_of}"


def plan_paid(plan_id: int, waived_fen: int) -> str:
    return f"plan {plan_id} paid in full, relief of {waived_fen} fen waived"


def plan_broken(
    plan_id: int, *, instalment: int, due_on: date, days: int, owed_fen: int, on: date
) -> str:
    """``instalment`` 0 is the down payment; otherwise the instalment as the debtor counts
    it (1 = the first after the grace months, as the portal and the agreement number it)."""
    what = "the down payment" if instalment == 0 else f"instalment {instalment}"
    return (
        f"plan {plan_id} broken: {what} due {due_on} more than "
        f"{days} days late ({owed_fen} fen unpaid on {on})"
    )


@dataclass(frozen=True)
class ReadReason:
    """A recognised reason: its ``kind`` (the catalog key is ``status_reason.<kind>``) and its
    parts; ``fen`` names the parts that are amounts in fen."""

    kind: str
    parts: dict[str, str]
    fen: tuple[str, ...] = ()


_DATE = r"\d{4}-\d{2}-\d{2}"
_PATTERNS: tuple[tuple[str, re.Pattern[str], tuple[str, ...]], ...] = (
    ("promise_made", re.compile(r"promise (?P<promise>\d+)"), ()),
    ("promise_kept", re.compile(r"promise (?P<promise>\d+) kept"), ()),
    ("promise_broken", re.compile(r"promise (?P<promise>\d+) broken"), ()),
    # a reference has no spaces: "payment plan agreed by phone" is a person's words
    ("payment", re.compile(r"payment (?P<reference>\S+)"), ()),
    ("nothing_outstanding", re.compile(rf"nothing outstanding on (?P<on>{_DATE})"), ()),
    (
        "plan_paid",
        re.compile(r"plan (?P<plan>\d+) paid in full, relief of (?P<waived>\d+) fen waived"),
        ("waived",),
    ),
    (
        "plan_broken_down_payment",
        re.compile(
            rf"plan (?P<plan>\d+) broken: the down payment due (?P<due>{_DATE}) more than "
            rf"(?P<days>\d+) days late \((?P<owed>\d+) fen unpaid on (?P<on>{_DATE})\)"
        ),
        ("owed",),
    ),
    (
        "plan_broken_instalment",
        re.compile(
            rf"plan (?P<plan>\d+) broken: instalment (?P<number>\d+) due (?P<due>{_DATE}) "
            rf"more than (?P<days>\d+) days late \((?P<owed>\d+) fen unpaid on (?P<on>{_DATE})\)"
        ),
        ("owed",),
    ),
)


def read(reason: str | None) -> ReadReason | None:
    """The reason as one the platform writes, or None (a person's words, or nothing)."""
    if not reason:
        return None
    for kind, pattern, fen in _PATTERNS:
        found = pattern.fullmatch(reason)
        if found:
            return ReadReason(kind, found.groupdict(), fen)
    return None


#: the actors the platform itself writes on a status change (a person's is the username);
#: the catalogs word them as ``actor.<name>``
SYSTEM_ACTORS = ("system", "nightly", "debtor portal", "demo")
