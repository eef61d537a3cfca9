"""Build the demo: creditors, a synthetic portfolio imported through the real intake path,
a workforce, some payments and promises, then the nightly cycle."""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from debtflow.case import repository as case_repository
from debtflow.collector import service as collector_service
from debtflow.config import get_settings, personal_data_cipher
from debtflow.core.case.lifecycle import OPEN_STATUSES
from debtflow.core.errors import InvalidInput
from debtflow.creditor import service as creditor_service
from debtflow.demo.collectors import generate_collectors
from debtflow.demo.portfolio import CREDITORS, generate_rows, write_csv
from debtflow.models import Account, Case
from debtflow.nightly import service as nightly_service
from debtflow.payment import service as payment_service
from debtflow.portfolio import service as portfolio_service
from debtflow.promise import service as promise_service
from debtflow.strategy import training

#: each creditor's share of the demo portfolio, in percent (in the order of ``CREDITORS``)
SHARES = (50, 30, 20)
ZONE = ZoneInfo("Asia/Shanghai")
MAX_CASES = 1_000_000


@dataclass
class DemoSummary:
    as_of: date
    buckets: list[tuple[str, int, int]]
    collectors: dict[str, int]
    accounts: int
    payments: int
    promises: int
    nightly: nightly_service.NightlyReport


class DemoNotBuildable(InvalidInput):
    code = "demo_not_buildable"


