"""The compliance gate on the database: every intended contact gets a stored decision, taken
under a per-debtor lock over the shared history of every party; supervisors override denies
in writing; standing restrictions (do-not-contact, dispute, legal hold …) feed the gate —
recorded, lifted and read in ``restrictions.py``, re-exported here.

Services never commit; the request or job wrapper commits once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from debtflow.compliance import repository
from debtflow.compliance.restrictions import CaseUnderDispute as CaseUnderDispute
from debtflow.compliance.restrictions import InvalidContact as InvalidContact
from debtflow.compliance.restrictions import disputes_in_force as disputes_in_force
from debtflow.compliance.restrictions import lift_restriction as lift_restriction
from debtflow.compliance.restrictions import refuse_while_disputed as refuse_while_disputed
from debtflow.compliance.restrictions import require_aware as _aware
from debtflow.compliance.restrictions import set_restriction as set_restriction
from debtflow.core.case.lifecycle import OPEN_STATUSES
from debtflow.core.compliance.contact import (
    Channel,
    ContactFlag,
    ContactIntent,
    ContactRecord,
    Target,
)
from debtflow.core.compliance.gate import Decision, evaluate, history_days_needed
from debtflow.core.compliance.reasons import ReasonCode
from debtflow.core.compliance.rule_pack import PackError, RulePack, load_pack
from debtflow.core.compliance.supervisor_override import OverrideRefused, override_deny
from debtflow.core.errors import Conflict, DomainError, NotFound
from debtflow.db import utcnow
from debtflow.models import (
    ContactDecision,
    ContactPoint,
    Creditor,
    DenyOverride,
)

#: An allowed decision covers a contact made from 5 minutes before to 30 minutes after its
#: planned time; until it is used or expires it counts against the caps as a connected call.
EARLY_TOLERANCE = timedelta(minutes=5)
#: how far ahead of the server's clock a logged contact time may be (clocks differ a little)
CLOCK_SKEW = timedelta(minutes=5)
DECISION_VALID_FOR = timedelta(minutes=30)


class ContactNotPermitted(DomainError):
    """A contact the gate did not allow (and no supervisor override covers)."""

    status_code = 409
    code = "contact_not_permitted"


class DecisionNotFound(NotFound):
    code = "decision_not_found"


class OverrideNotGranted(Conflict):
    code = "override_refused"


@lru_cache
def pack_named(name: str) -> RulePack:
    return load_pack(name)


def _pack_of(creditor: Creditor) -> RulePack:
    return _pack_named(creditor.compliance_pack, creditor_code=creditor.code)


def _pack_named(name: str, *, creditor_code: str) -> RulePack:
    try:
        return pack_named(name)
    except PackError as exc:
        raise InvalidContact(f"creditor {creditor_code}: {exc}") from exc


def zone_named(name: str, *, debtor_id: int) -> ZoneInfo:
    """The debtor's time zone; an unknown name is an invalid contact (422)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidContact(f"debtor {debtor_id} has an unknown time zone {name!r}") from exc


def _choice(value: str, allowed: type[Channel] | type[Target], what: str) -> None:
    if value not in {member.value for member in allowed}:
        names = ", ".join(member.value for member in allowed)
        raise InvalidContact(f"unknown {what} {value!r}; expected one of: {names}")


def _record(
    at: datetime,
    channel: str,
    connected: bool,
    conversation: bool,
    party: str,
    account_id: int | None,
    target: str,
) -> ContactRecord:
    return ContactRecord(
        at=at,
        channel=_CHANNELS[channel],
        connected=connected,
        conversation=conversation,
        party=party,
        debt_id=None if account_id is None else str(account_id),
        target=_TARGETS[target],
    )


_CHANNELS = {member.value: member for member in Channel}
_TARGETS = {member.value: member for member in Target}


def _histories(
    rows: Sequence[repository.HistoryRow], *, debtor_ids: Sequence[int]
) -> dict[int, list[ContactRecord]]:
    """The shared history the gate needs, per debtor: every attempt by every party, plus
    every allowed decision not yet used (as a connected call, so no cap is oversold)."""
    histories: dict[int, list[ContactRecord]] = {debtor_id: [] for debtor_id in debtor_ids}
    for debtor_id, at, channel, connected, conversation, party, account_id, target in rows:
        if channel in _CHANNELS:
            histories[debtor_id].append(
                _record(at, channel, connected, conversation, party, account_id, target)
            )
    return histories


