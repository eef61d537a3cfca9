"""All SQL of case notes."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from debtflow.models import CaseNote, User


def add(session: Session, note: CaseNote) -> None:
    session.add(note)


def notes_of_case(session: Session, *, case_id: int) -> Sequence[tuple[CaseNote, User]]:
    """The case's notes with their authors, newest first."""
    stmt = (
        select(CaseNote, User)
        .join(User, User.id == CaseNote.author_user_id)
        .where(CaseNote.case_id == case_id)
        .order_by(CaseNote.id.desc())
    )
    return [(row[0], row[1]) for row in session.execute(stmt).all()]
