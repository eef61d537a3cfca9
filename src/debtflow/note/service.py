"""Case notes. Whoever works a case (may record promises on it) may add a note to it; anyone
who sees the case reads its notes. Notes are never edited or deleted (the database refuses
both). Never commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from debtflow.auth.scoping import Permission, require
from debtflow.case import service as case_service
from debtflow.core.errors import InvalidInput
from debtflow.db import utcnow
from debtflow.models import CaseNote, User
from debtflow.note import repository

#: the longest note, in characters
MAX_NOTE_LENGTH = 2000


class InvalidNote(InvalidInput):
    code = "invalid_note"


@dataclass(frozen=True)
class NoteView:
    id: int
    case_id: int
    body: str
    created_at: datetime
    author: str
    author_username: str


def _view(note: CaseNote, *, author: str, author_username: str) -> NoteView:
    return NoteView(
        id=note.id,
        case_id=note.case_id,
        body=note.body,
        created_at=note.created_at,
        author=author,
        author_username=author_username,
    )


def clean_body(body: str) -> str:
    """The note as stored: surrounding white space removed, line ends as ``\\n``; refused
    when empty or longer than ``MAX_NOTE_LENGTH`` characters."""
    text = body.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise InvalidNote("the note is empty")
    if len(text) > MAX_NOTE_LENGTH:
        raise InvalidNote(
            f"the note has {len(text)} characters; at most {MAX_NOTE_LENGTH} are kept"
        )
    return text


def add_note(
    session: Session, *, case_id: int, user: User, body: str, now: datetime | None = None
) -> NoteView:
    """Add a note to a case in ``user``'s reach (404 otherwise, 403 for a read-only role)."""
    require(user, Permission.WRITE_NOTES)
    case = case_service.get_for_user(session, case_id=case_id, user=user)
    note = CaseNote(
        case_id=case.id, author_user_id=user.id, body=clean_body(body), created_at=now or utcnow()
    )
    repository.add(session, note)
    session.flush()
    return _view(note, author=user.display_name, author_username=user.username)


def notes_of_case(session: Session, *, case_id: int, user: User) -> list[NoteView]:
    """The notes of a case in ``user``'s reach, newest first."""
    require(user, Permission.VIEW_CASES)
    case_service.get_for_user(session, case_id=case_id, user=user)
    return [
        _view(note, author=display_name, author_username=username)
        for note, display_name, username in repository.notes_of_case(session, case_id=case_id)
    ]
