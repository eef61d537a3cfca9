"""Photos and recordings taken on a visit, attached to the day's check-in.

A file is accepted only after a check-in at the stop today (409 otherwise), not empty (422),
at most 20 MB (413), and as a photo or audio type whose bytes match it (415,
``core.field.media``). It is stored by SHA-256 in the evidence file store, its digest goes
into an evidence leaf of kind ``field_checkin``, and a ``FieldVisitFile`` row ties it to the
check-in.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from debtflow import evidence
from debtflow.core.evidence.leaf import LeafKind
from debtflow.core.field.media import MediaRejected, check_upload
from debtflow.field import repository
from debtflow.field.access import field_stop
from debtflow.field.business_days import business_day, require_aware
from debtflow.field.errors import (
    CheckinRequired,
    EmptyFile,
    FileTooLarge,
    UnsupportedMedia,
    UploadNeedsCheckin,
)
from debtflow.field.site_visits import todays_checkin
from debtflow.models import FieldVisitFile, User


def upload_file(
    session: Session,
    *,
    user: User,
    case_id: int,
    content: bytes,
    media_type: str,
    now: datetime,
) -> FieldVisitFile:
    """Attach a photo or recording to today's check-in at ``case_id`` (409 without one):
    not empty (422), at most 20 MB (413), a photo or audio type whose bytes match it (415).
    The file is stored by SHA-256 in the evidence file store and its digest goes into an
    evidence leaf of kind ``field_checkin``."""
    require_aware(now, "the upload time")
    collector, _case = field_stop(session, user=user, case_id=case_id, day=business_day(now))
    try:
        checkin = todays_checkin(session, collector=collector, case_id=case_id, now=now)
    except CheckinRequired:
        raise UploadNeedsCheckin(
            f"check in at case {case_id}'s address before uploading a photo or recording"
        ) from None
    try:
        accepted = check_upload(content, media_type)
    except MediaRejected as exc:
        if exc.too_large:
            raise FileTooLarge(str(exc)) from None
        if exc.empty:
            raise EmptyFile(str(exc)) from None
        raise UnsupportedMedia(str(exc)) from None
    leaf = evidence.append(
        session,
        kind=LeafKind.FIELD_CHECKIN,
        case_id=case_id,
        occurred_at=now,
        payload={
            "act": "visit_file",
            "checkin_id": checkin.id,
            "collector_id": collector.id,
            "media_type": accepted.media_type,
            "size": accepted.size,
            "user": user.username,
        },
        files=[evidence.AttachedFile(content, accepted.media_type)],
    )
    row = FieldVisitFile(
        checkin_id=checkin.id,
        sha256=leaf.file_sha256[0],
        media_type=accepted.media_type,
        size=accepted.size,
        evidence_index=leaf.index,
        uploaded_at=now,
    )
    repository.add(session, row)
    session.flush()
    return row
