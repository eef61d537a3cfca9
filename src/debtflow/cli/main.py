"""The ``debtflow`` command."""

from __future__ import annotations

import typer

from debtflow.cli import (
    case,
    compliance,
    compliance_keys,
    compliance_report,
    conversation,
    creditor,
    db,
    dispatch,
    dispatch_ops,
    evidence,
    model,
    portfolio,
    route,
    user,
)
from debtflow.cli.demo import demo
from debtflow.cli.nightly import nightly
from debtflow.cli.serve import serve

app = typer.Typer(
    help="debtflow — O2O debt collection: intake, nightly strategy, dispatch, compliance.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db.app, name="db")
app.add_typer(creditor.app, name="creditor")
app.add_typer(portfolio.app, name="portfolio")
app.add_typer(case.app, name="case")
compliance.app.command("report")(compliance_report.report)
compliance.app.command("rotate-pii-key")(compliance_keys.rotate_pii_key)
app.add_typer(compliance.app, name="compliance")
app.add_typer(conversation.app, name="conversation")
dispatch.app.registered_commands += dispatch_ops.app.registered_commands
app.add_typer(dispatch.app, name="dispatch")
app.add_typer(evidence.app, name="evidence")
app.add_typer(model.app, name="model")
app.add_typer(route.app, name="route")
app.add_typer(user.app, name="user")
app.command("nightly")(nightly)
app.command("demo")(demo)
app.command("serve")(serve)


if __name__ == "__main__":  # pragma: no cover
    app()
