"""POST /api/conversations/analyze — the same analysis as `debtflow conversation analyze`;
with a ``case_id`` (and optionally a ``contact_attempt_id``) the analysis is also stored
against the case and appended to the evidence log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field, model_validator

from debtflow.auth.deps import CurrentUser
from debtflow.auth.scoping import Permission, require
from debtflow.conversation import service
from debtflow.web.deps import DbSession
from debtflow.web.routing import RequestRoute

router = APIRouter(prefix="/api/conversations", tags=["conversations"], route_class=RequestRoute)


class Utterance(BaseModel):
    speaker: Literal["debtor", "collector"]
    text: str = Field(min_length=1, max_length=2000)


class AnalyzeRequest(BaseModel):
    utterances: list[Utterance] = Field(min_length=1, max_length=500)
    case_id: int | None = None
    contact_attempt_id: int | None = None

    @model_validator(mode="after")
    def _attempt_needs_case(self) -> AnalyzeRequest:
        if self.contact_attempt_id is not None and self.case_id is None:
            raise ValueError("contact_attempt_id needs the case_id it belongs to")
        return self


class EvidenceRead(BaseModel):
    index: int
    leaf_hash: str
    file_sha256: list[str]


class AnalyzeResponse(BaseModel):
    readings: list[dict[str, Any]]
    summary: dict[str, Any]
    analysis_ids: list[int] | None = None
    evidence: EvidenceRead | None = None
    case_cause: str | None = None
    cause_updated: bool | None = None


@router.post("/analyze", response_model=AnalyzeResponse)
def analyze(body: AnalyzeRequest, user: CurrentUser, session: DbSession) -> AnalyzeResponse:
    """Emotion, intent, cause, willingness and next action for debtor lines; compliance
    flags and score for collector lines — one reading per utterance, in order. With
    ``case_id`` the readings are stored against the case (and contact attempt) and the
    transcript goes to the evidence log."""
    utterances = [(u.speaker, u.text) for u in body.utterances]
    if body.case_id is None:
        require(user, Permission.VIEW_CASES)
        readings, summary = service.analyze(utterances)
        return AnalyzeResponse(readings=readings, summary=summary)
    attached = service.analyze_for_user(
        session,
        user=user,
        utterances=utterances,
        case_id=body.case_id,
        contact_attempt_id=body.contact_attempt_id,
        now=datetime.now(UTC),
    )
    leaf = attached.evidence
    return AnalyzeResponse(
        readings=attached.readings,
        summary=attached.summary,
        analysis_ids=attached.analysis_ids,
        evidence=EvidenceRead(
            index=leaf.index, leaf_hash=leaf.leaf_hash.hex(), file_sha256=list(leaf.file_sha256)
        ),
        case_cause=attached.case_cause,
        cause_updated=attached.cause_updated,
    )
