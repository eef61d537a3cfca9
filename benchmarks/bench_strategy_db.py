"""Nightly strategy from database to written results: score + segment + treat for N open
cases on SQLite and PostgreSQL (target ≤ 60 s for 1,000,000), printed beside the raw model
prediction time for the same rows measured in the same run.

    python benchmarks/bench_strategy_db.py [--cases 1000000] [--backends sqlite,postgresql]

Rows are bulk-loaded straight through the driver (COPY on PostgreSQL) so that loading is not
what is measured; the measured part is `debtflow.strategy.service.plan_cases`, which reads the
open cases in chunks, scores them with the current model, segments, proposes plans and writes
every result back (first run: every case changes), then runs it again (nothing changed, so
nothing is written). A progress bar goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import create_engine, inspect, text

from debtflow.core.strategy.features import RepaymentHistory, build_features
from debtflow.db import make_engine, unit_of_work
from debtflow.migrate import upgrade
from debtflow.strategy import service, training

AS_OF = date(2026, 11, 20)
CAUSES = np.array(["unknown", "unemployment", "illness", "business_downturn", "deliberate"])


def synthetic(cases: int, seed: int = 5) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    dpd = rng.choice([0, 10, 25, 45, 75, 100, 140, 220], size=cases)
    status = np.clip((dpd[:, None] - 30 * np.arange(6)[None, :] + 29) // 30, -1, 9)
    status = np.where(status <= 0, -1, status)
    instalment = rng.integers(300, 6000, size=cases) * 100
    paid = np.where(status > 0, 0, instalment[:, None])
    return {
        "dpd": dpd,
        "cause": rng.choice(CAUSES, size=cases, p=[0.5, 0.15, 0.1, 0.1, 0.15]),
        "status": status,
        "statement": np.repeat(instalment[:, None], 6, axis=1),
        "paid": paid,
        "instalment": instalment,
        "principal": instalment * rng.integers(3, 30, size=cases),
        "interest": instalment // 10,
        "penalty": instalment // 20,
        "income": rng.integers(30, 300, size=cases) * 10_000,
    }


def _rows(data: dict[str, np.ndarray]) -> tuple[list[tuple], list[tuple], list[tuple]]:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    debtors, cases, accounts = [], [], []
    for i in range(len(data["dpd"])):
        n = i + 1
        debtors.append(
            (n, "person", f"债务人{n}", f"ID{n:017d}", "1985-06-01", "某公司", "Asia/Shanghai",
             int(data["income"][i]), 0, 1, int(data["income"][i]) // 2, "[]", now, now)
        )  # fmt: skip
        cases.append(
            (n, 1, n, "active", "M1", int(data["dpd"][i]), int(data["principal"][i]), "online",
             str(data["cause"][i]), now, now)
        )  # fmt: skip
        history = json.dumps(
            [
                {"status": int(s), "statement_fen": int(b), "paid_fen": int(p)}
                for s, b, p in zip(
                    data["status"][i], data["statement"][i], data["paid"][i], strict=True
                )
            ]
        )
        accounts.append(
            (n, 1, n, n, f"A{n}", "consumer", int(data["principal"][i]), int(data["principal"][i]),
             int(data["interest"][i]), 0, int(data["penalty"][i]), 1500, int(data["instalment"][i]),
             12, "2026-01-01", 0, "2025-12-01", history, int(data["dpd"][i]), "M1", 0, now, now)
        )  # fmt: skip
    return debtors, cases, accounts


DEBTOR_COLS = ("id", "debtor_type", "name", "id_number", "birth_date", "employer", "timezone",
               "monthly_income_fen", "other_debts_fen", "dependents", "monthly_spending_fen",
               "main_customers", "created_at", "updated_at")  # fmt: skip
CASE_COLS = ("id", "creditor_id", "debtor_id", "status", "bucket", "days_past_due",
             "outstanding_fen", "channel", "overdue_cause", "opened_at", "updated_at")  # fmt: skip
ACCOUNT_COLS = ("id", "creditor_id", "debtor_id", "case_id", "account_number", "product_type",
                "original_fen", "principal_fen", "interest_fen", "fees_fen", "penalty_fen",
                "annual_rate_bp", "instalment_fen", "instalment_count", "first_due_date",
                "paid_before_fen", "opened_on", "repayment_history", "days_past_due", "bucket",
                "overdue_fen", "imported_at", "updated_at")  # fmt: skip


def load(url: str, data: dict[str, np.ndarray]) -> float:
    engine = make_engine(url)
    upgrade(engine)
    start = time.perf_counter()
    debtors, cases, accounts = _rows(data)
    debtor_cols: tuple[str, ...] = DEBTOR_COLS
    if "id_number" not in {c["name"] for c in inspect(engine).get_columns("debtor")}:
        # ID numbers are stored encrypted beside a blind index (migration 0009); the strategy
        # step never reads them, so a placeholder token per debtor is enough here
        debtor_cols = tuple(c for c in DEBTOR_COLS if c != "id_number") + (
            "id_number_encrypted",
            "id_number_index",
        )
        debtors = [(*row[:3], *row[4:], f"bench-{row[0]}", f"{row[0]:064x}") for row in debtors]
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO creditor (id, code, name, compliance_pack, max_relief_bp, "
            "max_term_months, min_first_payment_bp, created_at) VALUES "
            "(1, 'BENCH', 'bench', 'cn-2025', 3000, 48, 200, CURRENT_TIMESTAMP)"
        )
        raw = connection.connection.dbapi_connection
        for table, columns, rows in (
            ("debtor", debtor_cols, debtors),
            ("case", CASE_COLS, cases),
            ("account", ACCOUNT_COLS, accounts),
        ):
            if engine.dialect.name == "postgresql":
                with raw.cursor() as cursor:  # type: ignore[union-attr]
                    names = ", ".join(f'"{c}"' for c in columns)
                    with cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                        for row in rows:
                            copy.write_row(row)
            else:
                marks = ", ".join("?" * len(columns))
                names = ", ".join(f'"{c}"' for c in columns)
                raw.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)
    engine.dispose()
    return time.perf_counter() - start


def plan(url: str, label: str) -> tuple[float, float, dict[str, int]]:
    """Wall and CPU seconds (this process: with SQLite that includes the database) of one
    nightly strategy step, with a progress bar on stderr."""
    engine = make_engine(url)
    with Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)
        start, cpu = time.perf_counter(), time.process_time()
        with unit_of_work(engine) as session:
            counts = service.plan_cases(
                session, AS_OF, progress=lambda done: bar.update(task, completed=done)
            )
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    engine.dispose()
    return elapsed, cpu, counts


def _load_average() -> str:
    return " / ".join(f"{v:.1f}" for v in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    model = training.current_model()
    data = synthetic(args.cases)
    history = RepaymentHistory(
        status=data["status"].astype(np.int64),
        statement_amount=np.round(data["statement"] * 0.044).astype(np.int64),
        paid_amount=np.round(data["paid"] * 0.044).astype(np.int64),
        credit_limit=np.round(data["principal"] * 0.044).astype(np.int64),
        age_years=np.full(args.cases, 41.0),
    )
    print(f"{args.cases:,} cases; load average at start {_load_average()} (1/5/15 min)")
    features = build_features(history)
    start = time.perf_counter()
    model.booster.predict(features, raw_score=True, num_threads=0)
    booster = time.perf_counter() - start
    start = time.perf_counter()
    model.score(history)
    raw = time.perf_counter() - start
    print(f"raw booster prediction (feature matrix given)   : {booster:7.1f} s")
    print(f"raw model prediction (features+booster+Platt)   : {raw:7.1f} s")

    for backend in args.backends.split(","):
        pg_name = None
        if backend == "sqlite":
            url = f"sqlite:///{tempfile.mkdtemp(prefix='debtflow-bench-')}/strategy.db"
        else:
            pg_name = f"debtflow_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{pg_name}"'))
            url = args.pg_url.rsplit("/", 1)[0] + "/" + pg_name
        try:
            loaded = load(url, data)
            elapsed, cpu, counts = plan(url, f"{backend} strategy")
            assert counts == {"cases_scored": args.cases, "strategy_updated": args.cases}, counts
            print(
                f"{backend:10s} score+segment+treat, DB → DB   : {elapsed:7.1f} s "
                f"({args.cases / elapsed:,.0f} cases/s, {elapsed / raw:.1f} × raw prediction; "
                f"{cpu:.1f} CPU s in this process; target ≤ 60 s for 1M; "
                f"loading took {loaded:.0f} s; load average {_load_average()})"
            )
            again, cpu, counts = plan(url, f"{backend} again")
            assert counts == {"cases_scored": args.cases, "strategy_updated": 0}, counts
            print(
                f"{backend:10s} the same again, nothing changed: {again:7.1f} s "
                f"({cpu:.1f} CPU s; every result's fingerprint unchanged, nothing written)"
            )
        finally:
            if pg_name:
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
                admin.dispose()
            elif backend == "sqlite":
                Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)


if __name__ == "__main__":
    main()
