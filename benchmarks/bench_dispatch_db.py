"""Nightly dispatch and real-time assignment through the database.

Builds a demo portfolio of ``--cases`` cases in a fresh database (SQLite file or a new
PostgreSQL database), then measures

* the nightly ``dispatch`` step from scratch (every case released first): load, score
  top-k candidates, solve, write history;
* a second ``dispatch`` run for the same date (nothing to change: the re-check cost);
* ``assign_now`` for ``--assign`` released cases, one by one (p50 / p99 latency), with
  the whole portfolio assigned around them; as the baseline measured in the same run,
  the nightly re-solve time per case it would otherwise wait for.

    .venv/bin/python benchmarks/bench_dispatch_db.py --cases 2000 --db sqlite
    .venv/bin/python benchmarks/bench_dispatch_db.py --cases 2000 --db postgresql
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

PG_ADMIN_URL = os.environ.get(
    "DEBTFLOW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--assign", type=int, default=200, help="real-time placements timed")
    parser.add_argument("--propensity-model", type=Path, default=None)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-dispatch-"))
    pg_name = None
    if args.db == "sqlite":
        url = f"sqlite:///{workdir}/bench.db"
    else:
        from sqlalchemy import create_engine, text

        pg_name = f"bench_dispatch_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{pg_name}"'))
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + pg_name
    os.environ["DEBTFLOW_DATABASE_URL"] = url
    os.environ["DEBTFLOW_DATA_DIR"] = str(workdir)
    if args.propensity_model is not None:
        os.environ["DEBTFLOW_PROPENSITY_MODEL"] = str(args.propensity_model)
    try:
        run(args, workdir)
    finally:
        if pg_name is not None:
            from sqlalchemy import create_engine, text

            from debtflow.db import get_engine

            get_engine().dispose()
            admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))


def run(args: argparse.Namespace, workdir: Path) -> None:
    from sqlalchemy import func, select, update

    from debtflow.cli.common import business_today
    from debtflow.db import get_engine, unit_of_work
    from debtflow.demo import service as demo_service
    from debtflow.dispatch import errors, realtime, service
    from debtflow.migrate import upgrade
    from debtflow.models import Case, DispatchAssignment

    engine = get_engine()
    upgrade(engine)
    today = business_today()
    started = time.perf_counter()
    with unit_of_work(engine) as session:
        demo_service.build(session, cases=args.cases, seed=7, today=today, workdir=workdir / "demo")
    print(
        f"demo portfolio of {args.cases} cases on {args.db}: {time.perf_counter() - started:.1f} s"
    )

    with unit_of_work(engine) as session:
        session.execute(update(Case).values(assigned_collector_id=None, assigned_at=None))
    with unit_of_work(engine) as session:
        started = time.perf_counter()
        counts = service.dispatch_cases(session, today + timedelta(days=1))
        full = time.perf_counter() - started
    print(
        f"nightly dispatch from scratch: {full:.2f} s for {counts['dispatch_cases']} cases "
        f"({counts['dispatch_assigned']} assigned, {counts['dispatch_queued']} queued, "
        f"gap to bound {counts.get('dispatch_gap_bp', 0) / 100:.2f} %)"
    )
    with unit_of_work(engine) as session:
        started = time.perf_counter()
        again = service.dispatch_cases(session, today + timedelta(days=1))
        second = time.perf_counter() - started
    print(f"second run, same date: {second:.2f} s, {again['dispatch_assigned']} changes")

    with unit_of_work(engine) as session:
        released = session.scalars(
            select(Case.id)
            .where(Case.assigned_collector_id.is_not(None))
            .order_by(Case.id)
            .limit(args.assign)
        ).all()
        session.execute(
            update(Case)
            .where(Case.id.in_(released))
            .values(assigned_collector_id=None, assigned_at=None)
        )
        assigned = session.scalar(
            select(func.count()).select_from(Case).where(Case.assigned_collector_id.is_not(None))
        )
    latencies = []
    refused = 0
    with unit_of_work(engine) as session:
        # warm caches (learner, imports); a case worth nothing stays queued
        with contextlib.suppress(errors.NoCollectorFree):
            realtime.assign_now(session, case_id=released[0])
        for case_id in released[1:]:
            started = time.perf_counter()
            try:
                realtime.assign_now(session, case_id=case_id)
            except errors.NoCollectorFree:
                refused += 1
            latencies.append(time.perf_counter() - started)
        history = session.scalar(select(func.count()).select_from(DispatchAssignment))
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] * 1000
    per_case_nightly = full / max(1, counts["dispatch_cases"]) * 1000
    print(
        f"assign_now with {assigned} cases assigned around it, {len(latencies)} placements "
        f"({refused} found no room): p50 {p50:.2f} ms, p99 {p99:.2f} ms, "
        f"max {latencies[-1] * 1000:.2f} ms"
    )
    print(
        f"baseline, same run: a nightly re-solve takes {full * 1000:.0f} ms "
        f"({per_case_nightly:.2f} ms per case); one real-time placement is "
        f"{full * 1000 / p50:.0f}x faster than waiting for a re-solve"
    )
    print(f"assignment history rows kept: {history}")
    learning(engine)


def learning(engine: object) -> None:
    """A simulated stream of outcomes through record_outcome: collector A recovers every
    case it holds in full, collector B nothing; the learned values of one probe case
    against A and B before and after."""
    from sqlalchemy import select

    from debtflow.db import unit_of_work
    from debtflow.dispatch import learning, overrides
    from debtflow.models import Case, Collector, PromiseToPay
    from debtflow.models.enums import PromiseStatus

    with unit_of_work(engine) as session:
        online = session.scalars(
            select(Collector.id).where(Collector.kind == "online_agent").order_by(Collector.id)
        ).all()
        good, poor = online[0], online[1]
        promised = select(PromiseToPay.case_id).where(
            PromiseToPay.status == PromiseStatus.PENDING
        )  # a pending promise keeps a case with its collector: no override moves it
        cases = session.scalars(
            select(Case)
            .where(Case.assigned_collector_id.in_(online), Case.id.not_in(promised))
            .order_by(Case.id)
            .limit(81)
        ).all()
        probe = cases[0].id

        def values() -> dict[int, int]:
            return {
                v.collector_id: v.value_fen
                for v in learning.candidate_values(
                    session, case_id=probe, collector_ids=[good, poor]
                )
            }

        before = values()
        for i, case in enumerate(cases[1:]):
            target = good if i % 2 == 0 else poor
            if case.assigned_collector_id != target:
                overrides.override(
                    session,
                    case_id=case.id,
                    collector_id=target,
                    reason="simulation",
                    by="bench",
                    over_capacity=True,  # the simulation piles cases on two agents
                )
            learning.record_outcome(
                session,
                case_id=case.id,
                recovered_fen=case.outstanding_fen if target == good else 0,
                contacted=True,
            )
        after = values()
    moved = (after[good] - after[poor]) - (before[good] - before[poor])
    print(
        f"learning, {len(cases) - 1} simulated outcomes: case {probe} valued "
        f"A ¥{before[good] / 100:,.2f} → ¥{after[good] / 100:,.2f}, "
        f"B ¥{before[poor] / 100:,.2f} → ¥{after[poor] / 100:,.2f} "
        f"(A − B moved by ¥{moved / 100:,.2f})"
    )


if __name__ == "__main__":
    main()
