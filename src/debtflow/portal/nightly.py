"""The nightly step that ends signed plans whose instalments are too late.

The signed agreement says (term 2): if any instalment is more than 30 days late, the
creditor may end it and the relief lapses. Step ``plan_breach`` (order 45: after promises
are resolved and paid cases settled, before the strategy step plans the case again) breaks
every such plan (:func:`debtflow.portal.plan_ending.break_plan_if_late`). How late an instalment
is, is counted in the debtor's local dates, as its due dates are: the debtor's date at the
last moment of the business date ``as_of`` (in ``default_timezone``). Safe to run twice: a
broken plan is no longer signed.
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from debtflow.config import get_settings
from debtflow.db import utcnow
from debtflow.nightly.service import StepCounts, register_step
from debtflow.portal import plan_ending, repository
from debtflow.promise.service import end_of_day


def _local_date(zone_name: str | None, as_of: date) -> date:
    default = get_settings().default_timezone
    last_moment = end_of_day(as_of, default) - timedelta(microseconds=1)
    try:
        zone = ZoneInfo(zone_name or default)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo(default)
    return last_moment.astimezone(zone).date()


def break_late_plans(session: Session, as_of: date) -> StepCounts:
    """Break every signed plan with an instalment more than 30 days late on ``as_of``."""
    at = utcnow()
    checked = broken = moved = reversed_fen = 0
    for plan_id, case_id, zone in repository.signed_plans_of_open_cases(session):
        checked += 1
        outcome = plan_ending.break_plan_if_late(
            session, case_id=case_id, plan_id=plan_id, today=_local_date(zone, as_of), at=at
        )
        if outcome is None:
            continue
        broken += 1
        moved += outcome.case_moved
        reversed_fen += outcome.interest_reversed_fen
    return {
        "plans_checked": checked,
        "plans_broken": broken,
        "cases_reactivated": moved,
        "plan_interest_reversed_fen": reversed_fen,
    }


register_step("plan_breach", 45, break_late_plans)
