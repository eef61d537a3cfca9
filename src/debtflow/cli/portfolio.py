"""``debtflow portfolio import``."""

from __future__ import annotations

import logging
import signal
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from debtflow.cli.common import (
    SignalStop,
    business_today,
    console,
    domain_errors,
    err_console,
    fail,
    transaction,
)
from debtflow.portfolio import service
from debtflow.portfolio.reader import UnreadableFile

app = typer.Typer(help="Take in creditors' overdue portfolios.", no_args_is_help=True)


@app.command("import")
@domain_errors
def import_(
    file: Path = typer.Argument(..., help="CSV (UTF-8 or GBK) or XLSX portfolio file"),
    creditor: str = typer.Option(..., "--creditor", help="code of the placing creditor"),
    dry_run: bool = typer.Option(False, "--dry-run", help="validate and report; write nothing"),
    skip_invalid: bool = typer.Option(
        False, "--skip-invalid", help="import the valid rows; write the rejects to a file"
    ),
    rejects: Path | None = typer.Option(
        None,
        "--rejects",
        help="where to write rejected rows (default: beside FILE, NAME.rejects.csv)",
    ),
) -> None:
    """Validate every row and import the file; any error and nothing changes (exit 1)."""
    today = business_today()
    stop = SignalStop()
    try:
        with (
            stop,
            Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err_console,
                transient=True,
            ) as progress,
        ):
            task = progress.add_task(f"importing {file.name}", total=None)
            try:
                with transaction() as session:
                    result = service.import_portfolio(
                        session,
                        path=file,
                        creditor_code=creditor,
                        today=today,
                        dry_run=dry_run,
                        skip_invalid=skip_invalid,
                        rejects_path=rejects,
                        progress=lambda n: progress.advance(task, n),
                    )
                    stop.hold()  # imported: a signal from here on does not cut the commit short
            except UnreadableFile as exc:
                raise fail(exc.message, 2) from None
            except service.PortfolioRejected as exc:
                progress.stop()
                for error in exc.errors:
                    err_console.print(str(error), highlight=False, markup=False)
                raise fail(
                    f"{len(exc.errors)} error(s) in {file.name}; nothing was imported "
                    "(fix them, or use --skip-invalid)",
                    1,
                ) from None
    except BaseException:
        if stop.signal is None:
            raise
        # stopped before the commit (whatever the unwinding raised): the transaction and
        # the worker processes are gone, nothing was written. The database connection may
        # have been cut off mid-statement: handing it back to the pool as the process ends
        # would try a ROLLBACK the driver cannot send and log a traceback — the server rolls
        # back when the connection closes, so the pool's reset errors are not reported
        logging.getLogger("sqlalchemy.pool").setLevel(logging.CRITICAL + 1)
        err_console.print("interrupted: nothing was imported", highlight=False)
        raise typer.Exit(stop.exit_code) from None
    if stop.late is not None:
        err_console.print(
            f"{signal.Signals(stop.late).name} came while the import was being committed: "
            "it was imported",
            highlight=False,
        )

    table = Table(
        title=f"{file.name} → {creditor}" + (" (dry run: nothing written)" if dry_run else "")
    )
    table.add_column("")
    table.add_column("count", justify="right")
    table.add_row("rows read", str(result.rows_read))
    table.add_row("rows valid", str(result.rows_valid))
    table.add_row(
        "accounts " + ("to create" if dry_run else "created"), str(result.accounts_created)
    )
    table.add_row(
        "accounts " + ("to update" if dry_run else "updated"), str(result.accounts_updated)
    )
    if not dry_run:
        table.add_row("cases", str(result.cases_touched))
    table.add_row("rows rejected", str(len({e.row for e in result.errors})))
    console.print(table)
    console.print(f"encoding: {result.encoding}", highlight=False)
    if result.ignored_columns:
        console.print(f"ignored unknown columns: {', '.join(result.ignored_columns)}")
    if result.errors:
        for error in result.errors:
            err_console.print(str(error), highlight=False, markup=False)
        where = "would be written to" if dry_run else "written to"
        console.print(f"rejected rows {where} {result.rejects_path}")
