"""Conversation intelligence on the platform: the trained models (loaded once per process,
trained from the shipped data the first time), analysis of a conversation's turns, and
analyses attached to a case: stored per utterance, the transcript and results appended to
the evidence log, a stated overdue cause written to the case while it is unknown."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from debtflow.auth.scoping import Permission, require
from debtflow.case import service as case_service
from debtflow.config import get_settings
from debtflow.contact import service as contact_service
from debtflow.conversation import repository
from debtflow.conversation import rules as conversation_rules
from debtflow.core.conversation.analysis import ConversationAnalyzer, Turn, summarise
from debtflow.core.conversation.labels import Segment, Speaker
from debtflow.core.conversation.scripts import CaseContext, ScriptLibrary
from debtflow.core.conversation.speech import SpeechRuleSet
from debtflow.core.conversation.trained import (
    ConversationModels,
    ModelFileError,
    load_models,
    save_models,
    train_models,
)
from debtflow.core.errors import Conflict, InvalidInput
from debtflow.core.evidence.leaf import LeafKind
from debtflow.evidence import log
from debtflow.models import Case, ContactAttempt, ConversationAnalysis, User
from debtflow.models.enums import OverdueCause


class ConversationModelError(InvalidInput):
    code = "conversation_model"
    status_code = 503


class ContactAttemptMismatch(InvalidInput):
    code = "contact_attempt_mismatch"


class ConversationAlreadyAttached(Conflict):
    """A contact attempt's conversation is stored once (a retried post must not store it,
    and its evidence, twice)."""

    code = "conversation_already_attached"


#: a cause the debtor states that the case's overdue cause (read by the segmentation) takes
STATED_CAUSES: dict[str, OverdueCause] = {
    "unemployment": OverdueCause.UNEMPLOYMENT,
    "illness": OverdueCause.ILLNESS,
    "business_downturn": OverdueCause.BUSINESS_DOWNTURN,
}
#: channels whose conversation is written text (the rest are spoken: calls, AI voice, visits)
MESSAGE_CHANNELS = frozenset({"sms", "email", "app"})


def model_dir() -> Path:
    """``DEBTFLOW_CONVERSATION_MODELS``, else ``DEBTFLOW_MODEL_DIR``, else
    ``<data_dir>/models/conversation``."""
    settings = get_settings()
    if settings.conversation_models:
        return settings.conversation_models
    legacy = os.environ.get("DEBTFLOW_MODEL_DIR")
    if legacy:
        return Path(legacy)
    return Path(settings.data_dir) / "models" / "conversation"


def shipped_data_dir() -> Path:
    return get_settings().shipped_data


def load_or_train(
    directory: Path | None = None,
    data: Path | None = None,
    *,
    progress: Callable[[str], None] | None = None,
) -> ConversationModels:
    """The saved models; trained from the shipped data and saved when there are none yet.

    A model file that exists but cannot be used (another library version, damage) is an
    error, never silently replaced."""
    target = directory or model_dir()
    try:
        return load_models(target)
    except ModelFileError as error:
        if (target / "conversation-models.pkl").exists():
            raise ConversationModelError(str(error)) from error
    if progress is not None:
        progress(
            f"no trained model in {target}; training from the shipped data first "
            "(nothing is downloaded)"
        )
    models = train_models(data or shipped_data_dir(), hold_out_emotion=False, progress=progress)
    try:
        save_models(models, target)
    except OSError as error:
        if progress is not None:
            progress(f"warning: could not save the model ({error})")
    return models


def make_analyzer(
    models: ConversationModels,
    library: ScriptLibrary | None = None,
    rules: SpeechRuleSet | None = None,
) -> ConversationAnalyzer:
    """An analyzer over ``models`` with the given library and speech rules, by default
    those in force (``conversation.rules``)."""
    return ConversationAnalyzer(
        models,
        conversation_rules.script_library() if library is None else library,
        conversation_rules.speech_rules() if rules is None else rules,
    )


_ANALYZERS: dict[Path, ConversationAnalyzer] = {}
_ANALYZERS_LOCK = threading.Lock()


def analyzer() -> ConversationAnalyzer:
    """The process's analyzer: the configured models (loaded once; requests that arrive
    while the first one loads or trains them wait for it instead of training again) with the
    script library and speech rules in force — an operations manager's edited file is used
    from the next call on, over the same models; a file that cannot be used raises
    :class:`~debtflow.conversation.rules.InvalidConversationRules` (422)."""
    directory = model_dir()
    library = conversation_rules.script_library()
    rules = conversation_rules.speech_rules()
    found = _ANALYZERS.get(directory)
    if found is not None and found.library is library and found.rules is rules:
        return found
    with _ANALYZERS_LOCK:
        found = _ANALYZERS.get(directory)
        if found is None:
            found = make_analyzer(load_or_train(directory), library, rules)
        elif found.library is not library or found.rules is not rules:
            found = make_analyzer(found.models, library, rules)
        _ANALYZERS[directory] = found
        return found


def analyze(
    utterances: Sequence[tuple[str, str]], *, case: CaseContext | None = None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Readings for (speaker, text) pairs in order, and the conversation summary."""
    turns = turns_of(utterances)
    readings = analyzer().read(turns, case)
    return [r.as_json() for r in readings], summarise(readings).as_json()


