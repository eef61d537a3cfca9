"""The debtor portal's pages."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from debtflow.auth.deps import PageVisitor
from debtflow.auth.scoping import Permission, permits
from debtflow.portal import service
from debtflow.web.deps import TEMPLATES, DbSession

router = APIRouter(include_in_schema=False)


@router.get("/portal", response_class=HTMLResponse)
def portal(request: Request, session: DbSession, visitor: PageVisitor) -> Response:
    if not permits(visitor.user, Permission.VIEW_OWN_DEBTS):
        return RedirectResponse("/cases", status_code=303)
    debts = service.debts_of(session, user=visitor.user)
    return TEMPLATES.TemplateResponse(
        request,
        "portal.html",
        {
            "visitor": visitor,
            "debts": debts,
            "total_fen": sum(d.outstanding_fen for d in debts),
        },
    )
