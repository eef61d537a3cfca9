"""``debtflow db``."""

from __future__ import annotations

import typer

from debtflow.cli.common import console, ready_engine
from debtflow.config import get_settings

app = typer.Typer(help="Database schema.", no_args_is_help=True)


@app.command("upgrade")
def upgrade_() -> None:
    """Apply every migration (safe to run again)."""
    ready_engine()
    console.print(f"{get_settings().database_url}: schema is current")
