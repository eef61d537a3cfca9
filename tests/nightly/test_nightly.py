"""The nightly cycle against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from debtflow.config import get_settings
from debtflow.core.case.lifecycle import CaseStatus
from debtflow.models import Account, BucketTransition, Case, PromiseToPay
from debtflow.models.enums import PromiseStatus
from debtflow.nightly import service as nightly
from debtflow.payment import service as payment_service
from debtflow.portfolio import service as portfolio_service
from debtflow.promise import service as promise_service
from factories import TODAY, make_creditor, portfolio_rows, write_portfolio

SHANGHAI = ZoneInfo("Asia/Shanghai")


def snapshot(session):
    accounts = session.execute(
        select(Account.id, Account.days_past_due, Account.bucket, Account.aged_on).order_by(
            Account.id
        )
    ).all()
    cases = session.execute(
        select(Case.id, Case.status, Case.bucket, Case.outstanding_fen).order_by(Case.id)
    ).all()
    transitions = session.scalar(select(func.count()).select_from(BucketTransition))
    promises = session.execute(select(PromiseToPay.id, PromiseToPay.status)).all()
    return accounts, cases, transitions, promises


@pytest.fixture
def portfolio(session, tmp_path):
    make_creditor(session)
    path = write_portfolio(tmp_path / "p.csv", portfolio_rows(count=40, seed=5))
    portfolio_service.import_portfolio(session, path=path, creditor_code="TESTBANK", today=TODAY)
    return session


def test_second_run_for_the_same_date_changes_nothing(portfolio):
    session = portfolio
    first = nightly.run(session, as_of=TODAY)
    assert first.changes > 0
    before = snapshot(session)
    second = nightly.run(session, as_of=TODAY)
    assert second.changes == 0
    assert snapshot(session) == before


def test_bucket_moves_are_recorded_as_transitions(portfolio):
    session = portfolio
    nightly.run(session, as_of=TODAY)
    account = session.scalars(
        select(Account).where(Account.days_past_due.between(20, 29)).limit(1)
    ).first()
    assert account is not None, "fixture portfolio should hold an M1 account"
    assert account.bucket == "M1"
    later = TODAY + timedelta(days=31 - account.days_past_due + 1)
    nightly.run(session, as_of=later, today=later)
    session.refresh(account)
    assert account.bucket == "M2"
    moves = session.scalars(
        select(BucketTransition)
        .where(BucketTransition.account_id == account.id)
        .order_by(BucketTransition.id)
    ).all()
    assert [(m.from_bucket, m.to_bucket) for m in moves] == [("M0", "M1"), ("M1", "M2")]
    assert moves[-1].as_of == later


def test_a_payment_cures_days_past_due(portfolio):
    session = portfolio
    nightly.run(session, as_of=TODAY)
    account = session.scalars(
        select(Account).where(Account.days_past_due > 0).order_by(Account.id).limit(1)
    ).one()
    payment_service.book(
        session,
        account_id=account.id,
        amount_fen=account.overdue_fen,
        paid_at=datetime(TODAY.year, TODAY.month, TODAY.day, 10, tzinfo=SHANGHAI),
        reference="T-cure",
    )
    report = nightly.run(session, as_of=TODAY)
    session.refresh(account)
    assert account.days_past_due == 0 and account.bucket == "M0"
    assert report.steps["age"]["transitions"] == 1


def test_promises_are_marked_kept_or_broken_and_cases_move(portfolio):
    session = portfolio
    nightly.run(session, as_of=TODAY)
    cases = session.scalars(select(Case).order_by(Case.id).limit(2)).all()
    made = TODAY - timedelta(days=10)
    kept = promise_service.record(
        session, case_id=cases[0].id, amount_fen=300_00, made_on=made, due=TODAY - timedelta(days=5)
    )
    broken = promise_service.record(
        session, case_id=cases[1].id, amount_fen=300_00, made_on=made, due=TODAY - timedelta(days=5)
    )
    account = session.scalars(select(Account).where(Account.case_id == cases[0].id)).first()
    payment_service.book(
        session,
        account_id=account.id,
        amount_fen=300_00,
        paid_at=datetime.combine(made + timedelta(days=2), datetime.min.time(), SHANGHAI),
        reference="T-kept",
    )
    report = nightly.run(session, as_of=TODAY)
    assert report.steps["promises"]["promises_kept"] == 1
    assert report.steps["promises"]["promises_broken"] == 1
    session.refresh(kept)
    session.refresh(broken)
    assert (kept.status, broken.status) == (PromiseStatus.KEPT, PromiseStatus.BROKEN)
    session.refresh(cases[1])
    assert cases[1].status == CaseStatus.ACTIVE
    assert nightly.run(session, as_of=TODAY).changes == 0


def test_backdated_run_is_refused(portfolio):
    session = portfolio
    nightly.run(session, as_of=TODAY)
    with pytest.raises(nightly.BackdatedRun, match="never rewritten"):
        nightly.run(session, as_of=TODAY - timedelta(days=1))


def test_run_for_a_day_after_today_is_refused_and_ages_nothing(portfolio):
    session = portfolio
    before = snapshot(session)
    with pytest.raises(nightly.FutureRun, match=r"2026-11-21.*after today \(2026-11-20 in "):
        nightly.run(session, as_of=TODAY + timedelta(days=1), today=TODAY)
    assert snapshot(session) == before
    assert nightly.run(session, as_of=TODAY, today=TODAY).changes > 0


def test_run_without_today_refuses_the_day_after_the_business_date(portfolio):
    tomorrow = datetime.now(ZoneInfo(get_settings().default_timezone)).date() + timedelta(days=1)
    with pytest.raises(nightly.FutureRun, match="after today"):
        nightly.run(portfolio, as_of=tomorrow)


def test_bucket_history_cannot_be_updated_or_deleted(portfolio):
    session = portfolio
    nightly.run(session, as_of=TODAY)
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(text("UPDATE bucket_transition SET to_bucket = 'M0'"))
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(text("DELETE FROM bucket_transition"))


def test_fully_paid_case_is_settled(portfolio):
    session = portfolio
    nightly.run(session, as_of=TODAY)
    case = session.scalars(select(Case).order_by(Case.id).limit(1)).one()
    accounts = session.scalars(select(Account).where(Account.case_id == case.id)).all()
    for n, account in enumerate(accounts):
        payment_service.book(
            session,
            account_id=account.id,
            amount_fen=account.outstanding_fen,
            paid_at=datetime(TODAY.year, TODAY.month, TODAY.day, 9, tzinfo=SHANGHAI),
            reference=f"T-settle-{n}",
        )
    nightly.run(session, as_of=date(TODAY.year, TODAY.month, TODAY.day))
    session.refresh(case)
    assert case.status == CaseStatus.SETTLED
    assert case.outstanding_fen == 0
