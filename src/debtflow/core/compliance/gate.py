"""The contact-policy evaluator: one pure function from (intent, history, pack) to a decision.

History needed (what a database service must pass): every contact record for the debtor,
from ALL parties, whose time is on or after local midnight of the debtor's local date of
``intent.at`` minus ``history_days_needed(pack)`` days (cn-2025: 1 day back is enough,
us-regf: 7), including any record later than ``intent.at``. Records outside that slice are
ignored, so passing more is harmless. Per-debt rules (us-regf) count only records whose
``debt_id`` equals the intent's or is None.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from debtflow.core.compliance.contact import (
    ContactFlag,
    ContactIntent,
    ContactRecord,
    Target,
)
from debtflow.core.compliance.reasons import ReasonCode
from debtflow.core.compliance.rule_pack import RulePack

#: How far ahead ``next_allowed_at`` is searched; beyond it the answer is None.
SEARCH_HORIZON = timedelta(days=400)

_FLAG_REASONS: dict[ContactFlag, ReasonCode] = {
    ContactFlag.DO_NOT_CONTACT: ReasonCode.DO_NOT_CONTACT,
    ContactFlag.DISPUTE: ReasonCode.DISPUTE,
    ContactFlag.HARDSHIP_COOLING_OFF: ReasonCode.HARDSHIP_COOLING_OFF,
    ContactFlag.LEGAL_HOLD: ReasonCode.LEGAL_HOLD,
    ContactFlag.ATTORNEY: ReasonCode.ATTORNEY_REPRESENTED,
}


@dataclass(frozen=True, slots=True)
class Decision:
    """The gate's answer. ``next_allowed_at`` is the earliest moment (debtor-local offset) at
    which the same contact would be allowed given the same history: ``at`` itself when
    allowed, None when no amount of waiting helps (a flag, a third-party condition)."""

    allowed: bool
    reasons: tuple[ReasonCode, ...]
    pack_version: str
    next_allowed_at: datetime | None
    at: datetime


def history_days_needed(pack: RulePack) -> int:
    """Local days before the intent's local date that the history slice must cover."""
    days = 1
    if pack.seven_day_calls is not None:
        days = max(days, pack.seven_day_calls.days)
    if pack.post_conversation is not None:
        days = max(days, pack.post_conversation.days)
    return days


