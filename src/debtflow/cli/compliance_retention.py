"""``debtflow compliance delete-records``: a debtor's request to delete their contact
records, decided against the retention rules (docs/compliance-operations.md, "Retention and
deletion requests")."""

from __future__ import annotations

from typing import Annotated

import typer

from debtflow.cli.common import domain_errors, echo_json, transaction
from debtflow.compliance.retention import request_deletion
from debtflow.core.compliance.retention import DeletionVerdict

VERDICT_TEXT = {
    DeletionVerdict.DELETE: "may be deleted",
    DeletionVerdict.KEEP_RETENTION_PERIOD: "kept: the retention period has not passed",
    DeletionVerdict.KEEP_LEGAL_HOLD: "kept: a legal hold is in force",
}


@domain_errors
def delete_records(
    debtor_id: Annotated[int, typer.Argument(help="The debtor who asked.", min=1)],
    apply: Annotated[
        bool, typer.Option("--apply", help="Delete when the rules allow (default: only say).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """May the debtor's contact records (attempts, gate decisions, overrides, restrictions, QA
    samples, conversation analyses, call alerts, field check-ins and their files, portal disputes,
    personal-data view log) be deleted today, in the debtor's own time zone? With --apply they are
    deleted when the rules allow; promises, payments and the evidence log stay. Exit status 0 when
    they may be (or were) deleted, 1 when they must be kept."""
    with transaction() as session:
        outcome = request_deletion(session, debtor_id=debtor_id, apply=apply)
    may = outcome.verdict == DeletionVerdict.DELETE
    if as_json:
        echo_json(
            {
                "debtor_id": debtor_id,
                "verdict": outcome.verdict.value,
                "keep_until": outcome.keep_until.isoformat() if outcome.keep_until else None,
                "applied": apply and may,
                "deleted": outcome.deleted,
            }
        )
    else:
        typer.echo(f"debtor {debtor_id}: contact records {VERDICT_TEXT[outcome.verdict]}")
        if outcome.keep_until is not None:
            typer.echo(f"retention ends on {outcome.keep_until.isoformat()} (debtor's local date)")
        if apply and may:
            counts = ", ".join(f"{n} {table}" for table, n in outcome.deleted.items() if n)
            typer.echo(f"deleted: {counts or 'nothing was stored'}")
        elif may:
            typer.echo("nothing deleted: run again with --apply to delete")
    if not may:
        raise typer.Exit(1)