def _flags(
    restrictions: Sequence[repository.StandingRestriction], *, case_id: int, at: datetime
) -> tuple[frozenset[ContactFlag], datetime | None]:
    """Flags in force at ``at`` for the case, and the end of a hardship cooling-off."""
    flags: set[ContactFlag] = set()
    cooling_off_ends: list[datetime | None] = []
    for row in restrictions:
        if row.starts_at > at or (row.case_id is not None and row.case_id != case_id):
            continue
        flag = ContactFlag(row.flag)
        if flag is ContactFlag.HARDSHIP_COOLING_OFF:
            flags.add(flag)
            cooling_off_ends.append(row.ends_at)
        elif row.ends_at is None or row.ends_at > at:
            flags.add(flag)
    if not cooling_off_ends or any(end is None for end in cooling_off_ends):
        return frozenset(flags), None
    latest = max(end for end in cooling_off_ends if end is not None)
    if latest <= at:
        flags.discard(ContactFlag.HARDSHIP_COOLING_OFF)
        return frozenset(flags), None
    return frozenset(flags), latest


class _Asked(Protocol):
    """What ``_verdict`` reads of a decision: a stored ``ContactDecision`` or a new one's
    values (``NewDecision``)."""

    case_id: int
    channel: str
    target: str
    requested_by: str
    collecting_party: str
    account_id: int | None
    purpose: str
    debtor_unreachable: bool
    script_text: str | None


def _verdict(
    row: _Asked,
    *,
    at: datetime,
    zone: ZoneInfo,
    pack: RulePack,
    history: Sequence[ContactRecord],
    restrictions: Sequence[repository.StandingRestriction],
    point: ContactPoint | None,
) -> Decision:
    flags, cooling_off_until = _flags(restrictions, case_id=row.case_id, at=at)
    third_party = row.target == Target.THIRD_PARTY
    intent = ContactIntent(
        at=at,
        debtor_tz=zone,
        channel=Channel(row.channel),
        target=Target(row.target),
        collector_id=row.requested_by,
        party=row.collecting_party,
        debt_id=None if row.account_id is None else str(row.account_id),
        purpose=row.purpose,
        third_party_authorised=point is not None and point.authorised,
        debtor_unreachable=row.debtor_unreachable,
        third_party_refused=third_party and point is not None and not point.valid,
        flags=flags,
        cooling_off_until=cooling_off_until,
        script_text=row.script_text,
    )
    return evaluate(intent, history, pack)


def _contact_point(
    points: dict[int, ContactPoint], *, debtor_id: int, target: str, contact_point_id: int | None
) -> ContactPoint | None:
    """The contact point to use, checked to be the debtor's and of the right kind."""
    if contact_point_id is None:
        if target == Target.THIRD_PARTY:
            raise InvalidContact("a third-party contact must name the contact point to use")
        return None
    point = points.get(contact_point_id)
    if point is None or point.debtor_id != debtor_id:
        raise InvalidContact(f"contact point {contact_point_id} is not one of this debtor's")
    if point.party.value != target:
        raise InvalidContact(
            f"contact point {contact_point_id} is a {point.party.value} number, not a {target} one"
        )
    return point


@dataclass(frozen=True)
class ContactAsk:
    """One intended contact, as asked of the gate (see ``decide``)."""

    case_id: int
    channel: str
    planned_at: datetime
    collecting_party: str
    requested_by: str
    collector_id: int | None = None
    target: str = "debtor"
    contact_point_id: int | None = None
    account_id: int | None = None
    purpose: str = "collection"
    debtor_unreachable: bool = False
    script_text: str | None = None


def _check(ask: ContactAsk, now: datetime) -> None:
    _aware(ask.planned_at, "planned contact time")
    _choice(ask.channel, Channel, "channel")
    _choice(ask.target, Target, "target")
    if not ask.collecting_party.strip() or not ask.requested_by.strip():
        raise InvalidContact("say who asks (requested_by) and for which party (collecting_party)")
    if ask.planned_at < now - EARLY_TOLERANCE:
        raise InvalidContact(
            "the gate is asked before a contact, not after: planned time "
            f"{ask.planned_at.isoformat()} is in the past"
        )


