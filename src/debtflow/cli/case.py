"""``debtflow case``."""

from __future__ import annotations

import typer
from rich.table import Table

from debtflow.case import service
from debtflow.cli.common import business_time, console, domain_errors, fail, transaction
from debtflow.core.case.lifecycle import CaseStatus
from debtflow.core.money import fen_to_yuan

app = typer.Typer(help="Look at and move collection cases.", no_args_is_help=True)


@app.command("show")
@domain_errors
def show(case_id: int = typer.Argument(..., help="case id")) -> None:
    """A case, its accounts and its lifecycle history."""
    with transaction() as session:
        case = service.get_with_accounts(session, case_id=case_id)
        history = service.status_history(session, case_id=case_id)
    console.print(
        f"case {case.id}: {case.status.value}, {case.bucket} ({case.days_past_due} days past "
        f"due), outstanding ¥{fen_to_yuan(case.outstanding_fen)}, channel {case.channel.value}, "
        f"cause {case.overdue_cause.value}"
        + (f", on hold: {case.hold_reason}" if case.hold_reason else "")
    )
    table = Table(title="accounts")
    for column in ("account", "product", "principal", "interest", "fees", "penalty", "DPD"):
        table.add_column(column)
    for a in case.accounts:
        table.add_row(
            a.account_number,
            a.product_type.value,
            fen_to_yuan(a.principal_fen),
            fen_to_yuan(a.interest_fen),
            fen_to_yuan(a.fees_fen),
            fen_to_yuan(a.penalty_fen),
            str(a.days_past_due),
        )
    console.print(table)
    for change in history:
        console.print(
            f"{business_time(change.changed_at)} {change.from_status.value} → "
            f"{change.to_status.value} by {change.actor}"
            + (f": {change.reason}" if change.reason else "")
        )


@app.command("move")
@domain_errors
def move(
    case_id: int = typer.Argument(..., help="case id"),
    to: str = typer.Argument(..., help="new status: " + ", ".join(s.value for s in CaseStatus)),
    reason: str | None = typer.Option(None, "--reason", help="why (required for on_hold)"),
    actor: str = typer.Option("cli", "--by", help="who is moving the case"),
) -> None:
    """Move a case through its lifecycle; an illegal move is refused with the reason."""
    try:
        target = CaseStatus(to)
    except ValueError:
        raise fail(
            f"unknown status {to!r} (one of {', '.join(s.value for s in CaseStatus)})", 2
        ) from None
    with transaction() as session:
        case = service.transition(session, case_id=case_id, to=target, reason=reason, actor=actor)
    console.print(f"case {case.id} is now {case.status.value}")


@app.command("explain")
@domain_errors
def explain(
    case_id: int = typer.Argument(..., help="case id"),
    language: str = typer.Option("both", "--lang", help="zh, en or both"),
) -> None:
    """Why the case has its score, segment and plan, in words (PIPL art. 24): the plan the
    debtor signed when there is one, none for a settled, closed or written-off case."""
    from debtflow.strategy import service as strategy_service

    if language not in ("zh", "en", "both"):
        raise fail("--lang must be zh, en or both", 2)
    with transaction() as session:
        explanation = strategy_service.explain_case(session, case_id=case_id)
    if language in ("zh", "both"):
        console.print(explanation.zh, highlight=False, markup=False)
    if language == "both":
        console.print()
    if language in ("en", "both"):
        console.print(explanation.en, highlight=False, markup=False)
