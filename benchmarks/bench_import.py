"""Portfolio import rate on SQLite and PostgreSQL (target ≥ 5,000 rows/s for 100,000 rows).

The baseline measured in the same run is reading + validating the same file in one process
without a database, so the ratio shows what preparing (encryption), the worker processes and
the database writes cost on top of validation. The machines are shared, so beside the wall
rate each import prints the CPU seconds it used — in this process, in its worker processes
and, on PostgreSQL, in the server backend — and the load average: rows per CPU second is
the figure that does not move with other people's work.

    python benchmarks/bench_import.py [--rows 100000] [--pg-url postgresql+psycopg://…]
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
import uuid
from dataclasses import dataclass
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
TARGET = 5000


@dataclass
class Measured:
    wall: float
    own_cpu: float
    worker_cpu: float
    server_cpu: float | None
    created: int

    @property
    def cpu(self) -> float:
        return self.own_cpu + self.worker_cpu + (self.server_cpu or 0.0)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _process_cpu(pid: int) -> float:
    """CPU seconds of another process on this machine (the PostgreSQL backend)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed_import(url: str, path: Path) -> Measured:
    engine = make_engine(url)
    upgrade(engine)
    with unit_of_work(engine) as session:
        creditor_service.save(session, code="BENCH", name="基准银行")
    with unit_of_work(engine) as session:
        backend = None
        if engine.dialect.name == "postgresql":
            backend = session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
        server_before = _process_cpu(backend) if backend else 0.0
        children_before = _children_cpu()
        own_before = time.process_time()
        start = time.perf_counter()
        result = service.import_portfolio(session, path=path, creditor_code="BENCH", today=TODAY)
        session.commit()
        elapsed = time.perf_counter() - start
        own = time.process_time() - own_before
        server = _process_cpu(backend) - server_before if backend else None
    engine.dispose()
    return Measured(
        elapsed, own, _children_cpu() - children_before, server, result.accounts_created
    )


def report(label: str, rows: int, measured: Measured, baseline: float) -> None:
    server = f" + server {measured.server_cpu:.1f}" if measured.server_cpu is not None else ""
    print(
        f"{label:<11}import              : {rows / measured.wall:10,.0f} rows/s "
        f"({measured.wall:.1f} s) = {baseline / measured.wall:.2f} × baseline rate   "
        f"target ≥ {TARGET:,} rows/s\n"
        f"{'':<10}  CPU s: main {measured.own_cpu:.1f} + workers {measured.worker_cpu:.1f}"
        f"{server} = {measured.cpu:.1f} → {rows / measured.cpu:,.0f} rows per CPU second; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )


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
    cpu_start = time.process_time()
    sheet = read_portfolio(path)
    report_ = validate_portfolio(sheet.header, sheet.rows, today=TODAY)
    baseline = time.perf_counter() - start
    baseline_cpu = time.process_time() - cpu_start
    assert report_.ok, report_.errors[:3]
    del sheet, report_
    print(
        f"baseline  read + validate only : {args.rows / baseline:10,.0f} rows/s ({baseline:.1f} s;"
        f" {baseline_cpu:.1f} CPU s, one process); load average {os.getloadavg()[0]:.1f}"
    )

    measured = timed_import(f"sqlite:///{workdir}/bench.db", path)
    assert measured.created == args.rows
    report("SQLite", args.rows, measured, baseline)

    name = f"debtflow_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        measured = timed_import(args.pg_url.rsplit("/", 1)[0] + "/" + name, path)
        assert measured.created == args.rows
        report("PostgreSQL", args.rows, measured, baseline)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
