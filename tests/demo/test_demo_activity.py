"""The demo's recent activity obeys the rules every user is held to."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, update
from typer.testing import CliRunner

from debtflow.cli.main import app as cli
from debtflow.core.case.lifecycle import OPEN_STATUSES
from debtflow.db import unit_of_work
from debtflow.demo.service import _activity
from debtflow.models import Case, PromiseToPay, User


def test_demo_promises_are_never_for_more_than_the_case_owes(database_url):
    """With the default 2,000 cases some case owed less than one instalment, and the demo
    stopped on the promise rule ("cannot be for more than the case owes")."""
    result = CliRunner().invoke(cli, ["demo", "--cases", "40", "--seed", "3", "--no-serve"])
    assert result.exit_code == 0, result.output
    with unit_of_work() as session:
        session.execute(
            update(Case).where(Case.status.in_(list(OPEN_STATUSES))).values(outstanding_fen=50)
        )
        before = set(session.scalars(select(PromiseToPay.id)))
        _payments, promises = _activity(session, seed=11, today=date.today())
        made = session.scalars(select(PromiseToPay).where(PromiseToPay.id.not_in(before))).all()
    assert promises == len(made) > 0
    assert all(0 < p.amount_fen <= 50 for p in made)


def test_the_demo_debtor_has_a_plan_to_choose(database_url):
    result = CliRunner().invoke(cli, ["demo", "--cases", "200", "--seed", "7", "--no-serve"])
    assert result.exit_code == 0, result.output
    with unit_of_work() as session:
        debtor_id = session.scalars(select(User.debtor_id).where(User.username == "debtor1")).one()
        treatments = session.scalars(
            select(Case.treatment).where(
                Case.debtor_id == debtor_id, Case.status.in_(list(OPEN_STATUSES))
            )
        ).all()
    assert any(
        t and t.get("kind") in ("instalments", "restructuring") and not t.get("refused")
        for t in treatments
    ), treatments


def test_the_demo_and_a_nightly_run_leave_their_evidence_under_a_signed_head(database_url):
    """A head signs committed leaves only, so the cycle's step 90 cannot cover the leaves the
    cycle itself appends; the commands sign them once the cycle has committed."""
    from sqlalchemy import func

    from debtflow.evidence.heads import latest_head
    from debtflow.models import EvidenceLogLeaf

    runner = CliRunner()
    result = runner.invoke(cli, ["demo", "--cases", "40", "--seed", "3", "--no-serve"])
    assert result.exit_code == 0, result.output
    with unit_of_work() as session:
        leaves = session.scalar(select(func.count()).select_from(EvidenceLogLeaf))
        head = latest_head(session)
        assert leaves and head is not None and head.tree_size == leaves
    again = runner.invoke(cli, ["nightly"])
    assert again.exit_code == 0, again.output
    assert "evidence_head_after_commit" in again.output
    with unit_of_work() as session:
        leaves = session.scalar(select(func.count()).select_from(EvidenceLogLeaf))
        assert latest_head(session).tree_size == leaves


def test_demo_activity_keeps_some_promises_breaks_others_and_follows_placement(database_url):
    """The dashboard's promise-kept rate was 0 of N (the demo never paid on a promised
    case) and recovery showed payments dated before the cases were placed."""
    from zoneinfo import ZoneInfo

    from debtflow.models import Payment
    from debtflow.models.enums import PromiseStatus

    result = CliRunner().invoke(cli, ["demo", "--cases", "40", "--seed", "3", "--no-serve"])
    assert result.exit_code == 0, result.output
    zone = ZoneInfo("Asia/Shanghai")
    with unit_of_work() as session:
        placed = dict(session.execute(select(Case.id, Case.opened_at)).tuples().all())
        paid = session.execute(select(Payment.case_id, Payment.paid_at, Payment.amount_fen)).all()
        promises = session.scalars(select(PromiseToPay)).all()
    assert paid and promises
    # never a payment before its case was placed
    assert all(when > placed[case_id] for case_id, when, _ in paid)
    statuses = [p.status for p in promises]
    assert PromiseStatus.KEPT in statuses and PromiseStatus.BROKEN in statuses
    for promise in promises:
        on_time = sum(
            fen
            for case_id, when, fen in paid
            if case_id == promise.case_id
            and promise.made_on <= when.astimezone(zone).date() <= promise.due
        )
        if promise.status is PromiseStatus.KEPT:
            assert on_time >= promise.amount_fen  # paid on or before the due date
        if promise.status is PromiseStatus.BROKEN:
            assert on_time < promise.amount_fen
