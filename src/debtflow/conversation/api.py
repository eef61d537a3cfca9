"""POST /api/conversations/analyze — the same analysis as `debtflow conversation analyze`."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from debtflow.auth.deps import CurrentUser
from debtflow.auth.scoping import Permission, require
from debtflow.conversation import service

router = APIRouter(prefix="/api/conversations", tags=["conversations"])


class Utterance(BaseModel):
    speaker: Literal["debtor", "collector"]
    text: str = Field(min_length=1, max_length=2000)


class AnalyzeRequest(BaseModel):
    utterances: list[Utterance] = Field(min_length=1, max_length=500)


class AnalyzeResponse(BaseModel):
    readings: list[dict[str, Any]]
    summary: dict[str, Any]


@router.post("/analyze", response_model=AnalyzeResponse)
def analyze(body: AnalyzeRequest, user: CurrentUser) -> AnalyzeResponse:
    """Emotion, intent, cause, willingness and next action for debtor lines; compliance
    flags and score for collector lines — one reading per utterance, in order."""
    require(user, Permission.VIEW_CASES)
    readings, summary = service.analyze([(u.speaker, u.text) for u in body.utterances])
    return AnalyzeResponse(readings=readings, summary=summary)
