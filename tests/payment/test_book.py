from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from debtflow.core.case.lifecycle import CaseStatus
from debtflow.core.errors import Conflict
from debtflow.models import Account, Case, Payment
from debtflow.payment import service
from debtflow.portfolio import service as portfolio_service
from factories import TODAY, make_creditor, portfolio_rows, write_portfolio

WHEN = datetime(2026, 11, 18, 15, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def account(session, tmp_path):
    make_creditor(session)
    path = write_portfolio(tmp_path / "p.csv", portfolio_rows(count=1, seed=9))
    portfolio_service.import_portfolio(session, path=path, creditor_code="TESTBANK", today=TODAY)
    return session.scalars(select(Account)).one()


def test_payment_is_split_and_balances_fall(session, account):
    before = (account.fees_fen, account.penalty_fen, account.interest_fen, account.principal_fen)
    amount = before[0] + before[1] + 1
    payment = service.book(
        session, account_id=account.id, amount_fen=amount, paid_at=WHEN, reference="P1"
    )
    assert (payment.to_fees_fen, payment.to_penalty_fen) == before[:2]
    assert payment.to_interest_fen + payment.to_principal_fen == 1
    assert account.outstanding_fen == sum(before) - amount
    assert payment.paid_at == WHEN
    case = session.get(Case, account.case_id)
    assert case.status == CaseStatus.PAYING


def test_same_reference_books_once(session, account):
    first = service.book(
        session, account_id=account.id, amount_fen=100, paid_at=WHEN, reference="P2"
    )
    again = service.book(
        session, account_id=account.id, amount_fen=100, paid_at=WHEN, reference="P2"
    )
    assert again.id == first.id
    assert session.scalar(select(func.count()).select_from(Payment)) == 1
    with pytest.raises(Conflict, match="already booked"):
        service.book(session, account_id=account.id, amount_fen=999, paid_at=WHEN, reference="P2")


@pytest.mark.parametrize(
    ("amount", "when", "reference", "message"),
    [
        (0, WHEN, "P3", "positive"),
        (100, WHEN.replace(tzinfo=None), "P3", "time zone"),
        (100, WHEN, " ", "reference"),
    ],
)
def test_bad_payments_are_refused(session, account, amount, when, reference, message):
    with pytest.raises(service.InvalidPayment, match=message):
        service.book(
            session, account_id=account.id, amount_fen=amount, paid_at=when, reference=reference
        )
