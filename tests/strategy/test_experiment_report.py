"""The champion / challenger report on a small hand-built world (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from debtflow.config import get_settings
from debtflow.core.strategy.experiments import newcombe_difference, wilson_interval
from debtflow.models import Account, Case, ContactRestriction, DebtorDispute, Payment, PromiseToPay
from debtflow.models.enums import PromiseStatus
from debtflow.nightly import service as nightly
from debtflow.strategy import experiment_report as service
from debtflow.strategy import service as strategy_service
from debtflow.strategy.experiment_report import NoExperiment
from factories import TODAY

from .test_experiment_nightly import CHALLENGER, experiment_text, portfolio  # noqa: F401

FIRST, LAST = date(2026, 11, 21), date(2026, 11, 30)
IN = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
BEFORE = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # 23:00 on the 20th in Shanghai


@pytest.fixture
def experiment(tmp_path, monkeypatch):
    (tmp_path / "long.toml").write_text(CHALLENGER, encoding="utf-8")
    path = tmp_path / "experiment.toml"
    path.write_text(experiment_text(), encoding="utf-8")
    monkeypatch.setenv("DEBTFLOW_STRATEGY_EXPERIMENT", str(path))
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def pay(session, case, fen, at, n, *, overpaid=0):
    account = session.scalars(select(Account).where(Account.case_id == case.id)).first()
    session.add(
        Payment(
            account_id=account.id,
            case_id=case.id,
            amount_fen=fen,
            overpaid_fen=overpaid,
            paid_at=at,
            reference=f"exp-{case.id}-{n}",
        )
    )


def promise(session, case, due, status):
    session.add(
        PromiseToPay(case_id=case.id, amount_fen=1000, made_on=due - timedelta(days=5), due=due,
                     status=status)
    )  # fmt: skip


def restriction(session, case, at, *, flag="dispute", whole_debtor=False):
    row = ContactRestriction(
        debtor_id=case.debtor_id,
        case_id=None if whole_debtor else case.id,
        flag=flag,
        reason="test",
        starts_at=at,
        set_by="agent",
    )
    session.add(row)
    session.flush()
    return row


def world(session):
    """Two cases of each variant with payments, promises and complaints, plus noise outside
    the window; returns the cases of each variant."""
    nightly.run(session, as_of=TODAY)
    cases = session.scalars(select(Case).order_by(Case.id)).all()
    by = {v: [c for c in cases if c.experiment_variant == v] for v in ("control", "long-terms")}
    c1, c2 = by["control"][:2]
    l1, l2 = by["long-terms"][:2]
    pay(session, c1, 50_000, IN, 1)
    pay(session, c1, 7_000, BEFORE, 2)  # before the window: not recovered, not owed either
    pay(session, l1, 30_000, IN, 1, overpaid=1_000)  # 29,000 recovered
    pay(session, l2, 20_000, IN, 1)
    promise(session, c1, date(2026, 11, 22), PromiseStatus.KEPT)
    promise(session, c1, date(2026, 11, 23), PromiseStatus.BROKEN)
    promise(session, c2, date(2026, 12, 5), PromiseStatus.KEPT)  # due after the window
    promise(session, l1, date(2026, 11, 24), PromiseStatus.KEPT)
    promise(session, l2, date(2026, 11, 29), PromiseStatus.PENDING)  # in its grace days
    # complaints: a portal dispute (its restriction counted once), an agent's dispute flag,
    # a do-not-contact request (not a complaint) and a dispute before the window
    disputed = restriction(session, l1, IN)
    session.add(
        DebtorDispute(case_id=l1.id, debtor_id=l1.debtor_id, reason="not mine",
                      restriction_id=disputed.id, created_at=IN)
    )  # fmt: skip
    restriction(session, l2, IN)
    restriction(session, c2, IN, flag="do_not_contact")
    restriction(session, c1, BEFORE)
    session.flush()
    return by


def balances(session, cases):
    ids = [c.id for c in cases]
    accounts = session.scalars(select(Account).where(Account.case_id.in_(ids))).all()
    return sum(a.principal_fen + a.interest_fen + a.fees_fen + a.penalty_fen for a in accounts)


def test_figures_match_the_hand_counts(portfolio, experiment):  # noqa: F811
    session = portfolio
    by = world(session)
    result = service.experiment_report(session, first_day=FIRST, last_day=LAST, today=LAST)
    control, challenger = result.variants
    assert (control.variant, challenger.variant) == ("control", "long-terms")
    assert control.cases == len(by["control"]) and challenger.cases == len(by["long-terms"])
    assert control.recovered_fen == 50_000 and challenger.recovered_fen == 49_000
    assert control.owed_fen == balances(session, by["control"]) + 50_000
    assert challenger.owed_fen == balances(session, by["long-terms"]) + 49_000
    assert control.amount_recovery_rate == 50_000 / control.owed_fen
    assert (control.recovery.successes, control.recovery.trials) == (1, control.cases)
    assert (challenger.recovery.successes, challenger.recovery.trials) == (2, challenger.cases)
    assert (control.promise_kept.successes, control.promise_kept.trials) == (1, 2)
    assert (challenger.promise_kept.successes, challenger.promise_kept.trials) == (1, 1)
    assert (control.complaints.successes, challenger.complaints.successes) == (0, 2)
    assert result.complaints_made == {"control": 0, "long-terms": 2}
    assert challenger.recovery.rate == wilson_interval(2, challenger.cases)
    assert challenger.recovery.difference_vs_control == newcombe_difference(
        2, challenger.cases, 1, control.cases
    )
    assert control.recovery.difference_vs_control is None


def test_json_of_the_cli(portfolio, experiment, monkeypatch):  # noqa: F811
    session = portfolio
    world(session)
    expected = service.report_json(
        service.experiment_report(session, first_day=FIRST, last_day=LAST, today=LAST)
    )
    payload = json.loads(json.dumps(expected, allow_nan=False))
    control, challenger = payload["variants"]
    assert control["control"] and control["recovery"]["difference_vs_control"] is None
    assert challenger["recovered_fen"] == 49_000
    assert challenger["complaints"]["made"] == 2
    assert challenger["promise_kept"]["rate"]["estimate"] == 1.0


def test_an_empty_variant_reports_null_not_nan(portfolio, experiment):  # noqa: F811
    session = portfolio
    world(session)
    # a third variant added after the night: no case is in it yet
    experiment.write_text(
        experiment_text()
        .replace("weight_bp = 5000", "weight_bp = 4000")
        .replace('"long.toml"\n', '"long.toml"\n[[variants]]\nname = "new"\nweight_bp = 2000\n'),
        encoding="utf-8",
    )
    result = service.experiment_report(session, first_day=FIRST, last_day=LAST, today=LAST)
    empty = result.variants[2]
    assert empty.variant == "new" and empty.cases == 0 and math.isnan(empty.amount_recovery_rate)
    row = json.loads(json.dumps(service.report_json(result), allow_nan=False))["variants"][2]
    assert row["cases"] == 0 and row["amount_recovery_rate"] is None
    assert row["recovery"]["rate"] is None and row["recovery"]["difference_vs_control"] is None
    assert row["promise_kept"]["rate"] is None


def test_without_an_experiment_the_report_says_so(portfolio, monkeypatch):  # noqa: F811
    monkeypatch.delenv("DEBTFLOW_STRATEGY_EXPERIMENT", raising=False)
    get_settings.cache_clear()
    with pytest.raises(NoExperiment, match="DEBTFLOW_STRATEGY_EXPERIMENT"):
        service.experiment_report(portfolio, today=TODAY)


def test_until_before_since_is_refused(portfolio, experiment):  # noqa: F811
    with pytest.raises(Exception, match="before"):
        service.experiment_report(portfolio, first_day=LAST, last_day=FIRST, today=LAST)


def test_an_experiment_not_started_says_when_it_starts(portfolio, experiment):  # noqa: F811
    plan = strategy_service.experiment_in_force()
    assert plan is not None
    with pytest.raises(NoExperiment, match=f"starts on {plan.starts_on}"):
        service.experiment_report(portfolio, today=plan.starts_on - timedelta(days=1))


def test_cli_without_an_experiment_is_one_line(database_url, monkeypatch):
    from debtflow.cli.main import app

    monkeypatch.delenv("DEBTFLOW_STRATEGY_EXPERIMENT", raising=False)
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["strategy", "experiment-report", "--json"])
    assert result.exit_code != 0
    assert "no experiment is configured" in result.output
