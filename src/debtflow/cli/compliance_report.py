"""``debtflow compliance report``: what the compliance gate decided, per collector, per
collecting party and per rule, over a period of local days."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from debtflow.cli.common import console, domain_errors, echo_json, fail, parse_day, transaction
from debtflow.compliance.report import ComplianceReport, GateTally, compliance_report
from debtflow.config import get_settings

app = typer.Typer(help="Compliance gate report: decisions per collector, party and rule.")


@app.callback()
def compliance_report_app() -> None:
    """Compliance gate report: decisions per collector, party and rule."""


def _tally_table(title: str, rows: list[GateTally]) -> Table:
    table = Table(title=title)
    for column in ("who", "decisions", "allowed", "denied", "overridden", "logged", "deny %"):
        table.add_column(column, justify="left" if column == "who" else "right")
    for row in rows:
        table.add_row(
            row.key,
            str(row.decisions),
            str(row.allowed),
            str(row.denied),
            str(row.overridden),
            str(row.contacts_logged),
            f"{100 * row.deny_rate:.1f}",
        )
    return table


def _print(result: ComplianceReport) -> None:
    console.print(f"gate decisions from {result.since.isoformat()} to {result.until.isoformat()}")
    console.print(_tally_table("per collector (who asked)", result.by_collector))
    console.print(_tally_table("per collecting party", result.by_party))
    rules = Table(title="denials per rule")
    for column in ("reason", "denials", "overridden"):
        rules.add_column(column)
    for rule in result.by_rule:
        rules.add_row(rule.reason, str(rule.denials), str(rule.overridden))
    console.print(rules)


@app.command("report")
@domain_errors
def report(
    since: str = typer.Option(..., help="first local day, YYYY-MM-DD"),
    until: str = typer.Option(..., help="last local day (included), YYYY-MM-DD"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
) -> None:
    """Decisions made in the period: asked, allowed, denied, overridden, contacts logged."""
    first, last = parse_day(since, option="--since"), parse_day(until, option="--until")
    if last < first:
        raise fail(f"--until {last} is before --since {first}", 2)
    zone = ZoneInfo(get_settings().default_timezone)
    start = datetime.combine(first, time(0), tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)
    with transaction() as session:
        result = compliance_report(session, since=start, until=end)
    if as_json:
        payload = asdict(result)
        for group in ("by_collector", "by_party"):
            for row, tally in zip(payload[group], getattr(result, group), strict=True):
                row["deny_rate"] = round(tally.deny_rate, 4)
        echo_json(payload)
    else:
        _print(result)
