"""The reasons the platform writes on a status change read back as the same parts, so a page
can word them in its language; a person's words are not taken for one."""

from __future__ import annotations

from datetime import date

import pytest

from debtflow.core.case import reasons


@pytest.mark.parametrize(
    ("text", "kind", "parts"),
    [
        (reasons.promise_made(69), "promise_made", {"promise": "69"}),
        (reasons.promise_kept(7), "promise_kept", {"promise": "7"}),
        (reasons.promise_broken(7), "promise_broken", {"promise": "7"}),
        (reasons.payment_booked("pi1-1"), "payment", {"reference": "pi1-1"}),
        (reasons.payment_booked("DEMO-7-12"), "payment", {"reference": "DEMO-7-12"}),
        (
            reasons.nothing_outstanding(date(2026, 11, 3)),
            "nothing_outstanding",
            {"on": "2026-11-03"},
        ),
        (reasons.plan_paid(4, 12_345), "plan_paid", {"plan": "4", "waived": "12345"}),
        (
            reasons.plan_broken(
                4,
                instalment=0,
                due_on=date(2026, 10, 1),
                days=30,
                owed_fen=500,
                on=date(2026, 11, 2),
            ),
            "plan_broken_down_payment",
            {"plan": "4", "due": "2026-10-01", "days": "30", "owed": "500", "on": "2026-11-02"},
        ),
        (
            reasons.plan_broken(
                4,
                instalment=3,
                due_on=date(2026, 10, 1),
                days=30,
                owed_fen=500,
                on=date(2026, 11, 2),
            ),
            "plan_broken_instalment",
            {
                "plan": "4",
                "number": "3",
                "due": "2026-10-01",
                "days": "30",
                "owed": "500",
                "on": "2026-11-02",
            },
        ),
    ],
)
def test_a_reason_the_platform_writes_reads_back(text: str, kind: str, parts: dict) -> None:
    found = reasons.read(text)
    assert found is not None and (found.kind, found.parts) == (kind, parts)


def test_the_stored_text_is_what_it_always_was() -> None:
    """Status changes already stored (and their evidence leaves) keep reading the same."""
    assert reasons.promise_made(69) == "promise 69"
    assert reasons.payment_booked("pi1-1") == "payment pi1-1"
    assert reasons.plan_paid(2, 300) == "plan 2 paid in full, relief of 300 fen waived"


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "debtor asked for a pause",
        "promise to call back",
        "promise 69 maybe",
        "payment plan agreed by phone",
    ],
)
def test_a_persons_words_are_not_taken_for_a_platform_reason(text: str | None) -> None:
    assert reasons.read(text) is None
