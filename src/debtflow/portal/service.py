"""What a debtor sees of their own debts, and the full history of one case for whoever
may reach it (scoping by ``case.service.get_for_user``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from debtflow.auth.scoping import Permission, require
from debtflow.case import service as case_service
from debtflow.models import (
    Account,
    Case,
    CaseStatusChange,
    ContactAttempt,
    Creditor,
    Payment,
    PromiseToPay,
    User,
)
from debtflow.portal import repository


@dataclass(frozen=True)
class CaseHistory:
    case: Case
    accounts: Sequence[Account]
    payments: Sequence[Payment]
    promises: Sequence[PromiseToPay]
    contacts: Sequence[ContactAttempt]
    status_changes: Sequence[CaseStatusChange]


def case_history(session: Session, *, case_id: int, user: User) -> CaseHistory:
    case = case_service.get_for_user(session, case_id=case_id, user=user)
    return CaseHistory(
        case=case,
        accounts=repository.accounts_of_cases(session, case_ids=[case.id]),
        payments=repository.payments_of_case(session, case_id=case.id),
        promises=repository.promises_of_case(session, case_id=case.id),
        contacts=repository.contacts_of_case(session, case_id=case.id),
        status_changes=case_service.status_history(session, case_id=case.id),
    )


@dataclass(frozen=True)
class DebtorDebt:
    """One creditor's case of the debtor: accounts and what happened on it."""

    case: Case
    creditor: Creditor
    accounts: Sequence[Account]
    payments: Sequence[Payment]
    promises: Sequence[PromiseToPay]

    @property
    def outstanding_fen(self) -> int:
        return sum(a.outstanding_fen for a in self.accounts)


def debts_of(session: Session, *, user: User) -> list[DebtorDebt]:
    """The signed-in debtor's own debts, and nobody else's."""
    require(user, Permission.VIEW_OWN_DEBTS)
    if user.debtor_id is None:
        return []
    cases = repository.cases_of_debtor(session, debtor_id=user.debtor_id)
    accounts = repository.accounts_of_cases(session, case_ids=[c.id for c, _ in cases])
    return [
        DebtorDebt(
            case=case,
            creditor=creditor,
            accounts=[a for a in accounts if a.case_id == case.id],
            payments=repository.payments_of_case(session, case_id=case.id),
            promises=repository.promises_of_case(session, case_id=case.id),
        )
        for case, creditor in cases
    ]
