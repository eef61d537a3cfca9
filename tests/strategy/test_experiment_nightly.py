"""Champion / challenger in the nightly cycle, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from debtflow.config import get_settings
from debtflow.core.case.lifecycle import OPEN_STATUSES
from debtflow.core.strategy.experiment_file import load_experiment
from debtflow.core.strategy.experiments import assign
from debtflow.models import Case
from debtflow.nightly import service as nightly
from debtflow.portfolio import service as portfolio_service
from debtflow.strategy import service as strategy_service
from factories import TODAY, make_creditor, portfolio_rows, write_portfolio

# a challenger whose offers cannot be mistaken for the shipped rules' (3/6/12 and 12..36)
CHALLENGER = """
version = "long-terms-1"
[potential]
kind = "instalments"
terms = [5]
interest_relief_bp = 5000
penalty_relief_bp = 10000
[hardship]
kind = "restructuring"
terms = [30]
monthly_rate = "0.003"
interest_relief_bp = 3000
penalty_relief_bp = 10000
[risk]
kind = "legal"
actions = ["legal_referral"]
"""


def experiment_text(*, starts_on: str = TODAY.isoformat(), key: str = "terms-test") -> str:
    return (
        f'key = "{key}"\nstarts_on = {starts_on}\ncontrol = "control"\n'
        '[[variants]]\nname = "control"\nweight_bp = 5000\n'
        '[[variants]]\nname = "long-terms"\nweight_bp = 5000\ntreatment = "long.toml"\n'
    )


@pytest.fixture
def portfolio(session, tmp_path):
    make_creditor(session)
    rows = portfolio_rows(count=40, seed=11)
    path = write_portfolio(tmp_path / "p.csv", rows)
    portfolio_service.import_portfolio(session, path=path, creditor_code="TESTBANK", today=TODAY)
    return session


@pytest.fixture
def experiment(tmp_path, monkeypatch) -> Iterator[Path]:
    (tmp_path / "long.toml").write_text(CHALLENGER, encoding="utf-8")
    path = tmp_path / "experiment.toml"
    path.write_text(experiment_text(), encoding="utf-8")
    monkeypatch.setenv("DEBTFLOW_STRATEGY_EXPERIMENT", str(path))
    get_settings.cache_clear()
    yield path
    monkeypatch.delenv("DEBTFLOW_STRATEGY_EXPERIMENT")
    get_settings.cache_clear()


def open_cases(session):
    return session.scalars(
        select(Case).where(Case.status.in_(list(OPEN_STATUSES))).order_by(Case.id)
    ).all()


def variants(session):
    return {c.id: (c.experiment_key, c.experiment_variant) for c in open_cases(session)}


def test_variants_are_stored_stable_and_a_second_run_changes_nothing(portfolio, experiment):
    session = portfolio
    plan = load_experiment(experiment)
    first = nightly.run(session, as_of=TODAY)
    stored = variants(session)
    assert first.steps["strategy"]["strategy_updated"] == len(stored)
    assert stored == {i: ("terms-test", assign(plan.experiment, i)) for i in stored}
    assert {v for _, v in stored.values()} == {"control", "long-terms"}
    again = nightly.run(session, as_of=TODAY)
    assert again.steps["strategy"]["strategy_updated"] == 0
    assert again.changes == 0
    assert variants(session) == stored


def test_a_challengers_cases_get_its_treatment_rules_offer(portfolio, experiment):
    session = portfolio
    nightly.run(session, as_of=TODAY)
    terms = {"control": set(), "long-terms": set()}
    for case in open_cases(session):
        version = case.strategy_rules.split("+")[1]
        expected = "long-terms-1" if case.experiment_variant == "long-terms" else "treatment-v1"
        assert version == expected
        if case.treatment["kind"] == "legal":
            actions = ["legal_referral"] if expected == "long-terms-1" else None
            if actions:
                assert case.treatment["actions"] == actions
            continue
        terms[case.experiment_variant].add(case.treatment["term_months"])
    assert terms["long-terms"] and terms["long-terms"] <= {5, 30}
    # term_months counts the 2 grace months of the shipped hardship rule
    assert terms["control"] and terms["control"] <= {3, 6, 12, 14, 20, 26, 38}


def test_before_its_start_day_an_experiment_changes_nothing(portfolio, experiment):
    session = portfolio
    experiment.write_text(
        experiment_text(starts_on=(TODAY + timedelta(days=1)).isoformat()), encoding="utf-8"
    )
    nightly.run(session, as_of=TODAY)
    assert set(variants(session).values()) == {(None, None)}
    assert {c.strategy_rules.split("+")[1] for c in open_cases(session)} == {"treatment-v1"}
    started = nightly.run(session, as_of=TODAY + timedelta(days=1))
    assert started.steps["strategy"]["strategy_updated"] == len(open_cases(session))
    assert {v for _, v in variants(session).values()} == {"control", "long-terms"}


def test_without_an_experiment_the_columns_stay_empty(portfolio):
    nightly.run(portfolio, as_of=TODAY)
    assert set(variants(portfolio).values()) == {(None, None)}


def test_a_broken_experiment_file_stops_the_step_with_its_reason(portfolio, experiment):
    experiment.write_text(experiment_text().replace("5000", "4000", 1), encoding="utf-8")
    with pytest.raises(strategy_service.InvalidStrategyRules, match="sum to 9000 basis points"):
        nightly.run(portfolio, as_of=TODAY)
