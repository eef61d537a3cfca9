"""All SQL of case notes."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from debtflow.db import BuiltOnce
from debtflow.models import CaseNote, User


def add(session: Session, note: CaseNote) -> None:
    session.add(note)


@BuiltOnce
def _notes_of_case(dialect: str) -> Select[tuple[CaseNote, str, str]]:
    # the author's names only: a user row carries its password hash and phone, which a
    # list of notes has no business reading
    return (
        select(CaseNote, User.display_name, User.username)
        .join(User, User.id == CaseNote.author_user_id)
        .where(CaseNote.case_id == bindparam("case_id"))
        .order_by(CaseNote.id.desc())
    )


def notes_of_case(session: Session, *, case_id: int) -> Sequence[tuple[CaseNote, str, str]]:
    """The case's notes with their authors' display names and usernames, newest first."""
    stmt = _notes_of_case(session)
    rows = session.execute(stmt, {"case_id": case_id}).all()
    return [(note, display_name, username) for note, display_name, username in rows]