def local_instant(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The earliest instant whose wall-clock time in ``zone`` is at or after ``day wall``.

    Ambiguous times (clocks going back) give the first occurrence; times skipped by a
    daylight-saving jump give the instant of the jump.
    """
    wanted = datetime.combine(day, wall)
    first = wanted.replace(tzinfo=zone)
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wanted:
        return first
    # In a gap: search whole seconds between the two readings of the wall time.
    low = int(wanted.replace(tzinfo=zone, fold=1).timestamp())
    high = int(first.timestamp())
    low, high = min(low, high), max(low, high)
    while low < high:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).replace(tzinfo=None) >= wanted:
            high = middle
        else:
            low = middle + 1
    return datetime.fromtimestamp(low, zone)


def _next_midnight(moment: datetime, zone: ZoneInfo) -> datetime:
    return local_instant(moment.astimezone(zone).date() + timedelta(days=1), time(0), zone)


@dataclass(frozen=True, slots=True)
class _TimedRule:
    reason: ReasonCode
    earliest_from: Callable[[datetime], datetime]


def _timeless_reasons(intent: ContactIntent, pack: RulePack) -> list[ReasonCode]:
    reasons = [
        _FLAG_REASONS[flag]
        for flag in ContactFlag
        if flag in intent.flags
        and flag in pack.stop_flags.flags
        and not (flag is ContactFlag.HARDSHIP_COOLING_OFF and intent.cooling_off_until)
    ]
    if intent.target is Target.THIRD_PARTY:
        rule = pack.third_party
        if not rule.permitted:
            reasons.append(ReasonCode.THIRD_PARTY_NOT_PERMITTED)
        if rule.requires_debtor_unreachable and not intent.debtor_unreachable:
            reasons.append(ReasonCode.THIRD_PARTY_DEBTOR_REACHABLE)
        if rule.requires_authorisation and not intent.third_party_authorised:
            reasons.append(ReasonCode.THIRD_PARTY_NOT_AUTHORISED)
        if intent.third_party_refused:
            reasons.append(ReasonCode.THIRD_PARTY_REFUSED)
        script = (intent.script_text or "").strip()
        if not script:
            reasons.append(ReasonCode.THIRD_PARTY_SCRIPT_MISSING)
        elif script_disclosures(script, rule.forbidden_terms):
            reasons.append(ReasonCode.THIRD_PARTY_SCRIPT_DISCLOSES_DEBT)
    return reasons


_LATIN_TERM = re.compile(r"^[a-z0-9' -]+$")


def _term_pattern(term: str) -> re.Pattern[str]:
    if _LATIN_TERM.match(term):
        # whole words, with common endings: "owe" finds "owes"/"owed", not "Owen" or "power"
        return re.compile(rf"\b{re.escape(term)}(?:s|es|d|ed|ing)?\b")
    return re.compile(re.escape(term))  # Chinese has no word boundaries: substring


def script_disclosures(script: str, forbidden_terms: Iterable[str]) -> list[str]:
    """Forbidden terms found in a third-party script (case-insensitive)."""
    folded = script.casefold()
    return [term for term in forbidden_terms if term and _term_pattern(term).search(folded)]


def _timed_rules(
    intent: ContactIntent, history: Iterable[ContactRecord], pack: RulePack
) -> list[_TimedRule]:
    zone = intent.debtor_tz
    channel = intent.channel
    rules: list[_TimedRule] = []

    quiet = pack.quiet_hours
    if quiet is not None and channel in quiet.channels:
        start, end = quiet.allowed_from, quiet.allowed_until

        def quiet_hours(moment: datetime) -> datetime:
            local = moment.astimezone(zone)
            wall = local.time()
            if start <= wall < end:
                return moment
            day = local.date() if wall < start else local.date() + timedelta(days=1)
            return local_instant(day, start, zone)

        rules.append(_TimedRule(ReasonCode.QUIET_HOURS, quiet_hours))

    holidays = pack.holidays
    if holidays is not None and holidays.enabled and channel in holidays.channels:
        holiday_dates = holidays.dates

        def public_holiday(moment: datetime) -> datetime:
            if moment.astimezone(zone).date() in holiday_dates:
                return _next_midnight(moment, zone)
            return moment

        rules.append(_TimedRule(ReasonCode.PUBLIC_HOLIDAY, public_holiday))

    until = intent.cooling_off_until
    if until is not None and ContactFlag.HARDSHIP_COOLING_OFF in pack.stop_flags.flags:
        cooling_end = until

        def cooling_off(moment: datetime) -> datetime:
            return moment if moment >= cooling_end else cooling_end.astimezone(zone)

        rules.append(_TimedRule(ReasonCode.HARDSHIP_COOLING_OFF, cooling_off))

    records = list(history)
    counted_rules = (pack.daily_connected_calls, pack.seven_day_calls, pack.post_conversation)
    if any(rule is not None and channel in rule.channels for rule in counted_rules):
        dated = [(record, record.at.astimezone(zone).date()) for record in records]
    else:
        dated = []
    daily = pack.daily_connected_calls
    if daily is not None and channel in daily.channels:
        connected_by_day = Counter(
            day
            for record, day in dated
            if record.channel in daily.channels
            and record.target is Target.DEBTOR
            and (record.connected or record.conversation)
        )
        daily_limit = daily.limit

        def daily_connected_calls(moment: datetime) -> datetime:
            if connected_by_day[moment.astimezone(zone).date()] >= daily_limit:
                return _next_midnight(moment, zone)
            return moment

        rules.append(_TimedRule(ReasonCode.DAILY_CONNECTED_CALL_LIMIT, daily_connected_calls))

    def same_debt(record: ContactRecord) -> bool:
        return record.debt_id is None or intent.debt_id is None or record.debt_id == intent.debt_id

    seven = pack.seven_day_calls
    if seven is not None and channel in seven.channels:
        placed_by_day = Counter(
            day.toordinal()
            for record, day in dated
            if record.channel in seven.channels
            and record.target is Target.DEBTOR
            and same_debt(record)
        )
        seven_limit, span = seven.limit, seven.days

        def seven_day_calls(moment: datetime) -> datetime:
            if not placed_by_day:
                return moment
            today = moment.astimezone(zone).date().toordinal()
            counts = [placed_by_day[day] for day in range(today + 1 - span, today + span)]
            if sum(counts) < seven_limit:
                return moment
            # every window of `span` consecutive days that contains today
            window = sum(counts[:span])
            if window >= seven_limit:
                return _next_midnight(moment, zone)
            for k in range(span, len(counts)):
                window += counts[k] - counts[k - span]
                if window >= seven_limit:
                    return _next_midnight(moment, zone)
            return moment

        rules.append(_TimedRule(ReasonCode.SEVEN_DAY_CALL_LIMIT, seven_day_calls))

    post = pack.post_conversation
    if post is not None and channel in post.channels:
        conversation_days = sorted(
            {
                day
                for record, day in dated
                if record.conversation
                and record.channel in post.conversation_channels
                and record.target is Target.DEBTOR
                and same_debt(record)
            }
        )
        wait = timedelta(days=post.days)

        def post_conversation(moment: datetime) -> datetime:
            today = moment.astimezone(zone).date()
            blocking = [day for day in conversation_days if day <= today < day + wait]
            if not blocking:
                return moment
            return local_instant(max(blocking) + wait, time(0), zone)

        rules.append(_TimedRule(ReasonCode.POST_CONVERSATION_WAIT, post_conversation))
    return rules


def _earliest_allowed(
    start: datetime, rules: list[_TimedRule], horizon: timedelta
) -> datetime | None:
    moment = start
    limit = start + horizon
    while moment <= limit:
        latest = moment
        for rule in rules:
            candidate = rule.earliest_from(moment)
            if candidate > latest:
                latest = candidate
        if latest is moment:
            return moment
        moment = latest
    return None


def evaluate(
    intent: ContactIntent,
    history: Iterable[ContactRecord],
    pack: RulePack,
    *,
    horizon: timedelta = SEARCH_HORIZON,
) -> Decision:
    """Decide whether ``intent`` may happen, given the shared contact history of all parties."""
    timeless = _timeless_reasons(intent, pack)
    rules = _timed_rules(intent, history, pack)
    failing = [rule.reason for rule in rules if rule.earliest_from(intent.at) > intent.at]
    reasons = tuple(timeless + failing)
    zone = intent.debtor_tz
    if not reasons:
        return Decision(True, (), pack.version, intent.at.astimezone(zone), intent.at)
    next_allowed = None if timeless else _earliest_allowed(intent.at, rules, horizon)
    return Decision(
        allowed=False,
        reasons=reasons,
        pack_version=pack.version,
        next_allowed_at=None if next_allowed is None else next_allowed.astimezone(zone),
        at=intent.at,
    )
