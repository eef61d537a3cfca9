"""``debtflow demo``."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.table import Table
from sqlalchemy import Engine

from debtflow.auth.demo_users import create_demo_users
from debtflow.cli.common import (
    business_today,
    console,
    domain_errors,
    domain_exit,
    err_console,
    fail,
    opening_database,
)
from debtflow.config import get_settings
from debtflow.core.errors import DomainError
from debtflow.core.money import fen_to_yuan
from debtflow.db import get_engine, unit_of_work
from debtflow.evidence import nightly as evidence_nightly
from debtflow.migrate import downgrade, upgrade


def reset_database(engine: Engine) -> None:
    """Empty the database: an SQLite file is removed; elsewhere every migration is undone."""
    if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{engine.url.database}{suffix}").unlink(missing_ok=True)
        return
    downgrade(engine, "base")


DEMO_PASSWORD = "debtflow-demo"


@domain_errors
def demo(
    cases: int = typer.Option(2000, "--cases", help="number of accounts in the demo portfolio"),
    seed: int = typer.Option(7, "--seed", help="random seed (same seed, same portfolio)"),
    no_serve: bool = typer.Option(False, "--no-serve", help="build and summarise; don't serve"),
    reset: bool = typer.Option(
        False, "--reset", help="empty the database first (deletes everything in it)"
    ),
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
) -> None:
    """Build a realistic demo portfolio, run the nightly cycle, print a summary, serve."""
    from sqlalchemy import func, select

    from debtflow.demo import service
    from debtflow.models import Case

    if not no_serve:
        from debtflow.cli.serve import check_serving_options

        check_serving_options(port=port)  # before the build, not after it
    workdir = Path(get_settings().data_dir) / "demo"
    # what would stop the build half way is refused before --reset empties the database
    service.check_buildable(cases=cases, workdir=workdir)
    engine = get_engine()
    with opening_database():
        if reset:
            reset_database(engine)
        upgrade(engine)
        with engine.connect() as connection:
            existing = connection.scalar(select(func.count()).select_from(Case))
    if existing:
        raise fail(
            f"{get_settings().database_url} already holds {existing} cases; use --reset to "
            "rebuild the demo there (deletes everything) or set DEBTFLOW_DATABASE_URL",
            1,
        )
    today = business_today()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    try:
        with (
            Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err_console,
                transient=True,
            ) as progress,
            unit_of_work(engine) as session,
        ):
            rows_task = progress.add_task("demo: portfolio rows imported", total=cases)
            stage_task = progress.add_task("demo: starting", total=None)
            summary = service.build(
                session,
                cases=cases,
                seed=seed,
                today=today,
                workdir=workdir,
                on_stage=lambda text: progress.update(stage_task, description=f"demo: {text}"),
                on_rows=lambda n: progress.advance(rows_task, n),
            )
            progress.update(stage_task, description="demo: users for every role")
            users = create_demo_users(session, password=DEMO_PASSWORD)
    except BaseException as exc:
        if not reset:
            raise
        # nothing of the build was committed, but the reset was: say so
        emptied = (
            f"the demo was not built, and --reset had already emptied "
            f"{engine.url.render_as_string(hide_password=True)}: it holds no data now"
        )
        if isinstance(exc, DomainError):
            raise domain_exit(exc, then=emptied) from None
        err_console.print(emptied, highlight=False)
        raise
    evidence_nightly.sign_committed_log()  # the head over the demo's own evidence

    table = Table(title=f"open cases per bucket on {summary.as_of}")
    table.add_column("bucket")
    table.add_column("cases", justify="right")
    table.add_column("outstanding (¥)", justify="right")
    for bucket, count, fen in summary.buckets:
        table.add_row(bucket, str(count), fen_to_yuan(fen))
    table.add_row(
        "total",
        str(sum(b[1] for b in summary.buckets)),
        fen_to_yuan(sum(b[2] for b in summary.buckets)),
    )
    console.print(table)
    people = Table(title="collectors")
    people.add_column("type")
    people.add_column("count", justify="right")
    for kind, count in summary.collectors.items():
        people.add_row(kind, str(count))
    console.print(people)
    console.print(
        f"{summary.accounts} accounts, {summary.payments} payments, {summary.promises} promises; "
        f"nightly cycle wrote {summary.nightly.changes} changes"
    )
    logins = Table(title=f"demo sign-ins (password {DEMO_PASSWORD})")
    logins.add_column("user")
    logins.add_column("role")
    for username, role in users:
        logins.add_row(username, str(role))
    console.print(logins)
    if no_serve:
        return
    from debtflow.cli.serve import serve_app

    # the demo pays through the development-only simulated provider (no money moves)
    os.environ.setdefault("DEBTFLOW_PAYMENT_PROVIDER", "simulated")
    get_settings.cache_clear()
    console.print(f"serving on http://{host}:{port}/ (Ctrl+C to stop)")
    serve_app(host=host, port=port)
