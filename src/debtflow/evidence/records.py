"""Call recordings, transcripts and the text of SMS, e-mail and app messages, hashed into the
evidence log against the contact attempt they belong to.

A recording or a message is evidence of a contact that already passed the compliance gate
and was logged (:func:`debtflow.contact.service.log_contact`), so both name a logged
``contact_attempt`` of the case, on a channel that fits: recordings for calls (human or AI
voice), message text for SMS, e-mail and app messages. The file itself is stored
content-addressed by SHA-256 (:class:`EvidenceFileStore`); the leaf carries the digest, so
the exported package proves the exact bytes.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy.orm import Session

from debtflow.auth.scoping import Permission, require
from debtflow.case import service as case_service
from debtflow.contact import service as contact_service
from debtflow.core.errors import InvalidInput, NotFound
from debtflow.core.evidence.leaf import LeafKind
from debtflow.core.field.media import MediaRejected, check_upload
from debtflow.evidence import log
from debtflow.models import ContactAttempt, User

MAX_RECORDING_BYTES = 50 * 1024 * 1024
MAX_MESSAGE_CHARS = 20_000
MAX_TRANSCRIPT_CHARS = 200_000

RECORDING_CHANNELS = frozenset({"call", "ai_voice"})
MESSAGE_CHANNELS = frozenset({"sms", "email", "app"})
RECORDING_MEDIA_TYPES = frozenset(
    {
        "audio/aac",
        "audio/mp4",
        "audio/mpeg",
        "audio/ogg",
        "audio/wav",
        "audio/webm",
        "audio/x-m4a",
        "audio/x-wav",
    }
)


class ContactAttemptNotFound(NotFound):
    code = "contact_attempt_not_found"


class EvidenceFileRejected(InvalidInput):
    code = "evidence_file_rejected"


def _attempt_of_case(
    session: Session, *, user: User, case_id: int, contact_attempt_id: int
) -> ContactAttempt:
    require(user, Permission.CONTACT_DEBTORS)
    case_service.get_for_user(session, case_id=case_id, user=user)
    attempt = contact_service.contact_of_case(
        session, case_id=case_id, attempt_id=contact_attempt_id
    )
    if attempt is not None:
        return attempt
    raise ContactAttemptNotFound(
        f"contact attempt {contact_attempt_id} is not a logged contact of case {case_id}"
    )


def record_recording(
    session: Session,
    *,
    user: User,
    case_id: int,
    contact_attempt_id: int,
    content: bytes,
    media_type: str,
    transcript: str | None = None,
    now: datetime,
) -> log.AppendedLeaf:
    """Append the recording of a logged call (and its transcript when there is one).

    Refused: an empty or oversized file, a media type that is not audio, an attempt that is
    not a call of this case, a case outside the user's reach."""
    attempt = _attempt_of_case(
        session, user=user, case_id=case_id, contact_attempt_id=contact_attempt_id
    )
    if attempt.channel not in RECORDING_CHANNELS:
        raise EvidenceFileRejected(
            f"contact attempt {attempt.id} was a {attempt.channel}, not a call: "
            "only calls have recordings"
        )
    kind = media_type.split(";", 1)[0].strip().lower()
    if kind not in RECORDING_MEDIA_TYPES:
        allowed = ", ".join(sorted(RECORDING_MEDIA_TYPES))
        raise EvidenceFileRejected(f"a recording must be audio ({allowed}), not {media_type!r}")
    try:  # the bytes must be what the declared type says (magic numbers), within the limit
        check_upload(content, kind, max_bytes=MAX_RECORDING_BYTES)
    except MediaRejected as exc:
        raise EvidenceFileRejected(f"the recording is refused: {exc}") from None
    files = [log.AttachedFile(content, kind)]
    payload: dict[str, object] = {
        "attempt_id": attempt.id,
        "channel": attempt.channel,
        "media_type": kind,
        "recorded_by": user.username,
        "size_bytes": len(content),
        "transcript_sha256": None,
    }
    if transcript is not None and transcript.strip():
        if len(transcript) > MAX_TRANSCRIPT_CHARS:
            raise EvidenceFileRejected(
                f"the transcript has {len(transcript):,} characters; "
                f"the limit is {MAX_TRANSCRIPT_CHARS:,}"
            )
        text = transcript.encode("utf-8")
        payload["transcript_sha256"] = hashlib.sha256(text).hexdigest()
        files.append(log.AttachedFile(text, "text/plain; charset=utf-8"))
    return log.append(
        session,
        kind=LeafKind.RECORDING,
        case_id=case_id,
        occurred_at=now,
        payload=payload,
        files=files,
    )


def record_message(
    session: Session,
    *,
    user: User,
    case_id: int,
    contact_attempt_id: int,
    body: str,
    now: datetime,
) -> log.AppendedLeaf:
    """Append the exact text of an SMS, e-mail or app message sent in a logged
    contact attempt; the text is stored as a file and its SHA-256 goes into the leaf."""
    attempt = _attempt_of_case(
        session, user=user, case_id=case_id, contact_attempt_id=contact_attempt_id
    )
    if attempt.channel not in MESSAGE_CHANNELS:
        allowed = ", ".join(sorted(MESSAGE_CHANNELS))
        raise EvidenceFileRejected(
            f"contact attempt {attempt.id} was a {attempt.channel}; message text belongs to "
            f"a {allowed} contact"
        )
    if not body.strip():
        raise EvidenceFileRejected("the message text is empty")
    if len(body) > MAX_MESSAGE_CHARS:
        raise EvidenceFileRejected(
            f"the message has {len(body):,} characters; the limit is {MAX_MESSAGE_CHARS:,}"
        )
    text = body.encode("utf-8")
    return log.append(
        session,
        kind=LeafKind.MESSAGE,
        case_id=case_id,
        occurred_at=now,
        payload={
            "attempt_id": attempt.id,
            "channel": attempt.channel,
            "body_sha256": hashlib.sha256(text).hexdigest(),
            "characters": len(body),
            "sent_by": user.username,
        },
        files=[log.AttachedFile(text, "text/plain; charset=utf-8")],
    )
