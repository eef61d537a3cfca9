import pytest
from sqlalchemy import select

from debtflow.case import service
from debtflow.core.case.lifecycle import CaseStatus, IllegalTransition
from debtflow.models import Case
from debtflow.portfolio import service as portfolio_service
from factories import TODAY, make_creditor, portfolio_rows, write_portfolio


@pytest.fixture
def case(session, tmp_path):
    make_creditor(session)
    path = write_portfolio(tmp_path / "p.csv", portfolio_rows(count=1, seed=4))
    portfolio_service.import_portfolio(session, path=path, creditor_code="TESTBANK", today=TODAY)
    return session.scalars(select(Case)).one()


def test_transitions_are_recorded_with_actor_and_reason(session, case):
    service.transition(session, case_id=case.id, to=CaseStatus.ACTIVE, actor="agent1")
    service.transition(
        session, case_id=case.id, to=CaseStatus.ON_HOLD, reason="debtor in hospital", actor="mgr"
    )
    history = service.status_history(session, case_id=case.id)
    assert [(h.from_status, h.to_status, h.actor) for h in history] == [
        (CaseStatus.NEW, CaseStatus.ACTIVE, "agent1"),
        (CaseStatus.ACTIVE, CaseStatus.ON_HOLD, "mgr"),
    ]
    assert case.hold_reason == "debtor in hospital"
    service.transition(session, case_id=case.id, to=CaseStatus.ACTIVE)
    assert case.hold_reason is None and case.held_from is None


def test_illegal_transition_changes_nothing(session, case):
    service.transition(session, case_id=case.id, to=CaseStatus.SETTLED)
    with pytest.raises(IllegalTransition, match="from settled to active"):
        service.transition(session, case_id=case.id, to=CaseStatus.ACTIVE)
    assert case.status == CaseStatus.SETTLED
    assert len(service.status_history(session, case_id=case.id)) == 1


def test_unknown_case(session):
    with pytest.raises(service.CaseNotFound):
        service.transition(session, case_id=999_999, to=CaseStatus.ACTIVE)
