"""JSON routes of the debtor portal."""

from __future__ import annotations

from fastapi import APIRouter

from debtflow.auth.deps import CurrentUser
from debtflow.models.enums import PromiseStatus
from debtflow.portal import service
from debtflow.portal.schemas import AccountRead, DebtList, DebtRead
from debtflow.web.deps import DbSession

router = APIRouter(prefix="/api/portal", tags=["portal"])


@router.get("/debts", response_model=DebtList)
def my_debts(session: DbSession, user: CurrentUser) -> DebtList:
    """The signed-in debtor's own debts (403 for staff)."""
    items = []
    for debt in service.debts_of(session, user=user):
        pending = [p.due for p in debt.promises if p.status == PromiseStatus.PENDING]
        items.append(
            DebtRead(
                case_id=debt.case.id,
                creditor_code=debt.creditor.code,
                creditor_name=debt.creditor.name,
                status=debt.case.status.value,
                outstanding_fen=debt.outstanding_fen,
                accounts=[
                    AccountRead(
                        account_number=a.account_number,
                        product_type=a.product_type.value,
                        outstanding_fen=a.outstanding_fen,
                        overdue_fen=a.overdue_fen,
                        days_past_due=a.days_past_due,
                        bucket=a.bucket,
                    )
                    for a in debt.accounts
                ],
                paid_fen=sum(p.amount_fen for p in debt.payments),
                pending_promise_due=min(pending) if pending else None,
            )
        )
    return DebtList(items=items)
