"""The dashboard service on known rows → hand-computed figures (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from debtflow.auth.scoping import NotPermitted
from debtflow.core.errors import InvalidInput
from debtflow.core.report.figures import Dimension
from debtflow.models import Payment, Role
from debtflow.report import service
from debtflow.report.schemas import DashboardRead
from report.book import SH, SINCE, UNTIL, Book, at, viewer


@pytest.fixture
def book(session: Session) -> Book:
    return Book(session)


def test_overall_figures_hand_computed(session: Session, book: Book) -> None:
    board = service.dashboard(
        session, user=viewer(Role.OPERATIONS_MANAGER), since=SINCE, until=UNTIL
    )
    f = board.figures.overall
    # collected in November 30,000 + 10,000; placed = owed now + applied so far:
    # (100,000 + 30,000 + 20,000) + (200,000 + 10,000) + 50,000
    assert (f.recovery.collected_fen, f.recovery.placed_fen) == (40_000, 410_000)
    assert f.recovery.basis_points == 976  # 975.6 bp
    assert (f.promise_kept.hits, f.promise_kept.trials) == (2, 3)
    assert f.promise_kept.low == pytest.approx(0.2077, abs=1e-4)
    assert f.compliance.decisions == 6
    assert (f.compliance.allowed, f.compliance.denied, f.compliance.overridden) == (4, 2, 1)
    assert f.compliance.allowed_rate.value == pytest.approx(4 / 6)
    assert (f.response.assignments, f.response.contacted) == (3, 2)
    assert f.response.median_minutes == pytest.approx(37.5)
    assert f.response.p90_minutes == pytest.approx(55.5)
    assert (f.match_accuracy.hits, f.match_accuracy.trials) == (2, 3)
    assert not board.empty


def test_breakdowns_hand_computed(session: Session, book: Book) -> None:
    board = service.dashboard(session, user=viewer(Role.ADMIN), since=SINCE, until=UNTIL)
    by_collector = {r.key: r.figures for r in board.figures.breakdowns[Dimension.COLLECTOR]}
    k1, k2 = by_collector[book.k1.id], by_collector[book.k2.id]
    assert (k1.recovery.collected_fen, k1.recovery.placed_fen) == (30_000, 150_000)
    assert k1.recovery.value == pytest.approx(0.2)
    assert (k1.promise_kept.hits, k1.promise_kept.trials) == (1, 2)
    assert (k1.compliance.allowed, k1.compliance.denied, k1.compliance.overridden) == (3, 1, 1)
    assert (k1.response.assignments, k1.response.median_minutes) == (1, pytest.approx(15.0))
    assert (k2.recovery.collected_fen, k2.recovery.placed_fen) == (10_000, 210_000)
    assert (k2.promise_kept.hits, k2.promise_kept.trials) == (1, 1)
    assert (k2.compliance.allowed, k2.compliance.denied, k2.compliance.overridden) == (1, 1, 0)
    assert (k2.response.assignments, k2.response.contacted) == (2, 1)
    assert k2.response.median_minutes == pytest.approx(60.0)
    assert (k2.match_accuracy.hits, k2.match_accuracy.trials) == (1, 2)
    assert by_collector[None].recovery.placed_fen == 50_000
    assert board.labels[Dimension.COLLECTOR][book.k1.id] == "张三"

    by_segment = {r.key: r.figures for r in board.figures.breakdowns[Dimension.SEGMENT]}
    assert set(by_segment) == {"potential", "hardship", None}
    assert by_segment["potential"].recovery.collected_fen == 30_000
    # segments follow the case: k2's assignment of case A counts for "potential"
    assert by_segment["potential"].response.assignments == 2
    by_creditor = {r.key: r.figures for r in board.figures.breakdowns[Dimension.CREDITOR]}
    assert by_creditor[book.c.creditor.id].recovery.value == 0.0
    assert board.labels[Dimension.CREDITOR][book.a.creditor.id] == book.a.creditor.name


def test_roll_rates_hand_computed(session: Session, book: Book) -> None:
    board = service.dashboard(session, user=viewer(Role.ADMIN), since=SINCE, until=UNTIL)
    (november,) = board.rolls
    assert november.month == date(2026, 11, 1)
    assert november.counts == {("M1", "M2"): 1, ("M1", "M1"): 1, ("M2", "M1"): 1}
    assert november.roll_rate("M1") == pytest.approx(0.5)
    assert november.cure_rate("M2") == 1.0
    daily = {d.day: d.fen for d in board.daily_collected}
    assert len(daily) == 30 and daily[date(2026, 11, 5)] == 30_000
    assert daily[date(2026, 11, 30)] == 10_000 and daily[date(2026, 11, 1)] == 0


def test_one_creditor_only(session: Session, book: Book) -> None:
    board = service.dashboard(
        session,
        user=viewer(Role.COMPLIANCE_AUDITOR),
        since=SINCE,
        until=UNTIL,
        creditor_id=book.a.creditor.id,
    )
    f = board.figures.overall
    assert (f.recovery.collected_fen, f.recovery.placed_fen) == (30_000, 150_000)
    assert f.compliance.decisions == 4
    assert (f.response.assignments, f.response.contacted) == (2, 1)
    assert board.rolls[0].counts == {("M1", "M2"): 1}
    assert [r.key for r in board.figures.breakdowns[Dimension.CREDITOR]] == [book.a.creditor.id]
    read = DashboardRead.of(board)
    assert read.overall.recovery_bp == 2000
    assert read.by_collector[0].label in ("张三", "李四")


def test_a_shorter_period_excludes_what_fell_outside(session: Session, book: Book) -> None:
    board = service.dashboard(session, user=viewer(Role.ADMIN), since=at(3, 0), until=at(4, 0))
    f = board.figures.overall
    assert f.recovery.collected_fen == 0
    assert f.compliance.decisions == 2  # b's deny at 23:00 and allow at 10:50
    assert (f.response.assignments, f.response.median_minutes) == (1, pytest.approx(60.0))
    assert f.promise_kept.trials == 0 and f.promise_kept.value is None


def test_empty_database_gives_empty_figures(session: Session) -> None:
    board = service.dashboard(session, user=viewer(Role.ADMIN), since=SINCE, until=UNTIL)
    assert board.empty
    assert board.figures.overall.recovery.value is None
    assert all(not rows for rows in board.figures.breakdowns.values())
    assert DashboardRead.of(board).overall.match_accuracy.value is None


@pytest.mark.parametrize(
    "role",
    [Role.ONLINE_AGENT, Role.FIELD_AGENT, Role.PART_TIME_COLLECTOR, Role.PARTNER, Role.DEBTOR],
)
def test_other_roles_are_refused(session: Session, role: Role) -> None:
    with pytest.raises(NotPermitted):
        service.dashboard(session, user=viewer(role), since=SINCE, until=UNTIL)


def test_an_inactive_manager_is_refused(session: Session) -> None:
    user = viewer(Role.OPERATIONS_MANAGER)
    user.active = False
    with pytest.raises(NotPermitted):
        service.dashboard(session, user=user, since=SINCE, until=UNTIL)


def test_bad_periods_and_unknown_creditor(session: Session) -> None:
    admin = viewer(Role.ADMIN)
    for since, until in (
        (UNTIL, SINCE),
        (SINCE, SINCE),
        (SINCE, SINCE + timedelta(days=400)),
        (SINCE.replace(tzinfo=None), UNTIL),
        (datetime(1, 1, 1, tzinfo=SH), UNTIL),
    ):
        with pytest.raises(InvalidInput):
            service.dashboard(session, user=admin, since=since, until=until)
    with pytest.raises(service.CreditorNotFound):
        service.dashboard(session, user=admin, since=SINCE, until=UNTIL, creditor_id=999_999)


def test_an_overpayment_is_not_recovery(session: Session, book: Book) -> None:
    """What a debtor paid beyond the debt is money to refund: it counts neither as collected
    nor as placed, so recovery stays within 100 %."""
    session.add(
        Payment(
            account_id=book.b.account.id,
            case_id=book.b.case.id,
            amount_fen=15_000,
            overpaid_fen=5_000,
            paid_at=at(12, 9),
            reference="REPORT-OVER",
            to_principal_fen=10_000,
        )
    )
    session.flush()
    board = service.dashboard(
        session, user=viewer(Role.OPERATIONS_MANAGER), since=SINCE, until=UNTIL
    )
    recovery = board.figures.overall.recovery
    assert (recovery.collected_fen, recovery.placed_fen) == (50_000, 420_000)
