"""``debtflow creditor``."""

from __future__ import annotations

import typer
from rich.table import Table

from debtflow.cli.common import console, domain_errors, transaction
from debtflow.creditor import service

app = typer.Typer(help="Creditors that place portfolios.", no_args_is_help=True)


@app.command("add")
@domain_errors
def add(
    code: str = typer.Argument(..., help="short code, e.g. ZHAOYANG"),
    name: str = typer.Argument(..., help="registered name"),
    pack: str | None = typer.Option(
        None,
        "--pack",
        help="compliance rule pack (default: cn-2025 for a new creditor; "
        "an existing creditor keeps its pack)",
    ),
    max_relief_bp: int | None = typer.Option(None, help="mandate: maximum relief, basis points"),
    max_term_months: int | None = typer.Option(None, help="mandate: maximum plan term, months"),
    min_first_payment_bp: int | None = typer.Option(
        None, help="mandate: minimum first payment, basis points of the balance"
    ),
) -> None:
    """Create a creditor, or update the one with this code."""
    with transaction() as session:
        creditor = service.save(
            session,
            code=code,
            name=name,
            compliance_pack=pack,
            max_relief_bp=max_relief_bp,
            max_term_months=max_term_months,
            min_first_payment_bp=min_first_payment_bp,
        )
    console.print(f"creditor {creditor.code} saved (id {creditor.id})")


@app.command("list")
@domain_errors
def list_() -> None:
    """List creditors and their mandates."""
    with transaction() as session:
        creditors = service.all_creditors(session)
    table = Table()
    for column in ("code", "name", "pack", "max relief", "max term", "min first payment"):
        table.add_column(column)
    for c in creditors:
        table.add_row(
            c.code,
            c.name,
            c.compliance_pack,
            f"{c.max_relief_bp / 100:.2f} %",
            f"{c.max_term_months} months",
            f"{c.min_first_payment_bp / 100:.2f} %",
        )
    console.print(table)
