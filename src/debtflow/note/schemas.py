"""Note shapes of the JSON API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from debtflow.note.service import MAX_NOTE_LENGTH


class NoteCreate(BaseModel):
    # a little slack for surrounding white space; the service enforces the limit on the text
    body: str = Field(min_length=1, max_length=MAX_NOTE_LENGTH + 200)


class NoteRead(BaseModel):
    id: int
    case_id: int
    body: str
    created_at: datetime
    author: str
    author_username: str