def is_unicode(text: str) -> bool:
    """False for text that cannot be stored as UTF-8 (a lone surrogate such as "\\ud800")."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def turns_of(utterances: Sequence[tuple[str, str]]) -> list[Turn]:
    """(speaker, text) pairs as turns; an empty list, an unknown speaker, an empty text or
    one that is not valid Unicode is refused (422) naming the utterance."""
    if not utterances:
        raise InvalidInput("no utterances to analyse")
    turns = []
    for number, (speaker, text) in enumerate(utterances, start=1):
        if speaker not in ("debtor", "collector"):
            raise InvalidInput(f'utterance {number}: speaker must be "debtor" or "collector"')
        if not text.strip():
            raise InvalidInput(f"utterance {number}: text is empty")
        if not is_unicode(text):
            raise InvalidInput(f"utterance {number}: text has a lone surrogate (not valid Unicode)")
        if "\x00" in text:
            raise InvalidInput(f"utterance {number}: text has a NUL character")
        turns.append(Turn(Speaker(speaker), text))
    return turns


@dataclass(frozen=True)
class AttachedAnalysis:
    """An analysis stored against a case: the readings and summary (as :func:`analyze`),
    the stored row ids, where the evidence leaf landed and the cause now on the case."""

    readings: list[dict[str, Any]]
    summary: dict[str, Any]
    analysis_ids: list[int]
    evidence: log.AppendedLeaf
    case_cause: str
    cause_updated: bool


def analyze_for_user(
    session: Session,
    *,
    user: User,
    utterances: Sequence[tuple[str, str]],
    case_id: int,
    contact_attempt_id: int | None = None,
    now: datetime,
) -> AttachedAnalysis:
    """:func:`attach_analysis` for a signed-in user: they must be allowed to contact
    debtors (403) and reach the case (404, as for a missing case). The next action's script
    quotes what the case page's would (``workbench.script_context``: the plan worked out
    now, or the signed plan's next payment)."""
    # the workbench reads this module; its case context is imported when first needed
    from debtflow.workbench.service import script_context

    require(user, Permission.CONTACT_DEBTORS)
    context = script_context(session, case_id=case_id, user=user)  # 404 out of reach
    return attach_analysis(
        session,
        utterances=utterances,
        case_id=case_id,
        contact_attempt_id=contact_attempt_id,
        analysed_by=user.username,
        now=now,
        context=context,
    )


def attach_analysis(
    session: Session,
    *,
    utterances: Sequence[tuple[str, str]],
    case_id: int,
    contact_attempt_id: int | None = None,
    analysed_by: str,
    now: datetime,
    reader: ConversationAnalyzer | None = None,
    context: CaseContext | None = None,
) -> AttachedAnalysis:
    """Analyse a conversation of a case and keep the result (the caller commits).

    ``reader`` defaults to the process's analyzer and ``context`` (what scripts may quote)
    to the case's outstanding balance and segment.

    One ``conversation_analysis`` row per utterance; one evidence leaf for the whole batch
    (``message`` for an SMS/e-mail/app contact, else ``recording``: a spoken conversation's
    transcript) whose payload carries the transcript's SHA-256 and the results, with the
    transcript attached as a file; the first stated unemployment / illness / business
    downturn becomes the case's overdue cause when that is still unknown. A contact attempt,
    when given, must be a logged contact of this case (422 otherwise)."""
    turns = turns_of(utterances)
    case = case_service.get(session, case_id=case_id)
    attempt = _attempt_of(session, case_id=case_id, contact_attempt_id=contact_attempt_id)
    readings = (reader or analyzer()).read(turns, context or context_of(case))
    as_json = [r.as_json() for r in readings]
    summary = summarise(readings).as_json()

    rows = [_row_of(reading, case_id=case_id, attempt=attempt, now=now) for reading in as_json]
    repository.add_analyses(session, rows)

    transcript = _transcript(utterances)
    digest = hashlib.sha256(transcript).hexdigest()
    channel = None if attempt is None else attempt.channel
    kind = LeafKind.MESSAGE if channel in MESSAGE_CHANNELS else LeafKind.RECORDING
    leaf = log.append(
        session,
        kind=kind,
        case_id=case_id,
        occurred_at=now,
        payload={
            "analysis": "conversation",
            "attempt_id": None if attempt is None else attempt.id,
            "channel": channel,
            "transcript_sha256": digest,
            "utterances": len(rows),
            "analysed_by": analysed_by,
            "analysis_ids": [row.id for row in rows],
            "results": [_evidence_result(row) for row in rows],
            "compliance_score": int(summary["compliance_score"]),
            "willingness_permille": _permille(summary["willingness"]),
        },
        files=[log.AttachedFile(transcript, TRANSCRIPT_MEDIA_TYPE)],
    )

    cause_updated = False
    stated = next((STATED_CAUSES[r.cause] for r in rows if r.cause in STATED_CAUSES), None)
    if stated is not None:
        cause_updated = repository.set_cause_if_unknown(session, case_id=case_id, cause=stated)
    return AttachedAnalysis(
        readings=as_json,
        summary=summary,
        analysis_ids=[row.id for row in rows],
        evidence=leaf,
        case_cause=case_service.get(session, case_id=case_id).overdue_cause.value,
        cause_updated=cause_updated,
    )


