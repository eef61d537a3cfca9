"""What a debtor asks of the creditor from the portal: a dispute (with an upload, and a hold
on collection contacts), free legal advice, preferred contact times and channels."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy.orm import Session

from debtflow import evidence
from debtflow.auth.scoping import Permission, require
from debtflow.compliance import service as compliance_service
from debtflow.core.compliance.contact import ContactFlag
from debtflow.core.evidence.leaf import LeafKind
from debtflow.db import utcnow
from debtflow.evidence import AttachedFile
from debtflow.models import (
    ContactPreference,
    Creditor,
    Debtor,
    DebtorDispute,
    LegalAdviceRequest,
    User,
)
from debtflow.models.portal import DISPUTE_OPEN, LEGAL_HANDLED, LEGAL_OPEN
from debtflow.portal import repository
from debtflow.portal.access import own_case
from debtflow.portal.errors import (
    DisputeAlreadyOpen,
    InvalidHandlingNote,
    InvalidRequest,
    InvalidUpload,
    LegalRequestAlreadyHandled,
    LegalRequestNotFound,
    UploadTooLarge,
)
from debtflow.portal.service import (
    ADVICE_CHANNELS,
    MAX_UPLOAD_BYTES,
    PREFERENCE_CHANNELS,
    UPLOAD_TYPES,
    CaseRequests,
)

# --- disputes, legal advice, contact preferences -------------------------------------------

#: the same legal-advice request sent again this soon is the one already sent
ADVICE_REPEAT_WINDOW = timedelta(minutes=10)
#: a handling note: what was done, for staff (2 to 500 characters)
HANDLING_NOTE_MIN, HANDLING_NOTE_MAX = 2, 500
#: the filters of the managers' list: by status, or every request
LEGAL_FILTERS = (LEGAL_OPEN, LEGAL_HANDLED, "all")


@dataclass(frozen=True)
class UploadedFile:
    file_name: str
    media_type: str
    content: bytes


def check_upload(upload: UploadedFile) -> None:
    """At most 10 MB, a PDF, JPEG or PNG whose bytes are what its type says."""
    if len(upload.content) > MAX_UPLOAD_BYTES:
        raise UploadTooLarge(f"the file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    if not upload.content:
        raise InvalidUpload("the file is empty")
    media = upload.media_type.split(";")[0].strip().lower()
    magic = UPLOAD_TYPES.get(media)
    if magic is None:
        raise InvalidUpload(f"{media or 'this file type'} is not accepted: send a PDF, JPEG or PNG")
    if not any(upload.content.startswith(m) for m in magic):
        raise InvalidUpload(f"the file's contents are not a {media} file")


def file_dispute(
    session: Session,
    *,
    case_id: int,
    user: User,
    reason: str,
    upload: UploadedFile | None = None,
    now: datetime | None = None,
) -> DebtorDispute:
    """Dispute a case: store it, hash the file into the evidence log, and put a dispute
    restriction on the case so the compliance gate denies collection contacts until a
    compliance officer lifts it."""
    now = now or utcnow()
    case = own_case(session, case_id=case_id, user=user, for_update=True)
    if repository.open_dispute_of_case(session, case_id=case.id) is not None:
        raise DisputeAlreadyOpen(
            f"a dispute of case {case.id} is already open; it is being looked into"
        )
    text = reason.strip()
    if not 2 <= len(text) <= 2000:
        raise InvalidRequest("describe the dispute in 2 to 2000 characters")
    media = None
    if upload is not None:
        check_upload(upload)
        media = upload.media_type.split(";")[0].strip().lower()
    restriction = compliance_service.set_restriction(
        session,
        debtor_id=case.debtor_id,
        flag=ContactFlag.DISPUTE.value,
        reason=f"debtor dispute (portal): {text[:200]}",
        set_by="debtor portal",
        case_id=case.id,
        now=now,
    )
    dispute = DebtorDispute(
        case_id=case.id,
        debtor_id=case.debtor_id,
        reason=text,
        file_sha256=hashlib.sha256(upload.content).hexdigest() if upload else None,
        file_name=upload.file_name[:200] if upload else None,
        media_type=media,
        file_size=len(upload.content) if upload else None,
        restriction_id=restriction.id,
        status=DISPUTE_OPEN,
        created_at=now,
    )
    session.add(dispute)
    session.flush()
    evidence.append(
        session,
        kind=LeafKind.DISPUTE,
        case_id=case.id,
        occurred_at=now,
        payload={
            "dispute_id": dispute.id,
            "file_name": dispute.file_name,
            "media_type": media,
            "reason": text,
            "restriction_id": restriction.id,
        },
        files=[AttachedFile(upload.content, media or "")] if upload else [],
    )
    return dispute


def request_legal_advice(
    session: Session,
    *,
    case_id: int,
    user: User,
    question: str,
    contact_channel: str,
    contact_time: str,
    now: datetime | None = None,
) -> LegalAdviceRequest:
    """Ask for free legal advice on a case; stored, evidence-logged, listed for managers.
    The same request again within :data:`ADVICE_REPEAT_WINDOW` (a double submit, a reload
    that posts again) returns the first one: no second row, no second evidence leaf."""
    now = now or utcnow()
    case = own_case(session, case_id=case_id, user=user, for_update=True)  # one at a time
    text = question.strip()
    if not 2 <= len(text) <= 2000:
        raise InvalidRequest("ask your question in 2 to 2000 characters")
    if contact_channel not in ADVICE_CHANNELS:
        raise InvalidRequest(f"contact channel must be one of: {', '.join(ADVICE_CHANNELS)}")
    when = contact_time.strip()
    if len(when) > 100:
        raise InvalidRequest("the preferred contact time is at most 100 characters")
    same = repository.same_legal_request(
        session,
        case_id=case.id,
        question=text,
        contact_channel=contact_channel,
        contact_time=when,
        since=now - ADVICE_REPEAT_WINDOW,
    )
    if same is not None:
        return same
    row = LegalAdviceRequest(
        case_id=case.id,
        debtor_id=case.debtor_id,
        question=text,
        contact_channel=contact_channel,
        contact_time=when,
        status=LEGAL_OPEN,
        created_at=now,
    )
    session.add(row)
    session.flush()
    evidence.append(
        session,
        kind=LeafKind.LEGAL_ADVICE,
        case_id=case.id,
        occurred_at=now,
        payload={
            "contact_channel": contact_channel,
            "contact_time": when,
            "question": text,
            "request_id": row.id,
        },
    )
    return row


def legal_advice_requests(
    session: Session, *, user: User, status: str = "all"
) -> Sequence[tuple[LegalAdviceRequest, Debtor, Creditor]]:
    """Legal-advice requests, newest first (operations managers and admins): ``open``,
    ``handled`` or ``all`` (:data:`LEGAL_FILTERS`)."""
    require(user, Permission.VIEW_LEGAL_REQUESTS)
    if status not in LEGAL_FILTERS:
        raise InvalidRequest(f"status must be one of: {', '.join(LEGAL_FILTERS)}")
    return repository.legal_requests(session, status=None if status == "all" else status)


def handle_legal_request(
    session: Session,
    *,
    request_id: int,
    user: User,
    note: str,
    now: datetime | None = None,
) -> LegalAdviceRequest:
    """Record that a legal-advice request was dealt with: status ``handled``, when, who (the
    username) and a note of what was done (2 to 500 characters, for staff — the debtor sees
    the status and the date, not the note); evidence-logged as a ``legal_advice`` leaf with
    ``status: handled``. The first handling stands: the same note again (a double submit, a
    retry) returns the request as it is, with no second leaf; another note is refused (409
    ``legal_request_already_handled``)."""
    require(user, Permission.HANDLE_LEGAL_REQUESTS)
    text = note.strip()
    if not HANDLING_NOTE_MIN <= len(text) <= HANDLING_NOTE_MAX:
        raise InvalidHandlingNote(
            f"say what was done in {HANDLING_NOTE_MIN} to {HANDLING_NOTE_MAX} characters"
        )
    if "\x00" in text or not _storable(text):
        raise InvalidHandlingNote(
            "the note has a character that cannot be stored (NUL or a lone surrogate)"
        )
    row = repository.legal_request(session, request_id=request_id, for_update=True)
    if row is None:
        raise LegalRequestNotFound(f"legal-advice request {request_id} does not exist")
    if row.status == LEGAL_HANDLED:
        if row.handled_note == text:
            return row
        raise LegalRequestAlreadyHandled(
            f"legal-advice request {row.id} was recorded as handled by {row.handled_by} at "
            f"{row.handled_at.isoformat(timespec='minutes') if row.handled_at else '?'} "
            "with another note; the first record stands"
        )
    now = now or utcnow()
    row.status = LEGAL_HANDLED
    row.handled_at = now
    row.handled_by = user.username
    row.handled_note = text
    session.flush()
    evidence.append(
        session,
        kind=LeafKind.LEGAL_ADVICE,
        case_id=row.case_id,
        occurred_at=now,
        payload={
            "handled_by": user.username,
            "note": text,
            "request_id": row.id,
            "status": LEGAL_HANDLED,
        },
    )
    return row


def _storable(text: str) -> bool:
    """False for text that cannot be stored as UTF-8 (a lone surrogate such as "\\ud800")."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def requests_of_case(session: Session, *, case_id: int, user: User) -> CaseRequests:
    case = own_case(session, case_id=case_id, user=user)
    return CaseRequests(
        repository.disputes_of_case(session, case_id=case.id),
        repository.legal_requests_of_case(session, case_id=case.id),
    )


