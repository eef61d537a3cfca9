"""Alerts during a call: the telephony system (or the agent's screen) posts each utterance
as it is transcribed; what the collector said is checked against the speech-compliance rules
and model at once, every flag becomes a stored alert that supervisors and compliance
auditors see and acknowledge, and the reply carries the call's running compliance score.
What the debtor said is read as ``analyze`` reads it (emotion, intent, next script).

Nothing here is evidence: at the end of the call the whole transcript is posted to
``POST /api/conversations/analyze`` with the case and contact attempt, which stores it in
the evidence log (``service.attach_analysis``)."""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from debtflow.auth.scoping import Permission, case_scope, require
from debtflow.case import service as case_service
from debtflow.conversation import repository
from debtflow.conversation.service import analyzer, is_unicode, turns_of
from debtflow.core.conversation.analysis import CollectorReading
from debtflow.core.conversation.labels import Severity, Violation
from debtflow.core.conversation.speech import SpeechFlag, compliance_score
from debtflow.core.errors import Conflict, InvalidInput, NotFound
from debtflow.models import CallAlert, User

#: a telephony system's call id: letters, digits and . _ : - (no spaces), 1–64 characters
CALL_REF = re.compile(r"[A-Za-z0-9._:\-]{1,64}")
MAX_EXCERPT = 200
MAX_ACKNOWLEDGEMENT = 1000
SEVERITY_ORDER = tuple(Severity)


class CallAlertNotFound(NotFound):
    code = "call_alert_not_found"


class CallTurnChanged(Conflict):
    code = "call_turn_changed"


@dataclass(frozen=True)
class AlertList:
    """Alerts newest first (at most the limit asked for) and how many match in all."""

    alerts: Sequence[CallAlert]
    total: int


@dataclass(frozen=True)
class LiveReading:
    """What one post during a call gives back: a reading per utterance (as ``analyze``),
    the alerts these utterances raised (already stored ones again on a retried post), and
    the call so far: its compliance score, number of alerts and worst severity."""

    readings: list[dict[str, Any]]
    alerts: list[CallAlert]
    call_score: int
    call_alerts: int
    worst_severity: str | None


def read_live(
    session: Session,
    *,
    user: User,
    case_id: int,
    call_ref: str,
    first_turn: int,
    utterances: Sequence[tuple[str, str]],
    now: datetime,
) -> LiveReading:
    """Read utterances of a call in progress and raise an alert for every speech rule (or
    model) that fires on what the collector said (the caller commits). ``first_turn`` is the
    number, within the call, of the first utterance posted (1 for the call's first).

    A turn is judged once: posting it again with the same words (a retry) gives back the
    alerts it raised then, whatever the rules say now; posting other words for a turn that
    raised alerts is refused (409), so an alert always shows what was said. The user must
    be allowed to contact debtors and reach the case."""
    require(user, Permission.CONTACT_DEBTORS)
    if not CALL_REF.fullmatch(call_ref):
        raise InvalidInput(
            "call_ref must be 1–64 letters, digits or . _ : - (the telephony system's call id)"
        )
    if first_turn < 1:
        raise InvalidInput("first_turn must be 1 or more (the call's first utterance is 1)")
    # the workbench reads the conversation service; its case context is imported when needed
    from debtflow.workbench.service import script_context

    turns = turns_of(utterances)
    case = case_service.get_for_user(session, case_id=case_id, user=user)
    reader = analyzer()
    readings = reader.read(turns, script_context(session, case_id=case.id, user=user))
    raised: list[CallAlert] = []
    for offset, reading in enumerate(readings):
        if not isinstance(reading, CollectorReading):
            continue
        turn = first_turn + offset
        digest = hashlib.sha256(reading.text.encode("utf-8")).hexdigest()
        judged = repository.alerts_of_turn(session, case_id=case.id, call_ref=call_ref, turn=turn)
        if judged:
            if any(alert.text_sha256 != digest for alert in judged):
                raise CallTurnChanged(
                    f"turn {turn} of call {call_ref} was posted with other words and raised "
                    "alerts on them; a turn's words cannot change"
                )
            raised.extend(judged)
            continue
        by_rule: dict[str, list[SpeechFlag]] = defaultdict(list)
        for flag in reading.flags:
            by_rule[flag.rule].append(flag)
        for rule, flags in by_rule.items():
            first = flags[0]
            raised.append(
                repository.add_alert_once(
                    session,
                    CallAlert(
                        case_id=case.id,
                        call_ref=call_ref,
                        turn=turn,
                        raised_at=now,
                        raised_by=user.username,
                        collector_id=case.assigned_collector_id,
                        violation=first.violation.value,
                        rule=rule,
                        severity=first.severity.value,
                        span_start=first.start,
                        span_end=first.end,
                        excerpt=first.excerpt[:MAX_EXCERPT],
                        matches=len(flags),
                        text_sha256=digest,
                        rules_version=reader.rules.version,
                    ),
                )
            )
    so_far = repository.alerts_of_call(session, case_id=case.id, call_ref=call_ref)
    return LiveReading(
        readings=[r.as_json() for r in readings],
        alerts=raised,
        call_score=call_score(so_far),
        call_alerts=len(so_far),
        worst_severity=worst_severity(so_far),
    )


