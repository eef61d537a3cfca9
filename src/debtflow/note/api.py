"""JSON routes for case notes: dependencies in, one service call, response out."""

from __future__ import annotations

from fastapi import APIRouter

from debtflow.auth.deps import CurrentUser
from debtflow.note import service
from debtflow.note.schemas import NoteCreate, NoteRead
from debtflow.web.deps import DbSession
from debtflow.web.routing import RequestRoute

router = APIRouter(prefix="/api/cases", tags=["notes"], route_class=RequestRoute)

_ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "not signed in"},
    403: {"description": "role not allowed, or CSRF header missing"},
    404: {"description": "no such case in the caller's reach"},
}


@router.get("/{case_id}/notes", response_model=list[NoteRead], responses=_ERRORS)
def list_notes(case_id: int, session: DbSession, user: CurrentUser) -> list[NoteRead]:
    """The case's notes, newest first."""
    notes = service.notes_of_case(session, case_id=case_id, user=user)
    return [NoteRead.model_validate(n, from_attributes=True) for n in notes]


@router.post(
    "/{case_id}/notes",
    response_model=NoteRead,
    status_code=201,
    responses={**_ERRORS, 422: {"description": "empty or longer than 2,000 characters"}},
)
def add_note(case_id: int, body: NoteCreate, session: DbSession, user: CurrentUser) -> NoteRead:
    """Add a note (append-only: notes are never edited or deleted)."""
    note = service.add_note(session, case_id=case_id, user=user, body=body.body)
    return NoteRead.model_validate(note, from_attributes=True)