def contact_preferences(session: Session, *, user: User) -> ContactPreference | None:
    require(user, Permission.VIEW_OWN_DEBTS)
    if user.debtor_id is None:
        return None
    return repository.contact_preference(session, debtor_id=user.debtor_id)


def set_contact_preferences(
    session: Session, *, user: User, earliest_local: time, latest_local: time, channels: list[str]
) -> ContactPreference:
    """The hours (the debtor's local time) and channels the debtor prefers. A preference,
    not a permission: the compliance gate's quiet hours still apply."""
    require(user, Permission.VIEW_OWN_DEBTS)
    if user.debtor_id is None:
        raise InvalidRequest("this sign-in is not linked to a debtor")
    if earliest_local.tzinfo is not None or latest_local.tzinfo is not None:
        raise InvalidRequest("give the hours as local clock times (HH:MM), without a zone")
    # kept to the minute: the order is checked on what is stored
    earliest_local = earliest_local.replace(second=0, microsecond=0)
    latest_local = latest_local.replace(second=0, microsecond=0)
    if earliest_local >= latest_local:
        raise InvalidRequest("the earliest time must be before the latest time")
    chosen = sorted(set(channels))
    if not chosen or not set(chosen) <= set(PREFERENCE_CHANNELS):
        raise InvalidRequest(f"choose at least one channel of: {', '.join(PREFERENCE_CHANNELS)}")
    row = repository.contact_preference(session, debtor_id=user.debtor_id)
    if row is None:
        row = ContactPreference(debtor_id=user.debtor_id)
        session.add(row)
    row.earliest_local = earliest_local
    row.latest_local = latest_local
    row.channels = chosen
    row.updated_at = utcnow()
    session.flush()
    return row
