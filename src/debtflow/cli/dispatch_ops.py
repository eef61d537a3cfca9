"""``debtflow dispatch explain | override | assign | metrics | routes``: the platform side
of dispatch (the ``gap`` benchmark command lives in ``cli/dispatch.py``)."""

from __future__ import annotations

from datetime import datetime

import typer

from debtflow.cli.common import console, domain_errors, fail, parse_day, transaction
from debtflow.core.money import fen_to_yuan

app = typer.Typer(help="Explain, override and inspect case-to-collector dispatch.")


@app.command("explain")
@domain_errors
def explain(
    case_id: int = typer.Argument(..., help="case id"),
    language: str = typer.Option("both", "--lang", help="zh, en or both"),
) -> None:
    """Why the case is with its collector: reasons, runner-up and margin."""
    from debtflow.dispatch import explanations

    if language not in ("zh", "en", "both"):
        raise fail("--lang must be zh, en or both", 2)
    with transaction() as session:
        explanation = explanations.explain(session, case_id=case_id)
    if language in ("zh", "both"):
        console.print(explanation.zh, highlight=False, markup=False)
    if language == "both":
        console.print()
    if language in ("en", "both"):
        console.print(explanation.en, highlight=False, markup=False)


@app.command("override")
@domain_errors
def override(
    case_id: int = typer.Argument(..., help="case id"),
    collector: str = typer.Argument(..., help="collector code (e.g. ON0003) or id"),
    reason: str = typer.Option(..., "--reason", help="why the manager moves the case"),
    by: str = typer.Option("cli", "--by", help="who makes the override"),
    over_capacity: bool = typer.Option(
        False,
        "--over-capacity",
        help="give the case even to a collector without a free place",
    ),
) -> None:
    """Give a case to another collector by hand; who and why are recorded."""
    from debtflow.dispatch import overrides

    with transaction() as session:
        collector_id = overrides.collector_id_for(session, code_or_id=collector)
        assignment = overrides.override(
            session,
            case_id=case_id,
            collector_id=collector_id,
            reason=reason,
            by=by,
            over_capacity=over_capacity,
        )
        margin = assignment.margin_fen
    console.print(
        f"case {case_id} → collector {collector} (override by {by}); expected value "
        f"¥{fen_to_yuan(assignment.value_fen)}"
        + (
            f", {'+' if margin >= 0 else '-'}¥{fen_to_yuan(abs(margin))} against the best other"
            if margin is not None
            else ""
        ),
        highlight=False,
    )


@app.command("assign")
@domain_errors
def assign(case_id: int = typer.Argument(..., help="case id")) -> None:
    """Assign a new or returned case now, without waiting for the night."""
    from debtflow.dispatch import realtime

    with transaction() as session:
        placed = realtime.assign_now(session, case_id=case_id)
    console.print(
        f"case {case_id} → {placed.collector_code}, expected value "
        f"¥{fen_to_yuan(placed.value_fen)} ({placed.seconds * 1000:.1f} ms)",
        highlight=False,
    )


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _minutes(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


@app.command("metrics")
@domain_errors
def metrics(
    day: str | None = typer.Option(None, "--day", help="YYYY-MM-DD (default: the last 7 days)"),
) -> None:
    """Assignments, match accuracy, reassignment rate and response time per day."""
    from debtflow.dispatch import metrics as dispatch_metrics

    wanted = parse_day(day, option="--day") if day is not None else None
    with transaction() as session:
        rows = dispatch_metrics.metrics_of(session, day=wanted)
    if not rows:
        raise fail(f"no dispatch figures for {wanted or 'any day'} yet", 1)
    for r in rows:
        console.print(
            f"{r.day}: {r.assignments} assignments, match accuracy {_share(r.match_accuracy)}, "
            f"reassignment rate {_share(r.reassignment_rate)}, contacted {r.contacted}, "
            f"response time median {_minutes(r.response_minutes_median)} min, "
            f"p90 {_minutes(r.response_minutes_p90)} min",
            highlight=False,
        )


def _clock(text: str) -> str:
    from debtflow.dispatch.scoring import local_zone

    return datetime.fromisoformat(text).astimezone(local_zone()).strftime("%H:%M")


@app.command("routes")
@domain_errors
def routes(
    day: str | None = typer.Option(None, "--day", help="YYYY-MM-DD (default: today)"),
    agent: str | None = typer.Option(None, "--agent", help="field agent code, e.g. FD0001"),
) -> None:
    """Each field agent's planned visits for a day, and the visits that cannot be made."""
    from debtflow.dispatch import field_routes
    from debtflow.dispatch.scoring import local_zone

    wanted = parse_day(day, option="--day")
    with transaction() as session:
        views = field_routes.routes(session, day=wanted, agent_code=agent)
    if not views:
        raise fail(
            f"no route for {agent + ' on ' if agent else ''}{wanted}; "
            "routes are planned by `debtflow nightly`",
            1,
        )
    for view in views:
        r = view.route
        leave, back = r.leave_at.astimezone(local_zone()), r.back_at.astimezone(local_zone())
        console.print(
            f"{view.code} {view.name} — {wanted}: leave {leave:%H:%M}, back {back:%H:%M}, "
            f"travel {r.travel_seconds // 60} min",
            highlight=False,
        )
        for n, stop in enumerate(r.stops, 1):
            console.print(
                f"  {n}. case {stop['case_id']}: arrive {_clock(stop['arrive'])}, "
                f"visit {_clock(stop['start'])}–{_clock(stop['end'])}",
                highlight=False,
            )
        for stop in r.unvisitable:
            console.print(
                f"  ✗ case {stop['case_id']}: {stop['reason_en']} ({stop['code']})",
                highlight=False,
            )
