"""POST /api/conversations/analyze — the same analysis as `debtflow conversation analyze`;
with a ``case_id`` (and optionally a ``contact_attempt_id``) the analysis is also stored
against the case and appended to the evidence log.

During a call: POST /api/conversations/live reads each utterance as it is transcribed and
raises an alert for every compliance flag on the collector's words; GET
/api/conversations/alerts lists them for supervisors and auditors, who acknowledge them with
POST /api/conversations/alerts/{id}/acknowledge."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, model_validator

from debtflow.auth.deps import CurrentUser
from debtflow.auth.scoping import Permission, require
from debtflow.conversation import alerts, service
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


class LiveRequest(BaseModel):
    case_id: int
    #: the telephony system's id of the call
    call_ref: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:\-]+$")
    #: the number, within the call, of the first utterance posted (the call's first is 1)
    first_turn: int = Field(default=1, ge=1)
    utterances: list[Utterance] = Field(min_length=1, max_length=50)


class CallAlertRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    case_id: int
    call_ref: str
    turn: int
    raised_at: datetime
    raised_by: str
    collector_id: int | None
    violation: str
    rule: str
    severity: str
    span_start: int
    span_end: int
    excerpt: str
    matches: int
    text_sha256: str
    rules_version: str
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    acknowledgement: str | None


class LiveAlertRead(BaseModel):
    """An alert as the agent's screen gets it during the call (no supervisor's note)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    turn: int
    violation: str
    rule: str
    severity: str
    span_start: int
    span_end: int
    excerpt: str
    matches: int


class CallRead(BaseModel):
    call_ref: str
    case_id: int
    score: int
    alerts: int
    worst_severity: str | None


class LiveResponse(BaseModel):
    readings: list[dict[str, Any]]
    alerts: list[LiveAlertRead]
    call: CallRead


class AcknowledgeRequest(BaseModel):
    note: str | None = Field(default=None, max_length=1000)


@router.post("/live", response_model=LiveResponse)
def live(body: LiveRequest, user: CurrentUser, session: DbSession) -> LiveResponse:
    """Read utterances of a call in progress: debtor lines as ``analyze`` reads them,
    collector lines checked for compliance, every flag raised as an alert (stored for
    supervisors; a retried turn raises nothing new) and the call's running score."""
    read = alerts.read_live(
        session,
        user=user,
        case_id=body.case_id,
        call_ref=body.call_ref,
        first_turn=body.first_turn,
        utterances=[(u.speaker, u.text) for u in body.utterances],
        now=datetime.now(UTC),
    )
    return LiveResponse(
        readings=read.readings,
        alerts=[LiveAlertRead.model_validate(a) for a in read.alerts],
        call=CallRead(
            call_ref=body.call_ref,
            case_id=body.case_id,
            score=read.call_score,
            alerts=read.call_alerts,
            worst_severity=read.worst_severity,
        ),
    )


@router.get("/alerts", response_model=list[CallAlertRead])
def list_alerts(
    user: CurrentUser,
    session: DbSession,
    status: Literal["open", "all"] = "open",
    case_id: int | None = None,
    severity: Literal["low", "medium", "high", "critical"] | None = Query(
        default=None, description="only alerts at or above this severity"
    ),
    limit: int = Query(default=100, ge=1, le=500),
) -> list[CallAlertRead]:
    """Call alerts newest first (compliance auditors, supervisors, managers)."""
    found = alerts.list_alerts(
        session,
        user=user,
        open_only=status == "open",
        case_id=case_id,
        least_severity=severity,
        limit=limit,
    )
    return [CallAlertRead.model_validate(a) for a in found.alerts]


@router.post("/alerts/{alert_id}/acknowledge", response_model=CallAlertRead)
def acknowledge_alert(
    alert_id: int, body: AcknowledgeRequest, user: CurrentUser, session: DbSession
) -> CallAlertRead:
    """Record that the alert was seen and acted on; again, the first acknowledgement stands."""
    alert = alerts.acknowledge(
        session, user=user, alert_id=alert_id, note=body.note, now=datetime.now(UTC)
    )
    return CallAlertRead.model_validate(alert)
