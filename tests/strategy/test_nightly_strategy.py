"""Score → segment → treat in the nightly cycle, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from debtflow.config import get_settings
from debtflow.core.case.lifecycle import OPEN_STATUSES
from debtflow.models import Case
from debtflow.nightly import service as nightly
from debtflow.portfolio import service as portfolio_service
from debtflow.strategy import service as strategy_service
from factories import TODAY, make_creditor, portfolio_rows, write_portfolio


@pytest.fixture
def portfolio(session, tmp_path):
    make_creditor(session)
    rows = portfolio_rows(count=30, seed=8)
    rows[0]["overdue_cause"] = "deliberate"
    rows[1]["overdue_cause"] = "illness"
    path = write_portfolio(tmp_path / "p.csv", rows)
    portfolio_service.import_portfolio(session, path=path, creditor_code="TESTBANK", today=TODAY)
    return session, rows


def open_cases(session):
    return session.scalars(
        select(Case).where(Case.status.in_(list(OPEN_STATUSES))).order_by(Case.id)
    ).all()


def test_every_open_case_gets_score_segment_reasons_and_treatment(portfolio):
    session, rows = portfolio
    report = nightly.run(session, as_of=TODAY)
    assert report.steps["strategy"]["cases_scored"] == len(open_cases(session))
    for case in open_cases(session):
        assert 0.0 <= case.propensity <= 1.0
        assert case.segment in ("potential", "hardship", "risk")
        assert case.segment_reasons
        assert case.treatment["kind"] in ("instalments", "restructuring", "legal")
        assert case.strategy_on == TODAY
    deliberate = session.scalars(select(Case).where(Case.overdue_cause == "deliberate")).first()
    assert deliberate.segment == "risk"
    assert deliberate.segment_reasons == ["DELIBERATE_DEFAULT"]
    assert deliberate.treatment["actions"] == ["legal_referral", "asset_preservation"]


def test_second_run_changes_nothing(portfolio):
    session, _ = portfolio
    nightly.run(session, as_of=TODAY)
    again = nightly.run(session, as_of=TODAY)
    assert again.steps["strategy"]["strategy_updated"] == 0
    assert again.changes == 0


def test_instalment_offers_keep_to_the_mandate_or_say_why_not(portfolio):
    session, _ = portfolio
    nightly.run(session, as_of=TODAY)
    for case in open_cases(session):
        plan = case.treatment
        if plan["kind"] == "legal":
            continue
        if not plan["refused"]:
            assert plan["term_months"] <= 48
            assert plan["relief_fen"] <= case.outstanding_fen * 3000 // 10_000 + 1
        else:
            assert set(plan["refused"]) <= {"relief", "term", "first_payment"}


def test_operator_rule_file_changes_segments_without_code(portfolio, tmp_path, monkeypatch):
    session, _ = portfolio
    nightly.run(session, as_of=TODAY)
    rules = tmp_path / "all-risk.toml"
    rules.write_text(
        'version = "all-risk-1"\n'
        "[reasons.EVERYONE]\n"
        'en = "Everyone is risk in this test."\nzh = "测试：全部为风险客户。"\n'
        "[[rules]]\n"
        'name = "everyone"\nsegment = "risk"\nreasons = ["EVERYONE"]\nconditions = []\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("DEBTFLOW_SEGMENTATION_RULES", str(rules))
    get_settings.cache_clear()
    try:
        report = nightly.run(session, as_of=TODAY + timedelta(days=1))
    finally:
        monkeypatch.delenv("DEBTFLOW_SEGMENTATION_RULES")
        get_settings.cache_clear()
    assert report.steps["strategy"]["strategy_updated"] > 0
    assert {c.segment for c in open_cases(session)} == {"risk"}
    assert {c.strategy_rules.split("+")[0] for c in open_cases(session)} == {"all-risk-1"}


def test_explanation_in_words(portfolio):
    session, _ = portfolio
    case = open_cases(session)[0]
    with pytest.raises(strategy_service.NotYetPlanned, match="nightly"):
        strategy_service.explain_case(session, case_id=case.id)
    nightly.run(session, as_of=TODAY)
    words = strategy_service.explain_case(session, case_id=case.id)
    assert f"{round(case.propensity * 100)}" in words.en
    assert "客户分层" in words.zh and "Segment:" in words.en
    assert "review" in words.en


def test_a_bad_rule_file_is_refused_with_its_reason(portfolio, tmp_path, monkeypatch):
    session, _ = portfolio
    rules = tmp_path / "bad.toml"
    rules.write_text('version = "x"\n[[rules]]\nname = "r"\nsegment = "vip"\n', encoding="utf-8")
    monkeypatch.setenv("DEBTFLOW_SEGMENTATION_RULES", str(rules))
    get_settings.cache_clear()
    try:
        with pytest.raises(ValueError, match="vip|segment"):
            nightly.run(session, as_of=TODAY)
    finally:
        monkeypatch.delenv("DEBTFLOW_SEGMENTATION_RULES")
        get_settings.cache_clear()


def test_model_file_is_the_configured_one(propensity_model):
    assert Path(get_settings().propensity_model) == propensity_model
