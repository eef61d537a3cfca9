"""``debtflow nightly``."""

from __future__ import annotations

import typer
from rich.table import Table

from debtflow.cli.common import console, domain_errors, err_console, parse_day, transaction
from debtflow.evidence import nightly as evidence_nightly
from debtflow.nightly import service


@domain_errors
def nightly(
    as_of: str | None = typer.Option(
        None, "--as-of", help="business date to age for (YYYY-MM-DD, default today)"
    ),
) -> None:
    """Run the nightly cycle: age accounts, move buckets, resolve promises, settle."""
    day = parse_day(as_of, option="--as-of")
    with (
        err_console.status(f"nightly cycle for {day}") as status,
        transaction() as session,
    ):
        report = service.run(
            session, as_of=day, progress=lambda step: status.update(f"nightly {day}: {step}")
        )
    report.steps["evidence_head_after_commit"] = evidence_nightly.sign_committed_log()
    table = Table(title=f"nightly cycle {day}")
    table.add_column("step")
    table.add_column("figures")
    for name, counts in report.steps.items():
        table.add_row(name, ", ".join(f"{k} {v}" for k, v in counts.items()))
    console.print(table)
    console.print(f"changes written: {report.changes}")