def portfolio_counts(cases: int) -> list[int]:
    """``cases`` accounts shared among the creditors by ``SHARES`` (largest remainder): the
    counts add up to ``cases`` exactly; with fewer cases than creditors some get none."""
    total = sum(SHARES)
    counts = [cases * share // total for share in SHARES]
    by_remainder = sorted(range(len(SHARES)), key=lambda i: (-(cases * SHARES[i] % total), i))
    for i in by_remainder[: cases - sum(counts)]:
        counts[i] += 1
    return counts


def check_buildable(*, cases: int, workdir: Path) -> None:
    """Refuse now what would stop ``build`` half way — before ``debtflow demo --reset``
    empties the database: a number of cases out of range, a working folder that cannot be
    written, personal-data keys that do not open, no propensity model and no data to train
    one from."""
    if not 1 <= cases <= MAX_CASES:
        raise DemoNotBuildable(f"--cases must be between 1 and {MAX_CASES:,}")
    try:
        workdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DemoNotBuildable(
            f"cannot create the demo's folder {workdir}: {exc.strerror}"
        ) from None
    if not os.access(workdir, os.W_OK):
        raise DemoNotBuildable(f"the demo's folder {workdir} is not writable")
    personal_data_cipher()  # a key that does not open is refused here (exit 2)
    if not training.model_path().exists() and not get_settings().training_data.is_file():
        raise DemoNotBuildable(
            f"no propensity model at {training.model_path()} and no training data at "
            f"{get_settings().training_data} to train one from"
        )


def build(
    session: Session,
    *,
    cases: int,
    seed: int,
    today: date,
    workdir: Path,
    on_stage: Callable[[str], None] | None = None,
    on_rows: Callable[[int], None] | None = None,
) -> DemoSummary:
    def stage(text: str) -> None:
        if on_stage is not None:
            on_stage(text)

    stage("creditors")
    for profile in CREDITORS:
        relief, term, first = profile.mandate
        creditor_service.save(
            session,
            code=profile.code,
            name=profile.name,
            max_relief_bp=relief,
            max_term_months=term,
            min_first_payment_bp=first,
        )
    start = 0
    for profile, count in zip(CREDITORS, portfolio_counts(cases), strict=True):
        if count == 0:
            continue  # a very small demo: this creditor places no portfolio
        stage(f"portfolio {profile.code}")
        rows = generate_rows(profile, count=count, seed=seed, today=today, start=start)
        start += count
        path = workdir / f"portfolio-{profile.code.lower()}.csv"
        write_csv(path, rows)
        portfolio_service.import_portfolio(
            session, path=path, creditor_code=profile.code, today=today, progress=on_rows
        )
    stage("collectors")
    collector_service.save_many(session, specs=generate_collectors(cases=cases, seed=seed))
    stage("payments and promises")
    _place(session, today=today)
    payments, promises = _activity(session, seed=seed, today=today)
    stage("nightly cycle")
    report = nightly_service.run(session, as_of=today)
    return DemoSummary(
        as_of=today,
        buckets=sorted(case_repository.bucket_summary(session), key=lambda b: _bucket_key(b[0])),
        collectors=collector_service.count_by_kind(session),
        accounts=session.scalar(select(func.count()).select_from(Account)) or 0,
        payments=payments,
        promises=promises,
        nightly=report,
    )


def _bucket_key(bucket: str) -> int:
    digits = "".join(ch for ch in bucket if ch.isdigit())
    return int(digits or 0)


#: the demo's portfolio was handed over this many days before ``today``: its recent
#: payments and promises happen after the placement, never before it
PLACED_DAYS_AGO = 30
#: the share of the demo's promises that a payment keeps (paid on or before the due date);
#: the others are broken once their grace days have passed, or still pending
PROMISE_KEPT_SHARE = 0.55


def _place(session: Session, *, today: date) -> datetime:
    """Date the imported portfolio's placement ``PLACED_DAYS_AGO`` days before ``today``
    (09:00 local): the cases' ``opened_at`` and the accounts' ``imported_at``, which the
    dashboard reads as the placement (recovery, roll rates). The import stamped them with
    the wall clock, after the activity the demo then dates in the past."""
    placed = datetime.combine(today - timedelta(days=PLACED_DAYS_AGO), time(9, 0), ZONE)
    session.execute(update(Case).values(opened_at=placed))
    session.execute(update(Account).values(imported_at=placed))
    session.flush()
    return placed


def _activity(session: Session, *, seed: int, today: date) -> tuple[int, int]:
    """Recent payments on ~15 % of open cases and promises on ~20 %, every one dated after
    its case was placed and before ``today``: about ``PROMISE_KEPT_SHARE`` of the promises
    are kept by a payment of the promised amount on or before their due date, the rest are
    broken (or still pending, when due lately) — so the dashboard's promise-kept rate is a
    mix, not 0 of N."""
    rng = random.Random(f"{seed}:activity")
    rows = session.execute(
        select(Case.id, Account.id, Account.instalment_fen, Case.outstanding_fen, Case.opened_at)
        .join(Account, Account.case_id == Case.id)
        .where(Case.status.in_(list(OPEN_STATUSES)))
        .order_by(Case.id, Account.id)
    ).all()
    payments = promises = 0
    seen_cases: set[int] = set()
    yesterday = today - timedelta(days=1)

    def paid_at(day: date, placed: datetime) -> datetime:
        at = datetime.combine(day, time(rng.randint(8, 20), rng.randint(0, 59)), ZONE)
        return max(at, placed.astimezone(ZONE) + timedelta(minutes=1))

    for case_id, account_id, instalment, outstanding, opened_at in rows:
        if case_id in seen_cases:
            continue
        seen_cases.add(case_id)
        placed_on = opened_at.astimezone(ZONE).date()
        if placed_on >= yesterday:
            continue  # placed too lately for any activity before today
        earliest = (placed_on - today).days + 1  # days back from today, after the placement
        roll = rng.random()
        if roll < 0.15:
            day = today + timedelta(days=rng.randint(max(earliest, -20), -1))
            amount = instalment * rng.choice((30, 50, 100, 100, 200)) // 100
            payment_service.book(
                session,
                account_id=account_id,
                amount_fen=max(amount, 100),
                paid_at=paid_at(day, opened_at),
                reference=f"DEMO-{seed}-{account_id}",
                actor="demo",
            )
            payments += 1
        elif roll < 0.35 and min(instalment, outstanding) > 0:
            made = today + timedelta(days=rng.randint(max(earliest, -25), -1))
            promised = min(instalment, outstanding)  # never more than the case owes
            due = made + timedelta(days=rng.randint(3, 20))
            promise_service.record(
                session,
                case_id=case_id,
                amount_fen=promised,
                made_on=made,
                due=due,
                actor="demo",
            )
            promises += 1
            if rng.random() < PROMISE_KEPT_SHARE:
                # kept: the promised amount paid between the promise and its due date
                last = min(due, yesterday)
                day = made + timedelta(days=rng.randint(0, (last - made).days))
                payment_service.book(
                    session,
                    account_id=account_id,
                    amount_fen=promised,
                    paid_at=paid_at(day, opened_at),
                    reference=f"DEMO-{seed}-{account_id}-promise",
                    actor="demo",
                )
                payments += 1
    return payments, promises
