"""Contact shapes of the JSON API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from debtflow.web.inputs import Moment, NoteText


class ContactRequest(BaseModel):
    channel: Literal["call", "sms", "email", "visit", "ai_voice"]
    planned_at: Moment
    target: Literal["debtor", "third_party"] = "debtor"
    contact_point_id: int | None = None
    account_id: int | None = None
    purpose: str = Field("collection", max_length=40)
    debtor_unreachable: bool = False
    script_text: NoteText | None = None


class BatchContactRequest(ContactRequest):
    case_id: int


class DecisionRead(BaseModel):
    id: int
    case_id: int
    channel: str
    target: str
    planned_at: datetime
    allowed: bool
    reasons: list[str]
    pack_version: str
    next_allowed_at: datetime | None
    expires_at: datetime
    requested_by: str
    collecting_party: str


class ContactLog(BaseModel):
    attempted_at: Moment
    connected: bool
    conversation: bool = False
    outcome: str | None = Field(None, max_length=40)
    note: NoteText | None = None


class ContactRead(BaseModel):
    id: int
    decision_id: int
    case_id: int
    channel: str
    attempted_at: datetime
    connected: bool
    conversation: bool
    outcome: str | None
