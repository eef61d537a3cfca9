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
def _notes_of_case(dialect: str) -> Select[tuple[CaseNote, User]]:
    return (
        select(CaseNote, User)
        .join(User, User.id == CaseNote.author_user_id)
        .where(CaseNote.case_id == bindparam("case_id"))
        .order_by(CaseNote.id.desc())
    )


def notes_of_case(session: Session, *, case_id: int) -> Sequence[tuple[CaseNote, User]]:
    """The case's notes with their authors, newest first."""
    stmt = _notes_of_case(session)
    return [(row[0], row[1]) for row in session.execute(stmt, {"case_id": case_id}).all()]
