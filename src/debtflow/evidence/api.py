"""JSON routes that put a logged contact's recording or message text into the evidence log.
Who records is the signed-in user; which cases they reach is decided in the service."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from pydantic import BaseModel, Field

from debtflow.auth.deps import CurrentUser
from debtflow.evidence import records
from debtflow.evidence.log import AppendedLeaf
from debtflow.web.deps import DbSession
from debtflow.web.routing import RequestRoute

router = APIRouter(prefix="/api/cases", tags=["evidence"], route_class=RequestRoute)


class MessageRecord(BaseModel):
    contact_attempt_id: int
    body: str = Field(max_length=records.MAX_MESSAGE_CHARS)


class LeafRead(BaseModel):
    """Where the act landed in the log: its index, leaf hash and the files' SHA-256."""

    index: int
    leaf_hash: str
    file_sha256: list[str]


def _read(leaf: AppendedLeaf) -> LeafRead:
    return LeafRead(
        index=leaf.index, leaf_hash=leaf.leaf_hash.hex(), file_sha256=list(leaf.file_sha256)
    )


def _read_capped(upload: UploadFile) -> bytes:
    # one byte over the limit is enough for the service to refuse with the sizes in words
    return upload.file.read(records.MAX_RECORDING_BYTES + 1)


@router.post("/{case_id}/recordings", response_model=LeafRead, status_code=201)
def record_recording(
    case_id: int,
    session: DbSession,
    user: CurrentUser,
    contact_attempt_id: Annotated[int, Form()],
    recording: Annotated[UploadFile, File()],
    transcript: Annotated[str | None, Form(max_length=records.MAX_TRANSCRIPT_CHARS)] = None,
) -> LeafRead:
    content = _read_capped(recording)
    leaf = records.record_recording(
        session,
        user=user,
        case_id=case_id,
        contact_attempt_id=contact_attempt_id,
        content=content,
        media_type=recording.content_type or "application/octet-stream",
        transcript=transcript,
        now=datetime.now(UTC),
    )
    return _read(leaf)


@router.post("/{case_id}/messages", response_model=LeafRead, status_code=201)
def record_message(
    case_id: int, body: MessageRecord, session: DbSession, user: CurrentUser
) -> LeafRead:
    leaf = records.record_message(
        session,
        user=user,
        case_id=case_id,
        contact_attempt_id=body.contact_attempt_id,
        body=body.body,
        now=datetime.now(UTC),
    )
    return _read(leaf)
