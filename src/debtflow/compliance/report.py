"""The compliance report: what the gate decided per collector, per collecting party and
per rule over a period, with overrides and contacts actually logged."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from debtflow.compliance import repository
from debtflow.core.errors import InvalidInput


@dataclass(frozen=True)
class GateTally:
    """Counts for one collector or party: decisions asked, allowed, denied, denied then
    overridden by a supervisor, and contacts logged against a decision."""

    key: str
    decisions: int
    allowed: int
    denied: int
    overridden: int
    contacts_logged: int

    @property
    def deny_rate(self) -> float:
        return self.denied / self.decisions if self.decisions else 0.0


@dataclass(frozen=True)
class RuleTally:
    reason: str
    denials: int
    overridden: int


@dataclass(frozen=True)
class ComplianceReport:
    since: datetime
    until: datetime
    by_collector: list[GateTally]
    by_party: list[GateTally]
    by_rule: list[RuleTally]


def _tallies(counts: dict[str, Counter[str]]) -> list[GateTally]:
    return [
        GateTally(
            key=key,
            decisions=c["decisions"],
            allowed=c["allowed"],
            denied=c["denied"],
            overridden=c["overridden"],
            contacts_logged=c["used"],
        )
        for key, c in sorted(counts.items())
    ]


def compliance_report(session: Session, *, since: datetime, until: datetime) -> ComplianceReport:
    """Decisions made in [since, until). A collector is named by who asked (requested_by);
    a party by who the collector works for (in-house, an agency, ai-voice …)."""
    for moment in (since, until):
        if moment.tzinfo is None:
            raise InvalidInput("report period bounds must carry a time zone")
    if until <= since:
        raise InvalidInput("the report period must end after it starts")
    by_collector: dict[str, Counter[str]] = defaultdict(Counter)
    by_party: dict[str, Counter[str]] = defaultdict(Counter)
    denials: Counter[str] = Counter()
    overridden_denials: Counter[str] = Counter()
    for decision, overridden, used in repository.decisions_between(
        session, since=since, until=until
    ):
        for counts in (by_collector[decision.requested_by], by_party[decision.collecting_party]):
            counts["decisions"] += 1
            counts["allowed" if decision.allowed else "denied"] += 1
            counts["overridden"] += int(overridden)
            counts["used"] += int(used)
        for reason in decision.reasons:
            denials[reason] += 1
            overridden_denials[reason] += int(overridden)
    by_rule = [
        RuleTally(reason=reason, denials=count, overridden=overridden_denials[reason])
        for reason, count in sorted(denials.items(), key=lambda item: (-item[1], item[0]))
    ]
    return ComplianceReport(
        since=since,
        until=until,
        by_collector=_tallies(by_collector),
        by_party=_tallies(by_party),
        by_rule=by_rule,
    )