def call_score(alerts: Sequence[CallAlert]) -> int:
    """The call's compliance score as ``analyze`` gives it for the whole conversation: 100
    minus, for each turn, the penalties its utterance score lost, floored at 0."""
    by_turn: dict[int, list[SpeechFlag]] = defaultdict(list)
    for alert in alerts:
        by_turn[alert.turn].append(
            SpeechFlag(
                Violation(alert.violation),
                alert.rule,
                Severity(alert.severity),
                alert.span_start,
                alert.span_end,
                alert.excerpt,
            )
        )
    penalty = sum(100 - compliance_score(flags) for flags in by_turn.values())
    return max(0, 100 - penalty)


def worst_severity(alerts: Sequence[CallAlert]) -> str | None:
    found = {Severity(a.severity) for a in alerts}
    worst = [s for s in SEVERITY_ORDER if s in found]
    return worst[-1].value if worst else None


def severities_from(least: str | None) -> frozenset[str] | None:
    """The severities at or above ``least`` (None: all)."""
    if least is None:
        return None
    try:
        index = SEVERITY_ORDER.index(Severity(least))
    except ValueError:
        allowed = ", ".join(s.value for s in SEVERITY_ORDER)
        raise InvalidInput(f"severity {least!r} is not one of {allowed}") from None
    return frozenset(s.value for s in SEVERITY_ORDER[index:])


def list_alerts(
    session: Session,
    *,
    user: User,
    open_only: bool = True,
    case_id: int | None = None,
    least_severity: str | None = None,
    limit: int = 100,
) -> AlertList:
    """Alerts newest first and their number, for a compliance auditor, supervisor or manager
    (every role that audits compliance reaches all cases)."""
    require(user, Permission.AUDIT_COMPLIANCE)
    if not case_scope(user).all_cases:  # a role given the permission without all cases
        raise InvalidInput("only a role that reaches all cases may list call alerts")
    if not 1 <= limit <= 500:
        raise InvalidInput("limit must be between 1 and 500")
    severities = severities_from(least_severity)
    return AlertList(
        alerts=repository.find_alerts(
            session, open_only=open_only, case_id=case_id, severities=severities, limit=limit
        ),
        total=repository.count_alerts(
            session, open_only=open_only, case_id=case_id, severities=severities
        ),
    )


def acknowledge(
    session: Session, *, user: User, alert_id: int, note: str | None, now: datetime
) -> CallAlert:
    """Record that a supervisor or auditor has seen the alert and acted (the caller commits).
    Acknowledging it again changes nothing: the first acknowledgement stands."""
    require(user, Permission.AUDIT_COMPLIANCE)
    if note is not None and len(note) > MAX_ACKNOWLEDGEMENT:
        raise InvalidInput(f"the note is longer than {MAX_ACKNOWLEDGEMENT} characters")
    if note is not None and ("\x00" in note or not is_unicode(note)):
        raise InvalidInput(
            "the note has a character that cannot be stored (NUL or a lone surrogate)"
        )
    alert = repository.get_alert(session, alert_id=alert_id, for_update=True)
    if alert is None:
        raise CallAlertNotFound(f"call alert {alert_id} does not exist")
    if alert.acknowledged_at is None:
        alert.acknowledged_at = now
        alert.acknowledged_by = user.username
        alert.acknowledgement = (note or "").strip() or None
        session.flush()
    return alert
