"""The nightly cycle: age every open account, resolve promises, settle what is paid.

Each step is ``(session, as_of) -> dict of counts`` and must be idempotent: running the
cycle twice for one date changes nothing the second time. Later capabilities (scoring,
segmentation, treatment, dispatch, routing) register further steps with
:func:`register_step`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from debtflow.case import service as case_service
from debtflow.config import get_settings
from debtflow.core.case import reasons
from debtflow.core.case.lifecycle import CaseStatus
from debtflow.core.errors import Conflict, InvalidInput
from debtflow.core.strategy.ageing import Schedule, days_past_due
from debtflow.core.strategy.buckets import BucketScheme
from debtflow.nightly import repository
from debtflow.payment import repository as payment_repository
from debtflow.promise import service as promise_service

StepCounts = dict[str, int]
NightlyStep = Callable[[Session, date], StepCounts]


@dataclass(frozen=True)
class RegisteredStep:
    name: str
    order: int
    run: NightlyStep


_STEPS: dict[str, RegisteredStep] = {}
# capabilities that add steps to the cycle; imported when the cycle runs
STEP_MODULES: tuple[str, ...] = (
    "debtflow.portal.nightly",
    "debtflow.strategy.service",
    "debtflow.evidence.nightly",
    "debtflow.dispatch.steps",
)


def register_step(name: str, order: int, run: NightlyStep) -> None:
    """Add (or replace) a step of the nightly cycle; steps run in ``order``."""
    _STEPS[name] = RegisteredStep(name=name, order=order, run=run)


def steps() -> list[RegisteredStep]:
    for module in STEP_MODULES:
        importlib.import_module(module)
    return sorted(_STEPS.values(), key=lambda s: (s.order, s.name))


@dataclass
class NightlyReport:
    as_of: date
    steps: dict[str, StepCounts] = field(default_factory=dict)

    @property
    def changes(self) -> int:
        return sum(
            v for counts in self.steps.values() for k, v in counts.items() if k in CHANGE_KEYS
        )


CHANGE_KEYS = frozenset(
    {
        "accounts_updated",
        "transitions",
        "cases_updated",
        "promises_kept",
        "promises_broken",
        "cases_settled",
        "plans_broken",
        "cases_reactivated",
        "strategy_updated",
        "dispatch_assigned",
        "dispatch_released",
        "routes_planned",
    }
)


class BackdatedRun(Conflict):
    code = "backdated_run"


class FutureRun(InvalidInput):
    code = "future_run"


def business_today() -> date:
    """Today in the business time zone (the setting ``default_timezone``)."""
    return datetime.now(ZoneInfo(get_settings().default_timezone)).date()


def run(
    session: Session,
    *,
    as_of: date,
    today: date | None = None,
    progress: Callable[[str], None] | None = None,
) -> NightlyReport:
    """Run every step for the business date ``as_of``, which may not be after ``today``
    (default: today in the business time zone) nor before the last date aged."""
    today = business_today() if today is None else today
    if as_of > today:
        raise FutureRun(
            f"cannot age the portfolio for {as_of}: it is after today ({today} in "
            f"{get_settings().default_timezone}); bucket history is never rewritten, so a "
            "future date would block every later run until that date"
        )
    latest = repository.latest_aged_on(session)
    if latest is not None and as_of < latest:
        raise BackdatedRun(
            f"the portfolio was already aged on {latest}; ageing {as_of} would rewrite "
            "bucket history, which is never rewritten"
        )
    report = NightlyReport(as_of=as_of)
    for step in steps():
        if progress is not None:
            progress(step.name)
        report.steps[step.name] = step.run(session, as_of)
        session.flush()
        # steps write in bulk, past the identity map: reload what callers hold
        session.expire_all()
    return report


def age_accounts(session: Session, as_of: date) -> StepCounts:
    """Days past due and bucket per account; a bucket move is written as a transition."""
    settings = get_settings()
    scheme = BucketScheme.from_edges(settings.bucket_edges)
    cutoff = promise_service.end_of_day(as_of, settings.default_timezone)
    seen = updated = moved = 0
    for rows in repository.open_account_chunks(session):
        ids = [r.id for r in rows]
        paid = payment_repository.paid_by_account_before(session, account_ids=ids, before=cutoff)
        account_updates = []
        transitions = []
        for r in rows:
            seen += 1
            aged = days_past_due(
                Schedule(
                    first_due=r.first_due_date,
                    instalment_fen=r.instalment_fen,
                    instalment_count=r.instalment_count,
                ),
                paid_before_fen=r.paid_before_fen,
                payments=[(as_of, paid.get(r.id, 0))],
                as_of=as_of,
            )
            bucket = scheme.bucket(aged.days_past_due)
            if (
                aged.days_past_due == r.days_past_due
                and bucket == r.bucket
                and aged.overdue_fen == r.overdue_fen
                and r.aged_on == as_of
            ):
                continue
            account_updates.append(
                {
                    "id": r.id,
                    "days_past_due": aged.days_past_due,
                    "bucket": bucket,
                    "overdue_fen": aged.overdue_fen,
                    "aged_on": as_of,
                }
            )
            if bucket != r.bucket:
                transitions.append(
                    {
                        "case_id": r.case_id,
                        "account_id": r.id,
                        "as_of": as_of,
                        "from_bucket": r.bucket,
                        "to_bucket": bucket,
                        "days_past_due": aged.days_past_due,
                    }
                )
        repository.update_accounts(session, account_updates)
        repository.add_transitions(session, transitions)
        updated += len(account_updates)
        moved += len(transitions)
    return {"accounts_aged": seen, "accounts_updated": updated, "transitions": moved}


def roll_up_cases(session: Session, as_of: date) -> StepCounts:
    """A case carries its worst account's days past due and bucket, and their total balance."""
    scheme = BucketScheme.from_edges(get_settings().bucket_edges)
    updates = []
    for r in repository.case_rollups(session):
        dpd = int(r.dpd or 0)
        outstanding = int(r.outstanding or 0)
        bucket = scheme.bucket(dpd)
        aged_on = r.accounts_aged_on
        if (r.days_past_due, r.bucket, r.outstanding_fen, r.aged_on) != (
            dpd,
            bucket,
            outstanding,
            aged_on,
        ):
            updates.append(
                {
                    "id": r.id,
                    "days_past_due": dpd,
                    "bucket": bucket,
                    "outstanding_fen": outstanding,
                    "aged_on": aged_on,
                }
            )
    repository.update_cases(session, updates)
    return {"cases_updated": len(updates)}


def resolve_promises(session: Session, as_of: date) -> StepCounts:
    outcome = promise_service.resolve_due(session, as_of=as_of)
    return {
        "promises_kept": outcome.kept,
        "promises_broken": outcome.broken,
        "promises_pending": outcome.pending,
    }


def settle_paid_cases(session: Session, as_of: date) -> StepCounts:
    """An open case with nothing left to pay is settled."""
    settled = 0
    for r in repository.case_rollups(session):
        if int(r.outstanding or 0) == 0 and r.status not in (CaseStatus.ON_HOLD,):
            case = case_service.get(session, case_id=r.id, for_update=True)
            case_service.apply_transition(
                session,
                case,
                to=CaseStatus.SETTLED,
                reason=reasons.nothing_outstanding(as_of),
                actor="nightly",
            )
            settled += 1
    return {"cases_settled": settled}


register_step("age", 10, age_accounts)
register_step("roll_up", 20, roll_up_cases)
register_step("promises", 30, resolve_promises)
register_step("settle", 40, settle_paid_cases)