def decide_many(
    session: Session, *, asks: Sequence[ContactAsk], now: datetime | None = None
) -> list[ContactDecision]:
    """Ask the gate about several intended contacts at once (a dialer's next batch); every
    decision is stored, in the order asked.

    The debtors are locked in id order (so concurrent batches cannot deadlock), their
    histories and restrictions are read in one query, each allowed decision is added
    to its debtor's history before the next ask, so two asks in one batch cannot both take
    the last allowed call, and the decisions are stored together (one COPY on PostgreSQL).
    A batch costs the same round trips whatever its size. Any invalid ask refuses the
    whole batch.
    """
    now = now or utcnow()
    _aware(now, "now")
    if not asks:
        return []
    for ask in asks:
        _check(ask, now)
    loaded = repository.lock_gate_subjects(session, case_ids=sorted({a.case_id for a in asks}))
    for ask in asks:
        subject = loaded.get(ask.case_id)
        if subject is None:
            raise NotFound(f"case {ask.case_id} does not exist")
        if subject.case_status not in OPEN_STATUSES:
            raise InvalidContact(
                f"case {subject.case_id} is {subject.case_status.value}: no collection contact"
            )
    accounts = repository.accounts(
        session, account_ids=[a.account_id for a in asks if a.account_id is not None]
    )
    for ask in asks:
        if ask.account_id is not None:
            account = accounts.get(ask.account_id)
            if account is None or account.case_id != ask.case_id:
                raise InvalidContact(
                    f"account {ask.account_id} is not a debt of case {ask.case_id}"
                )
    points = repository.contact_points(
        session,
        contact_point_ids=[a.contact_point_id for a in asks if a.contact_point_id is not None],
    )
    packs = {
        case_id: _pack_named(subject.compliance_pack, creditor_code=subject.creditor_code)
        for case_id, subject in loaded.items()
    }
    zones = {
        subject.debtor_id: zone_named(subject.debtor_timezone, debtor_id=subject.debtor_id)
        for subject in loaded.values()
    }
    debtor_ids = sorted(zones)
    since = min(
        ask.planned_at - timedelta(days=history_days_needed(packs[ask.case_id]) + 1) for ask in asks
    )
    facts = repository.gate_facts(
        session, debtor_ids=debtor_ids, since=since, now=now, skip_decision=None
    )
    histories = _histories(facts.history, debtor_ids=debtor_ids)
    rows = []
    for ask in asks:
        subject = loaded[ask.case_id]
        debtor_id = subject.debtor_id
        point = _contact_point(
            points, debtor_id=debtor_id, target=ask.target, contact_point_id=ask.contact_point_id
        )
        row = repository.NewDecision(
            debtor_id=debtor_id,
            case_id=subject.case_id,
            account_id=ask.account_id,
            collector_id=ask.collector_id,
            collecting_party=ask.collecting_party.strip(),
            requested_by=ask.requested_by.strip(),
            channel=ask.channel,
            target=ask.target,
            contact_point_id=ask.contact_point_id,
            purpose=ask.purpose,
            debtor_unreachable=ask.debtor_unreachable,
            script_text=ask.script_text,
            planned_at=ask.planned_at,
            expires_at=ask.planned_at + DECISION_VALID_FOR,
            decided_at=now,
        )
        verdict = _verdict(
            row,
            at=ask.planned_at,
            zone=zones[debtor_id],
            pack=packs[ask.case_id],
            history=histories[debtor_id],
            restrictions=facts.restrictions.get(debtor_id, []),
            point=point,
        )
        row.allowed = verdict.allowed
        row.reasons = [code.value for code in verdict.reasons]
        row.pack_version = verdict.pack_version
        row.next_allowed_at = verdict.next_allowed_at
        if verdict.allowed:  # reserve its place for the rest of the batch
            histories[debtor_id].append(
                _record(
                    ask.planned_at, ask.channel, True, False, row.collecting_party,
                    ask.account_id, ask.target,
                )
            )  # fmt: skip
        rows.append(row)
    return repository.insert_decisions(session, rows)


def decide(
    session: Session,
    *,
    case_id: int,
    channel: str,
    planned_at: datetime,
    collecting_party: str,
    requested_by: str,
    collector_id: int | None = None,
    target: str = "debtor",
    contact_point_id: int | None = None,
    account_id: int | None = None,
    purpose: str = "collection",
    debtor_unreachable: bool = False,
    script_text: str | None = None,
    now: datetime | None = None,
) -> ContactDecision:
    """Ask the gate about one intended contact; the decision (allow or deny) is stored.

    Takes the per-debtor lock first, so two requests for the same debtor are decided one
    after the other and the second sees the first one's allowed decision.
    """
    ask = ContactAsk(
        case_id=case_id,
        channel=channel,
        planned_at=planned_at,
        collecting_party=collecting_party,
        requested_by=requested_by,
        collector_id=collector_id,
        target=target,
        contact_point_id=contact_point_id,
        account_id=account_id,
        purpose=purpose,
        debtor_unreachable=debtor_unreachable,
        script_text=script_text,
    )
    return decide_many(session, asks=[ask], now=now)[0]


def get_decision(session: Session, *, decision_id: int) -> ContactDecision:
    row = repository.decision(session, decision_id=decision_id)
    if row is None:
        raise DecisionNotFound(f"gate decision {decision_id} does not exist")
    return row


#: a check of who may log against a decision (``permit_attempt``'s ``authorize``): raises a
#: DomainError to refuse
Authorize = Callable[[repository.LockedDecision], None]


