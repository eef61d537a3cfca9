"""The repayment-capacity report's arithmetic (no database)."""

from debtflow.portal.capacity import capacity_report


def report(**overrides):
    values = dict(
        monthly_income_fen=800_000,
        monthly_spending_fen=450_000,
        other_debts_fen=1_200_000,
        dependents=2,
        monthly_revenue_fen=None,
        receivables_fen=None,
        instalments_fen=[100_000, 50_000],
        outstanding_fen=[3_000_000, 600_000],
    )
    values.update(overrides)
    return capacity_report(**values)


def test_disposable_income_and_debt_to_income():
    r = report()
    assert r.instalments_here_fen == 150_000 and r.outstanding_here_fen == 3_600_000
    assert r.disposable_fen == 800_000 - 450_000 - 150_000
    # (1.2m + 3.6m) / (0.8m * 12) = 50 %
    assert r.debt_to_income_bp == 5_000 and r.known


def test_unknown_figures_stay_unknown_not_zero():
    r = report(monthly_income_fen=None, monthly_spending_fen=None, other_debts_fen=None)
    assert r.disposable_fen is None and r.debt_to_income_bp is None and not r.known
    assert report(monthly_spending_fen=None).disposable_fen is None
    assert report(monthly_income_fen=0).debt_to_income_bp is None


def test_a_business_is_judged_on_revenue_and_may_be_underwater():
    r = report(monthly_income_fen=None, monthly_revenue_fen=200_000, other_debts_fen=None)
    assert r.disposable_fen == 200_000 - 450_000 - 150_000 < 0
    assert r.debt_to_income_bp == 3_600_000 * 10_000 // (200_000 * 12)