TRANSCRIPT_MEDIA_TYPE = "application/x-ndjson; charset=utf-8"
# Line breaks JSON leaves as they are; escaped so that only "\n" ends a transcript line.
_LINE_BREAKS = {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _transcript(utterances: Sequence[tuple[str, str]]) -> bytes:
    """The evidence transcript: one JSON object {"speaker", "text"} per line, UTF-8.

    A text cannot end its line early (a newline inside it is escaped by JSON), so no
    utterance can forge another speaker's line in the stored file."""
    lines = []
    for speaker, text in utterances:
        line = json.dumps({"speaker": speaker, "text": text}, ensure_ascii=False)
        for raw, escaped in _LINE_BREAKS.items():
            line = line.replace(raw, escaped)
        lines.append(line + "\n")
    return "".join(lines).encode("utf-8")


def analyses_of_case(session: Session, *, case_id: int) -> Sequence[ConversationAnalysis]:
    return repository.analyses_of_case(session, case_id=case_id)


def _attempt_of(
    session: Session, *, case_id: int, contact_attempt_id: int | None
) -> ContactAttempt | None:
    """The contact attempt, locked (two posts of the same call wait for each other), once
    it is known to be a logged contact of the case with no analysis stored yet."""
    if contact_attempt_id is None:
        return None
    attempt = contact_service.contact_of_case(
        session, case_id=case_id, attempt_id=contact_attempt_id, for_update=True
    )
    if attempt is None:
        raise ContactAttemptMismatch(
            f"contact attempt {contact_attempt_id} is not a logged contact of case {case_id}"
        )
    stored = repository.analysis_ids_of_attempt(session, contact_attempt_id=attempt.id)
    if stored:
        raise ConversationAlreadyAttached(
            f"the conversation of contact attempt {attempt.id} is already analysed and stored "
            f"(analyses {stored[0]}–{stored[-1]}); a contact's conversation is stored once"
        )
    return attempt


def context_of(case: Case) -> CaseContext:
    """What a script chosen for the case may quote: its outstanding balance and segment."""
    segment = case.segment if case.segment in {s.value for s in Segment} else None
    return CaseContext(
        outstanding_fen=case.outstanding_fen,
        segment=None if segment is None else Segment(segment),
    )


def _row_of(
    reading: dict[str, Any], *, case_id: int, attempt: ContactAttempt | None, now: datetime
) -> ConversationAnalysis:
    text_sha256 = hashlib.sha256(reading["text"].encode("utf-8")).hexdigest()
    common = {
        "case_id": case_id,
        "contact_attempt_id": None if attempt is None else attempt.id,
        "analysed_at": now,
        "speaker": reading["speaker"],
        "text_sha256": text_sha256,
    }
    if reading["speaker"] == Speaker.DEBTOR.value:
        return ConversationAnalysis(
            **common,
            emotion=reading["emotion"],
            intent=reading["intent"],
            cause=reading["cause"],
            willingness=float(reading["willingness"]),
        )
    return ConversationAnalysis(
        **common,
        compliance_score=float(reading["score"]),
        flags=[
            {"violation": f["violation"], "rule": f["rule"], "severity": f["severity"]}
            for f in reading["flags"]
        ],
    )


def _permille(value: float | None) -> int | None:
    return None if value is None else round(value * 1000)


def _evidence_result(row: ConversationAnalysis) -> dict[str, object]:
    """The stored row as evidence JSON (no floats in a leaf: shares are in per mille)."""
    return {
        "speaker": row.speaker,
        "text_sha256": row.text_sha256,
        "emotion": row.emotion,
        "intent": row.intent,
        "cause": row.cause,
        "willingness_permille": _permille(row.willingness),
        "compliance_score": None if row.compliance_score is None else int(row.compliance_score),
        "flags": [f["violation"] for f in row.flags or []],
    }
