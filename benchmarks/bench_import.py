"""Portfolio import rate on SQLite and PostgreSQL (target ≥ 5,000 rows/s for 100,000 rows).

The baseline measured in the same run is reading + validating the same file without a
database, so the ratio shows what the database writes cost on top of validation.

    python benchmarks/bench_import.py [--rows 100000] [--pg-url postgresql+psycopg://…]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, text

from debtflow.core.portfolio.validation import validate_portfolio
from debtflow.creditor import service as creditor_service
from debtflow.db import make_engine, unit_of_work
from debtflow.demo.portfolio import CREDITORS, generate_rows, write_csv
from debtflow.migrate import upgrade
from debtflow.portfolio import service
from debtflow.portfolio.reader import read_portfolio

TODAY = date(2026, 11, 20)


def timed_import(url: str, path: Path) -> tuple[float, int]:
    engine = make_engine(url)
    upgrade(engine)
    with unit_of_work(engine) as session:
        creditor_service.save(session, code="BENCH", name="基准银行")
    start = time.perf_counter()
    with unit_of_work(engine) as session:
        result = service.import_portfolio(session, path=path, creditor_code="BENCH", today=TODAY)
    elapsed = time.perf_counter() - start
    engine.dispose()
    return elapsed, result.accounts_created


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="debtflow-bench-"))
    path = workdir / "portfolio.csv"
    t0 = time.perf_counter()
    write_csv(path, generate_rows(CREDITORS[0], count=args.rows, seed=11, today=TODAY))
    megabytes = path.stat().st_size / 1e6
    print(f"generated {args.rows:,} rows in {time.perf_counter() - t0:.1f} s ({megabytes:.1f} MB)")

    start = time.perf_counter()
    sheet = read_portfolio(path)
    report = validate_portfolio(sheet.header, sheet.rows, today=TODAY)
    baseline = time.perf_counter() - start
    assert report.ok, report.errors[:3]
    print(
        f"baseline  read + validate only : {args.rows / baseline:10,.0f} rows/s ({baseline:.1f} s)"
    )

    elapsed, created = timed_import(f"sqlite:///{workdir}/bench.db", path)
    assert created == args.rows
    print(
        f"SQLite    import               : {args.rows / elapsed:10,.0f} rows/s ({elapsed:.1f} s)"
        f"  = {baseline / elapsed:.2f} × baseline rate   target ≥ 5,000 rows/s"
    )

    name = f"debtflow_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        elapsed, created = timed_import(args.pg_url.rsplit("/", 1)[0] + "/" + name, path)
        assert created == args.rows
        print(
            f"PostgreSQL import               : {args.rows / elapsed:10,.0f} rows/s "
            f"({elapsed:.1f} s)"
            f"  = {baseline / elapsed:.2f} × baseline rate   target ≥ 5,000 rows/s"
        )
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
