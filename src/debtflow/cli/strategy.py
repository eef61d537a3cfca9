"""``debtflow strategy``: champion / challenger experiments."""

from __future__ import annotations

import typer
from rich.table import Table

from debtflow.cli.common import (
    business_today,
    console,
    domain_errors,
    echo_json,
    fail,
    parse_day,
    transaction,
)
from debtflow.core.money import fen_to_yuan
from debtflow.core.strategy.experiment_file import ExperimentFileError
from debtflow.core.strategy.experiments import RateComparison

app = typer.Typer(help="Nightly strategy: champion / challenger experiments.", no_args_is_help=True)


def _rate(comparison: RateComparison) -> str:
    rate = comparison.rate
    if comparison.trials == 0:
        return "— (0)"
    return (
        f"{rate.estimate:.1%} [{rate.low:.1%}, {rate.high:.1%}] "
        f"({comparison.successes}/{comparison.trials})"
    )


def _difference(comparison: RateComparison) -> str:
    d = comparison.difference_vs_control
    if d is None:
        return "control"
    if d.estimate != d.estimate:
        return "—"
    return f"{d.estimate:+.1%} [{d.low:+.1%}, {d.high:+.1%}]"


@app.command("experiment-report")
@domain_errors
def experiment_report(
    since: str | None = typer.Option(
        None, "--since", help="first local day (YYYY-MM-DD; default: the experiment's start)"
    ),
    until: str | None = typer.Option(
        None, "--until", help="last local day, included (YYYY-MM-DD; default: today)"
    ),
    as_json: bool = typer.Option(False, "--json", help="one JSON object (money in fen)"),
) -> None:
    """Compare the variants of the experiment in force (DEBTFLOW_STRATEGY_EXPERIMENT):
    recovery, promise-kept and complaint rates with 95 % intervals, differences vs control."""
    from debtflow.strategy import experiment_report as service

    first = parse_day(since, option="--since") if since is not None else None
    last = parse_day(until, option="--until") if until is not None else None
    try:
        with transaction() as session:
            result = service.experiment_report(
                session, first_day=first, last_day=last, today=business_today()
            )
    except ExperimentFileError as exc:
        raise fail(str(exc), 2) from None
    if as_json:
        echo_json(service.report_json(result))
        return
    table = Table(
        title=f"experiment {result.key}: {result.first_day} – {result.last_day} "
        f"(control {result.control})"
    )
    for column in (
        "variant",
        "cases",
        "owed ¥",
        "recovered ¥",
        "amount rate",
        "cases recovering",
        "vs control",
        "promises kept",
        "vs control",
        "cases complaining",
        "vs control",
        "complaints",
    ):
        table.add_column(column)
    for row in result.variants:
        amount = row.amount_recovery_rate
        table.add_row(
            row.variant,
            str(row.cases),
            fen_to_yuan(row.owed_fen),
            fen_to_yuan(row.recovered_fen),
            "—" if amount != amount else f"{amount:.1%}",
            _rate(row.recovery),
            _difference(row.recovery),
            _rate(row.promise_kept),
            _difference(row.promise_kept),
            _rate(row.complaints),
            _difference(row.complaints),
            str(result.complaints_made[row.variant]),
        )
    console.print(table)
    console.print(
        "95 % Wilson intervals; a difference whose interval excludes 0 is real at the 95 % level."
    )
