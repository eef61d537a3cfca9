"""A plan told the same way everywhere: term (grace included), grace months, instalments,
down payment, and owed − relief + plan interest = total, exactly in fen."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from debtflow.core.money import yuan_to_fen
from debtflow.core.portal.plan import (
    AgreementParties,
    agreement_text,
    dated_schedule,
    instalment_ordinals,
    plan_figures,
)
from debtflow.core.strategy.treatment import Debt, make_offer

DEBT = Debt(
    principal_fen=4_960_187, interest_fen=89_283, penalty_fen=29_171, current_monthly_fen=520_000
)
PARTIES = AgreementParties("DF-1", "朝阳消费金融", "ZY", "陈斌", 1)


def _offer(months: int, *, grace: int, down_bp: int, rate: str):
    return make_offer(
        DEBT,
        months=months,
        interest_relief_bp=3000,
        penalty_relief_bp=10000,
        down_payment_bp=down_bp,
        monthly_rate=Decimal(rate),
        grace_months=grace,
    )


PLANS = {
    "no grace, no down payment": dict(months=6, grace=0, down_bp=0, rate="0"),
    "grace and down payment": dict(months=12, grace=2, down_bp=200, rate="0.003"),
    "down payment, no grace": dict(months=12, grace=0, down_bp=500, rate="0.003"),
}


@pytest.mark.parametrize("name", PLANS)
def test_the_agreement_states_the_term_instalments_and_an_adding_up_total(name):
    offer = _offer(**PLANS[name])
    figures = plan_figures(offer)
    terms = PLANS[name]
    assert figures.term_months == terms["months"] + terms["grace"] == offer.term_months
    assert (figures.instalments, figures.grace_months) == (terms["months"], terms["grace"])
    assert figures.owed_fen - figures.relief_fen + figures.plan_interest_fen == figures.total_fen
    schedule = dated_schedule(offer, date(2026, 11, 30))
    text = agreement_text(PARTIES, offer, schedule, "月供减少20%", "−20 % a month")
    assert f"期限 / Term: {figures.term_months} 个月 months" in text
    assert f"分{figures.instalments}期" in text and f"{figures.instalments} instalments" in text
    assert ("宽限" in text) is (terms["grace"] > 0)
    # the total the agreement states is what its own lines add up to
    amount = {
        label: yuan_to_fen(re.search(rf"{label}: ¥([\d,.]+)", text).group(1))
        for label in ("Owed now", "Relief", "Plan interest", "Total to pay")
    }
    assert amount["Owed now"] - amount["Relief"] + amount["Plan interest"] == amount["Total to pay"]
    assert amount["Total to pay"] == offer.total_to_pay_fen
    # the schedule's rows are counted as the debtor counts them: 1..instalments
    rows = [label.split()[0] for label in re.findall(r"^  (.+?) \| \d{4}-", text, re.M)]
    numbered = [r for r in rows if r.isdigit()]
    assert numbered == [str(k) for k in range(1, figures.instalments + 1)]
    assert rows.count("宽限") == terms["grace"]
    assert rows.count("首付") == (1 if offer.down_payment_fen else 0)


def test_ordinals_skip_the_down_payment_and_the_grace_months():
    offer = _offer(**PLANS["grace and down payment"])
    ordinals = instalment_ordinals(dated_schedule(offer, date(2026, 11, 30)))
    assert ordinals == {month: month - 2 for month in range(3, 15)}


def test_the_words_say_term_grace_instalments_and_down_payment():
    figures = plan_figures(_offer(**PLANS["grace and down payment"]))
    assert figures.describe_zh().startswith("期限14个月：首付¥")
    assert "宽限2个月，之后分12期，每期¥" in figures.describe_zh()
    assert figures.describe_en().startswith("14 months: ¥")
    assert "2 months' grace, then 12 instalments of ¥" in figures.describe_en()
    plain = plan_figures(_offer(**PLANS["no grace, no down payment"]))
    assert plain.describe_zh().startswith("期限6个月：分6期，每期¥")
    assert plain.plan_interest_fen == 0
