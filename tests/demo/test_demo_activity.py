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
