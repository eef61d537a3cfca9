"""The repayment-capacity report an agent sees on a case: income, debts and spending
where known, and what is left each month. Plain integers (fen) in and out."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CapacityReport:
    monthly_income_fen: int | None
    monthly_spending_fen: int | None
    other_debts_fen: int | None
    dependents: int | None
    monthly_revenue_fen: int | None
    receivables_fen: int | None
    instalments_here_fen: int
    outstanding_here_fen: int
    #: income - spending - instalments due here each month; None when income or spending
    #: is unknown
    disposable_fen: int | None
    #: (other debts + outstanding here) / yearly income, in basis points; None without income
    debt_to_income_bp: int | None
    #: ``instalments_here_fen`` is the monthly instalment of the plan the debtor signed, not
    #: the accounts' original schedule
    under_plan: bool = False

    @property
    def known(self) -> bool:
        return any(
            v is not None
            for v in (
                self.monthly_income_fen,
                self.monthly_spending_fen,
                self.other_debts_fen,
                self.monthly_revenue_fen,
            )
        )


def capacity_report(
    *,
    monthly_income_fen: int | None,
    monthly_spending_fen: int | None,
    other_debts_fen: int | None,
    dependents: int | None,
    monthly_revenue_fen: int | None,
    receivables_fen: int | None,
    instalments_fen: list[int],
    outstanding_fen: list[int],
    under_plan: bool = False,
) -> CapacityReport:
    """``instalments_fen``: what is due here each month — the accounts' instalments, or the
    signed plan's monthly instalment while one is in force (``under_plan``)."""
    instalments = sum(instalments_fen)
    outstanding = sum(outstanding_fen)
    income = monthly_income_fen if monthly_income_fen is not None else monthly_revenue_fen
    disposable = None
    if income is not None and monthly_spending_fen is not None:
        disposable = income - monthly_spending_fen - instalments
    ratio = None
    if income is not None and income > 0:
        ratio = ((other_debts_fen or 0) + outstanding) * 10_000 // (income * 12)
    return CapacityReport(
        monthly_income_fen=monthly_income_fen,
        monthly_spending_fen=monthly_spending_fen,
        other_debts_fen=other_debts_fen,
        dependents=dependents,
        monthly_revenue_fen=monthly_revenue_fen,
        receivables_fen=receivables_fen,
        instalments_here_fen=instalments,
        outstanding_here_fen=outstanding,
        disposable_fen=disposable,
        debt_to_income_bp=ratio,
        under_plan=under_plan,
    )