def permit_attempt(
    session: Session,
    *,
    decision_id: int,
    attempted_at: datetime,
    now: datetime | None = None,
    authorize: Authorize | None = None,
) -> ContactDecision:
    """Check, under the debtor lock, that a contact made at ``attempted_at`` may be logged
    against ``decision_id``; return the decision. Refused: an unknown or already used
    decision, a deny without a supervisor override, a time outside the decision's window,
    and anything the gate now refuses at ``attempted_at`` (a new restriction, quiet hours)
    that an override does not cover. ``authorize`` (who is logging: their reach to the case)
    runs on the locked decision before anything else is read or checked."""
    now = now or utcnow()
    _aware(attempted_at, "contact time")
    # the debtor's lock, the decision and what the gate needs of the case, read together
    locked = repository.lock_decision(session, decision_id=decision_id)
    if locked is None:
        raise DecisionNotFound(f"gate decision {decision_id} does not exist")
    if authorize is not None:
        authorize(locked)
    row, subject = locked.decision, locked.subject
    used, override = repository.use_and_override_of(session, decision_id=decision_id)
    if used is not None:
        raise Conflict(f"gate decision {decision_id} was already used by contact {used}")
    if not row.allowed and override is None:
        raise ContactNotPermitted(
            f"the gate denied this contact ({', '.join(row.reasons)}); "
            "it can be logged only after a supervisor's written override"
        )
    if attempted_at > now + CLOCK_SKEW:
        raise InvalidContact(
            f"a contact is logged once it was made: {attempted_at.isoformat()} is still to come"
        )
    if not row.planned_at - EARLY_TOLERANCE <= attempted_at <= row.expires_at:
        raise ContactNotPermitted(
            f"decision {decision_id} covers contacts from "
            f"{(row.planned_at - EARLY_TOLERANCE).isoformat()} to {row.expires_at.isoformat()}; "
            "ask the gate again"
        )
    debtor_id = subject.debtor_id
    pack = _pack_named(subject.compliance_pack, creditor_code=subject.creditor_code)
    points = repository.contact_points(
        session, contact_point_ids=[] if row.contact_point_id is None else [row.contact_point_id]
    )
    point = _contact_point(
        points, debtor_id=debtor_id, target=row.target, contact_point_id=row.contact_point_id
    )
    since = attempted_at - timedelta(days=history_days_needed(pack) + 1)
    facts = repository.gate_facts(
        session, debtor_ids=[debtor_id], since=since, now=now, skip_decision=row.id
    )
    verdict = _verdict(
        row,
        at=attempted_at,
        zone=zone_named(subject.debtor_timezone, debtor_id=debtor_id),
        pack=pack,
        history=_histories(facts.history, debtor_ids=[debtor_id])[debtor_id],
        restrictions=facts.restrictions.get(debtor_id, []),
        point=point,
    )
    covered = set(override.overridden_reasons) if override is not None else set()
    uncovered = [code.value for code in verdict.reasons if code.value not in covered]
    if uncovered:
        raise ContactNotPermitted(
            f"at {attempted_at.isoformat()} the gate refuses this contact: {', '.join(uncovered)}"
        )
    return row


def grant_override(
    session: Session,
    *,
    decision_id: int,
    supervisor: str,
    written_reason: str,
    now: datetime | None = None,
) -> DenyOverride:
    """Record a supervisor's written override of a denied decision (refused for an allow,
    one's own contact, a thin reason, or a reason the pack forbids overriding)."""
    now = now or utcnow()
    if repository.lock_debtor_of_decision(session, decision_id=decision_id) is None:
        raise DecisionNotFound(f"gate decision {decision_id} does not exist")
    row = get_decision(session, decision_id=decision_id)
    if repository.override_of(session, decision_id=decision_id) is not None:
        raise OverrideNotGranted(f"decision {decision_id} was already overridden")
    found = repository.case_with_creditor(session, case_id=row.case_id)
    assert found is not None
    pack = _pack_of(found[1])
    decision = Decision(
        allowed=row.allowed,
        reasons=tuple(ReasonCode(code) for code in row.reasons),
        pack_version=row.pack_version,
        next_allowed_at=row.next_allowed_at,
        at=row.planned_at,
    )
    try:
        record = override_deny(
            decision,
            pack,
            supervisor_id=supervisor.strip(),
            collector_id=row.requested_by,
            written_reason=written_reason,
            granted_at=now,
        )
    except OverrideRefused as exc:
        raise OverrideNotGranted(str(exc)) from exc
    override = DenyOverride(
        decision_id=row.id,
        supervisor=record.supervisor_id,
        collector_id=row.collector_id,
        overridden_reasons=[code.value for code in record.overridden_reasons],
        pack_version=record.pack_version,
        written_reason=record.written_reason,
        fingerprint=record.fingerprint,
        granted_at=record.granted_at,
    )
    repository.add(session, override)
    session.flush()
    return override
