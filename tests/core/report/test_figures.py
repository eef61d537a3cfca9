"""Dashboard figures and their breakdowns from tallies — no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from debtflow.core.report.figures import (
    AssignmentSpan,
    Dimension,
    GateTally,
    PromiseTally,
    RecoveryTally,
    Slice,
    compute_figures,
    first_contact,
)
from debtflow.core.report.rates import ReportInputError

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
A = Slice(collector_id=1, segment="potential", creditor_id=10)
B = Slice(collector_id=2, segment="potential", creditor_id=10)
C = Slice(collector_id=None, segment=None, creditor_id=11)


def test_first_contact_is_within_the_assignment() -> None:
    span = AssignmentSpan(A, 5, T0, True, ends_at=T0 + timedelta(hours=5))
    contacts = [T0 - timedelta(hours=1), T0 + timedelta(hours=2), T0 + timedelta(hours=3)]
    assert first_contact(span, contacts) == T0 + timedelta(hours=2)
    assert first_contact(span, [T0]) == T0  # at the very moment counts
    assert first_contact(span, [T0 + timedelta(hours=5)]) is None  # the next assignment's
    assert first_contact(span, [T0 - timedelta(minutes=1)]) is None
    with pytest.raises(ReportInputError):
        first_contact(AssignmentSpan(A, 5, T0.replace(tzinfo=None), True), contacts)


def test_overall_and_breakdowns_hand_computed() -> None:
    figures = compute_figures(
        recoveries=[
            RecoveryTally(A, collected_fen=30_000, placed_fen=100_000),
            RecoveryTally(B, collected_fen=10_000, placed_fen=300_000),
            RecoveryTally(C, collected_fen=0, placed_fen=100_000),
        ],
        promises=[PromiseTally(A, kept=3, broken=1), PromiseTally(B, kept=0, broken=2)],
        gate=[
            GateTally(A, allowed=8, denied=2, overridden=1),
            GateTally(C, allowed=0, denied=1, overridden=0),
        ],
        assignments=[
            AssignmentSpan(A, 1, T0, True),
            AssignmentSpan(A, 2, T0, False),
            AssignmentSpan(B, 3, T0, True, ends_at=T0 + timedelta(minutes=30)),
        ],
        contacts={
            1: [T0 + timedelta(minutes=10)],
            2: [T0 + timedelta(minutes=40)],
            3: [T0 + timedelta(minutes=45)],  # after case 3 was reassigned: not B's
        },
    )
    overall = figures.overall
    assert (overall.recovery.collected_fen, overall.recovery.placed_fen) == (40_000, 500_000)
    assert overall.recovery.basis_points == 800
    assert (overall.promise_kept.hits, overall.promise_kept.trials) == (3, 6)
    assert overall.compliance.decisions == 11
    assert (overall.compliance.allowed, overall.compliance.denied) == (8, 3)
    assert overall.compliance.overridden == 1
    assert overall.compliance.allowed_rate.value == pytest.approx(8 / 11)
    assert overall.response.assignments == 3 and overall.response.contacted == 2
    assert overall.response.median_minutes == pytest.approx(25.0)  # of 10 and 40
    assert overall.response.p90_minutes == pytest.approx(37.0)  # 10 + 0.9 * 30
    assert (overall.match_accuracy.hits, overall.match_accuracy.trials) == (2, 3)

    by_collector = {r.key: r.figures for r in figures.breakdowns[Dimension.COLLECTOR]}
    assert list(by_collector) == [1, 2, None]  # ordered, unassigned last
    assert by_collector[1].recovery.basis_points == 3000
    assert by_collector[2].recovery.basis_points == 333
    assert by_collector[2].promise_kept.value == 0.0
    assert by_collector[2].response.contacted == 0
    assert by_collector[2].response.median_minutes is None
    assert by_collector[None].compliance.denied == 1
    assert by_collector[None].promise_kept.value is None

    by_segment = {r.key: r.figures for r in figures.breakdowns[Dimension.SEGMENT]}
    assert by_segment["potential"].promise_kept.hits == 3
    assert by_segment["potential"].promise_kept.trials == 6
    by_creditor = {r.key: r.figures for r in figures.breakdowns[Dimension.CREDITOR]}
    assert by_creditor[10].recovery.placed_fen == 400_000
    assert by_creditor[11].recovery.value == 0.0


def test_nothing_gives_empty_figures() -> None:
    figures = compute_figures(recoveries=[], promises=[], gate=[], assignments=[], contacts={})
    assert figures.overall.empty
    assert figures.overall.recovery.value is None
    assert figures.overall.match_accuracy.value is None
    assert all(rows == [] for rows in figures.breakdowns.values())


def test_bad_tallies_are_refused() -> None:
    with pytest.raises(ReportInputError):
        compute_figures(
            recoveries=[],
            promises=[],
            gate=[GateTally(A, allowed=1, denied=1, overridden=2)],
            assignments=[],
            contacts={},
        )
    with pytest.raises(ReportInputError):
        compute_figures(
            recoveries=[RecoveryTally(A, collected_fen=-5, placed_fen=10)],
            promises=[],
            gate=[],
            assignments=[],
            contacts={},
        )
