"""The manager dashboard page: the same service as the JSON API, charts drawn here on the
server as SVG (no JavaScript)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from debtflow.auth.deps import PageVisitor
from debtflow.core.report.charts import Bar, Series, bar_chart, heat_table, line_chart
from debtflow.core.report.figures import BreakdownRow, Dimension
from debtflow.report import service
from debtflow.report.service import Dashboard
from debtflow.web.deps import TEMPLATES, DbSession, fen
from debtflow.web.i18n import language, translator
from debtflow.web.inputs import Day, EmptyIsAbsent
from debtflow.web.routing import RequestRoute

router = APIRouter(route_class=RequestRoute)


def _yuan(value: float) -> str:
    return f"¥{value:,.0f}"


def _label(board: Dashboard, dimension: Dimension, key: Any, t: Callable[[str], str]) -> str:
    if key is None:
        return t("dashboard.unassigned" if dimension is Dimension.COLLECTOR else "dashboard.none")
    if dimension is Dimension.SEGMENT:
        return t(f"segment.{key}")
    return board.labels[dimension].get(key, f"#{key}")


def _charts(board: Dashboard, t: Callable[[str], str]) -> dict[str, Any]:
    no_data = t("dashboard.no_data")
    days = [d.day.strftime("%m-%d") for d in board.daily_collected]
    daily = line_chart(
        days,
        [Series(t("dashboard.collected"), [d.fen / 100 for d in board.daily_collected])],
        title=t("dashboard.daily_collected"),
        formatter=_yuan,
        no_data=no_data,
    )
    breakdowns = []
    for dimension in Dimension:
        rows: list[BreakdownRow] = board.figures.breakdowns[dimension]
        labelled = [(_label(board, dimension, r.key, t), r.figures) for r in rows]
        bars = bar_chart(
            [
                Bar(
                    name,
                    f.recovery.value,
                    f"{fen(f.recovery.collected_fen)} / {fen(f.recovery.placed_fen)}",
                )
                for name, f in labelled
            ],
            title=t("dashboard.recovery_by." + dimension.value),
            no_data=no_data,
        )
        compliance = bar_chart(
            [
                Bar(
                    name,
                    f.compliance.allowed_rate.value,
                    f"{t('dashboard.denied')} {f.compliance.denied}",
                )
                for name, f in labelled
                if f.compliance.decisions
            ],
            title=t("dashboard.compliance_by." + dimension.value),
            scale_max=1.0,
            no_data=no_data,
        )
        breakdowns.append(
            {
                "dimension": dimension.value,
                "rows": labelled,
                "recovery_chart": Markup(bars),
                "compliance_chart": Markup(compliance),
            }
        )
    rolls = [
        {
            "month": m.month.strftime("%Y-%m"),
            "chart": Markup(
                heat_table(
                    m,
                    title=t("dashboard.roll_rates") + " " + m.month.strftime("%Y-%m"),
                    start_label=t("dashboard.from_to"),
                    no_data=no_data,
                )
            ),
            "roll": [(b, m.roll_rate(b)) for b in m.buckets],
        }
        for m in reversed(board.rolls)
    ]
    return {"daily_chart": Markup(daily), "breakdowns": breakdowns, "rolls": rolls}


@router.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
def dashboard_page(
    request: Request,
    session: DbSession,
    visitor: PageVisitor,
    since: Annotated[Day | None, EmptyIsAbsent] = None,
    until: Annotated[Day | None, EmptyIsAbsent] = None,
    creditor_id: Annotated[int | None, EmptyIsAbsent, Query(ge=1, le=2**31 - 1)] = None,
) -> HTMLResponse:
    service.check_viewer(visitor.user)
    start, end = service.period_of_days(since, until)
    board = service.dashboard(
        session, user=visitor.user, since=start, until=end, creditor_id=creditor_id
    )
    t = translator(language(request))
    return TEMPLATES.TemplateResponse(
        request,
        "dashboard.html",
        {
            "visitor": visitor,
            "board": board,
            "overall": board.figures.overall,
            "first_day": start.date(),
            "last_day": (end - timedelta(days=1)).date(),
            **_charts(board, t),
        },
    )
