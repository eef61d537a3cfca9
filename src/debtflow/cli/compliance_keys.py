"""``debtflow compliance rotate-pii-key``: re-encrypt every stored ID and phone number under
the current personal-data key (docs/compliance-operations.md, "Personal-data keys")."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from debtflow.cli.common import domain_errors, err_console, ready_engine
from debtflow.compliance import keys
from debtflow.config import personal_data_cipher
from debtflow.db import unit_of_work


@domain_errors
def rotate_pii_key(
    new_key: Annotated[
        bool,
        typer.Option(
            "--new-key",
            help="Development key file only: add a fresh key and make it current first.",
        ),
    ] = False,
    batch: Annotated[int, typer.Option("--batch", min=1, help="Rows per transaction.")] = 1000,
) -> None:
    """Re-encrypt stored personal data under the current key, one committed batch at a
    time (safe to stop and run again)."""
    engine = ready_engine()
    if new_key:
        typer.echo(f"new current key: {keys.add_key_to_file()}", err=True)
    current = personal_data_cipher().current_key_id
    with unit_of_work(engine) as session:
        totals = keys.count_to_examine(session)
    rotated = 0
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as progress:
        for table, total in totals.items():
            task = progress.add_task(f"{table}: re-encrypting under {current}", total=total)
            after = 0
            while True:
                with unit_of_work(engine) as session:
                    done = keys.rotate_batch(session, table=table, after_id=after, limit=batch)
                if not done.examined:
                    break
                after, rotated = done.last_id, rotated + done.rotated
                progress.advance(task, done.examined)
    examined = sum(totals.values())
    typer.echo(f"{rotated} of {examined} stored values re-encrypted under key {current}")
