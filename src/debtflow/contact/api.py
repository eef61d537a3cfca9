"""JSON routes for contacts: ask the gate, then log the contact against its decision. Who
asks — user, collector, collecting party — is the signed-in user, never the request body."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import Field

from debtflow.auth.deps import CurrentUser
from debtflow.compliance.service import ContactAsk
from debtflow.contact import access
from debtflow.contact.schemas import (
    BatchContactRequest,
    ContactLog,
    ContactRead,
    ContactRequest,
    DecisionRead,
)
from debtflow.web.deps import DbSession
from debtflow.web.responses import model_json
from debtflow.web.routing import RequestRoute

router = APIRouter(prefix="/api", tags=["contacts"], route_class=RequestRoute)

#: decisions one batch may ask for (a dialer sends its next run in several batches)
BATCH_MAX = 1000


@router.post("/cases/{case_id}/contact-decisions", response_model=DecisionRead, status_code=201)
def request_contact(
    case_id: int, body: ContactRequest, session: DbSession, user: CurrentUser
) -> Response:
    decision = access.request_contact(session, user=user, case_id=case_id, **body.model_dump())
    return model_json(DecisionRead, decision, status_code=201)


@router.post("/contact-decisions/batch", response_model=list[DecisionRead], status_code=201)
def request_contacts(
    body: Annotated[list[BatchContactRequest], Field(min_length=1, max_length=BATCH_MAX)],
    session: DbSession,
    user: CurrentUser,
) -> list[DecisionRead]:
    decisions = access.request_contacts(
        session,
        user=user,
        asks=[
            ContactAsk(**item.model_dump(), requested_by=user.username, collecting_party="")
            for item in body
        ],
    )
    return [DecisionRead.model_validate(d, from_attributes=True) for d in decisions]


@router.post(
    "/contact-decisions/{decision_id}/contacts", response_model=ContactRead, status_code=201
)
def log_contact(
    decision_id: int, body: ContactLog, session: DbSession, user: CurrentUser
) -> Response:
    attempt = access.log_contact(session, user=user, decision_id=decision_id, **body.model_dump())
    return model_json(ContactRead, attempt, status_code=201)


@router.get("/cases/{case_id}/contacts", response_model=list[ContactRead])
def list_contacts(case_id: int, session: DbSession, user: CurrentUser) -> list[ContactRead]:
    return [
        ContactRead.model_validate(attempt, from_attributes=True)
        for attempt in access.contacts_of_case(session, user=user, case_id=case_id)
    ]
