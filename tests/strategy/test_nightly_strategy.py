"""Score → segment → treat in the nightly cycle, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select, update

from debtflow.case import service as case_service
from debtflow.config import get_settings
from debtflow.core.case.lifecycle import OPEN_STATUSES, CaseStatus
from debtflow.core.strategy.segmentation import SEGMENT_ORDER
from debtflow.core.strategy.treatment import TreatmentKind, shipped_treatment_rules
from debtflow.core.strategy.treatment_batch import KIND_ORDER
from debtflow.models import Account, Case
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


@pytest.mark.parametrize(
    ("status", "words"), [("settled", "settled"), ("written_off", "written off")]
)
def test_a_final_case_is_explained_without_a_plan(portfolio, status, words):
    session, _ = portfolio
    nightly.run(session, as_of=TODAY)
    case = next(c for c in open_cases(session) if c.treatment["kind"] != "legal")
    assert "Plan: " in strategy_service.explain_case(session, case_id=case.id).en
    case_service.transition(session, case_id=case.id, to=CaseStatus(status), reason="test")
    explained = strategy_service.explain_case(session, case_id=case.id)
    assert explained.en.splitlines()[0] == f"Case {case.id} is {words}: no repayment plan applies."
    assert "不适用任何还款方案" in explained.zh.splitlines()[0]
    assert "Segment:" in explained.en and "review" in explained.en  # the decision stays
    for text in (explained.en, explained.zh):
        assert "Plan: " not in text and "relief" not in text and "方案：" not in text
        assert "down payment" not in text and "首付" not in text
    assert (explained.status, explained.plan) == (status, "none")


def test_a_final_case_never_planned_says_so_instead_of_asking_for_a_night(portfolio):
    session, _ = portfolio
    case = open_cases(session)[0]
    case_service.transition(session, case_id=case.id, to=CaseStatus.SETTLED, reason="paid")
    explained = strategy_service.explain_case(session, case_id=case.id)
    assert explained.en == f"Case {case.id} is settled: no repayment plan applies."
    assert explained.propensity is None


def test_a_bad_rule_file_is_refused_with_its_reason(portfolio, tmp_path, monkeypatch):
    session, _ = portfolio
    rules = tmp_path / "bad.toml"
    rules.write_text('version = "x"\n[[rules]]\nname = "r"\nsegment = "vip"\n', encoding="utf-8")
    monkeypatch.setenv("DEBTFLOW_SEGMENTATION_RULES", str(rules))
    get_settings.cache_clear()
    try:
        with pytest.raises(strategy_service.InvalidStrategyRules, match="unknown segment 'vip'"):
            nightly.run(session, as_of=TODAY)
    finally:
        monkeypatch.delenv("DEBTFLOW_SEGMENTATION_RULES")
        get_settings.cache_clear()


def test_model_file_is_the_configured_one(propensity_model):
    assert Path(get_settings().propensity_model) == propensity_model


def _results(session):
    session.expire_all()
    return {
        c.id: (
            c.propensity,
            c.segment,
            c.segment_rule,
            c.segment_reasons,
            c.treatment,
            c.strategy_digest,
        )
        for c in open_cases(session)
    }


def test_chunk_size_does_not_change_any_result(portfolio, monkeypatch):
    session, _ = portfolio
    strategy_service.plan_cases(session, TODAY)
    whole = _results(session)
    session.execute(update(Case).values(strategy_digest=None, treatment=None, segment=None))
    monkeypatch.setattr(strategy_service, "CHUNK_CASES", 7)
    done: list[int] = []
    counts = strategy_service.plan_cases(session, TODAY, progress=done.append)
    assert counts == {"cases_scored": len(whole), "strategy_updated": len(whole)}
    steps = np.diff([0, *done])
    assert done[-1] == len(whole) and (steps > 0).all() and (steps <= 7).all()
    assert len(done) >= -(-len(whole) // 7)
    assert _results(session) == whole


def test_only_cases_whose_result_changed_are_rewritten(portfolio):
    session, _ = portfolio
    strategy_service.plan_cases(session, TODAY)
    before = _results(session)
    target = next(c for c in open_cases(session) if c.treatment["kind"] != "legal")
    account = session.scalars(select(Account).where(Account.case_id == target.id)).first()
    session.execute(
        update(Account)
        .where(Account.id == account.id)
        .values(principal_fen=account.principal_fen * 3)
    )
    later = TODAY + timedelta(days=1)
    counts = strategy_service.plan_cases(session, later)
    assert counts["strategy_updated"] == 1
    after = _results(session)
    assert after[target.id][4] != before[target.id][4]  # a bigger debt, another plan
    assert {k: v for k, v in after.items() if k != target.id} == {
        k: v for k, v in before.items() if k != target.id
    }
    dates = {c.id: c.strategy_on for c in open_cases(session)}
    assert dates[target.id] == later
    assert set(dates.values()) == {TODAY, later}


def test_stored_treatment_text_is_the_plan_as_sorted_json():
    rules = shipped_treatment_rules()
    rng = np.random.default_rng(4)
    n = 64
    segment = rng.integers(0, len(SEGMENT_ORDER), n).astype(np.int8)
    kinds = np.array(
        [KIND_ORDER.index(rules.by_segment[SEGMENT_ORDER[s]].kind) for s in segment], np.int8
    )
    plans = strategy_service.PlanColumns(
        kind=kinds,
        values=rng.integers(-5_000, 10**9, (n, len(strategy_service.PLAN_FIELDS))),
        breaches=rng.integers(0, 8, n),
    )
    rows = np.arange(n)
    texts = strategy_service._treatment_texts(rows, segment, plans, rules)
    for i, text in enumerate(texts):
        rule = rules.by_segment[SEGMENT_ORDER[segment[i]]]
        if rule.kind is TreatmentKind.LEGAL:
            want = {"kind": "legal", "actions": [a.value for a in rule.actions]}
        else:
            want = {
                "kind": rule.kind.value,
                **dict(zip(strategy_service.PLAN_FIELDS, plans.values[i].tolist(), strict=True)),
                "refused": [
                    code for bit, code in strategy_service.BREACH_CODES if plans.breaches[i] & bit
                ],
            }
        assert text == json.dumps(want, ensure_ascii=False, sort_keys=True)


def test_a_debt_beyond_the_batch_range_is_treated_on_its_own(portfolio):
    """Over 100 million yuan the vectorised treatment is not exact in int64: such a case is
    treated one by one (as the portal would quote it), and the night goes on."""
    session, _ = portfolio
    account = session.scalars(select(Account).order_by(Account.id)).first()
    huge = 123_456_789_012_345  # ¥1.2 trillion: within what an import accepts
    session.execute(update(Account).where(Account.id == account.id).values(principal_fen=huge))
    session.execute(update(Case).where(Case.id == account.case_id).values(overdue_cause="illness"))
    report = nightly.run(session, as_of=TODAY)
    assert report.steps["strategy"]["cases_scored"] == len(open_cases(session))
    case = session.get(Case, account.case_id)
    session.refresh(case)
    plan = case.treatment
    assert plan["kind"] in ("instalments", "restructuring", "legal")
    if plan["kind"] != "legal" and not plan["refused"]:
        assert plan["down_payment_fen"] + plan["first_payment_fen"] > 0
        assert plan["largest_instalment_fen"] > 10**12  # a real schedule of that size


def test_an_edited_rule_under_the_same_version_still_re_decides_and_explains_what_was_stored(
    portfolio, tmp_path, monkeypatch
):
    """An operator edits a rule's reasons and keeps the version string: the next night
    re-decides the cases (the fingerprint covers the rules' content), and until then the
    explanation gives the reasons stored with the decision, not the edited rule's."""
    from importlib import resources

    session, _ = portfolio
    nightly.run(session, as_of=TODAY)
    hardship = [c for c in open_cases(session) if c.segment_rule == "temporary hardship"]
    shipped = (
        resources.files("debtflow.core.strategy")
        .joinpath("rules", "segmentation-v1.toml")
        .read_text("utf-8")
    )
    assert 'name = "temporary hardship"' in shipped and hardship, "the test needs such cases"
    stored = list(hardship[0].segment_reasons)
    rules = tmp_path / "edited.toml"
    rules.write_text(
        shipped.replace('name = "temporary hardship"', 'name = "hardship, renamed"'),
        encoding="utf-8",
    )
    monkeypatch.setenv("DEBTFLOW_SEGMENTATION_RULES", str(rules))
    get_settings.cache_clear()
    try:
        words = strategy_service.explain_case(session, case_id=hardship[0].id)
        segmentation, _ = strategy_service.strategy_rules()
        texts = {r.code: r.en for rule in segmentation.rules for r in rule.reasons}
        assert stored and all(texts[code] in words.en for code in stored), words.en
        report = nightly.run(session, as_of=TODAY + timedelta(days=1))
    finally:
        monkeypatch.delenv("DEBTFLOW_SEGMENTATION_RULES")
        get_settings.cache_clear()
    assert report.steps["strategy"]["strategy_updated"] > 0
    session.refresh(hardship[0])
    assert hardship[0].segment_rule == "hardship, renamed"


def test_explain_says_when_the_stored_plan_is_no_longer_what_it_would_offer(portfolio):
    """The creditor tightens its relief limit after the night: `case explain` works the plan
    out from the limits now, and says that the plan stored by the night differs until the
    next run."""
    from debtflow.models import Creditor

    session, _ = portfolio
    nightly.run(session, as_of=TODAY)
    offered = [
        c
        for c in open_cases(session)
        if c.treatment["kind"] != "legal"
        and not c.treatment["refused"]
        and c.treatment["relief_fen"] > 0
    ]
    assert offered, "the test needs a case offered relief"
    case = offered[0]
    unchanged = strategy_service.explain_case(session, case_id=case.id)
    assert "Note:" not in unchanged.en and "注意" not in unchanged.zh
    session.execute(update(Creditor).values(max_relief_bp=0))
    words = strategy_service.explain_case(session, case_id=case.id)
    assert f"the plan the nightly run stored on {TODAY.isoformat()}" in words.en
    assert f"{case.treatment['term_months']} months, relief" in words.en
    assert "将在下一次夜间处理时更新" in words.zh
