"""Known rows for the dashboard tests: three cases with balances, payments, promises, gate
decisions, assignments, contacts and bucket moves whose figures are worked out by hand in
the tests."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from compliance.world import World, make_world
from debtflow.models import (
    BucketTransition,
    ContactAttempt,
    ContactDecision,
    DenyOverride,
    DispatchAssignment,
    Payment,
    PromiseToPay,
    Role,
    User,
)
from debtflow.models.enums import ContactDirection, ContactParty, PromiseStatus

SH = ZoneInfo("Asia/Shanghai")
SINCE = datetime(2026, 11, 1, tzinfo=SH)
UNTIL = datetime(2026, 12, 1, tzinfo=SH)
PLACED = datetime(2026, 10, 15, 9, 0, tzinfo=SH)


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SH)


def viewer(role: Role) -> User:
    return User(username=f"r-{role.value}", role=role, display_name="x", active=True)


class Book:
    """Three cases with known balances, payments, promises, gate decisions, assignments,
    contacts and bucket moves; the expected figures are worked out in the tests."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.a, self.b, self.c = (make_world(session, tag=t) for t in ("RA", "RB", "RC"))
        self.k1, self.k2 = self.a.agent, self.a.other_agent
        self.k1.name, self.k2.name = "张三", "李四"
        for world, collector, segment, owed, bucket in (
            (self.a, self.k1, "potential", 100_000, "M2"),
            (self.b, self.k2, "hardship", 200_000, "M1"),
            (self.c, None, None, 50_000, "M1"),
        ):
            world.case.assigned_collector_id = collector.id if collector else None
            world.case.segment = segment
            world.case.opened_at = PLACED
            world.account.principal_fen = owed
            world.account.bucket = bucket
            world.account.imported_at = PLACED
        session.flush()
        self._payments()
        self._promises()
        self._gate_and_contacts()
        self._assignments()
        self._moves()
        session.flush()

    def _payments(self) -> None:
        for world, amount, when, ref in (
            (self.a, 30_000, at(5, 10), "P1"),
            (self.a, 20_000, at(20, 10, month=10), "P2"),  # before the period
            (self.b, 10_000, at(30, 23, 30), "P3"),  # last evening of the period
        ):
            self.session.add(
                Payment(
                    account_id=world.account.id,
                    case_id=world.case.id,
                    amount_fen=amount,
                    paid_at=when,
                    reference=f"REPORT-{ref}",
                    to_principal_fen=amount,
                )
            )

    def _promises(self) -> None:
        for world, collector, status, resolved in (
            (self.a, self.k1, PromiseStatus.KEPT, date(2026, 11, 10)),
            (self.a, self.k1, PromiseStatus.BROKEN, date(2026, 11, 20)),
            (self.b, None, PromiseStatus.KEPT, date(2026, 11, 5)),  # the case's collector: k2
            (self.b, self.k2, PromiseStatus.KEPT, date(2026, 10, 30)),  # before the period
            (self.a, self.k1, PromiseStatus.PENDING, None),
        ):
            self.session.add(
                PromiseToPay(
                    case_id=world.case.id,
                    collector_id=collector.id if collector else None,
                    amount_fen=5_000,
                    made_on=date(2026, 10, 25),
                    due=date(2026, 11, 1),
                    status=status,
                    resolved_on=resolved,
                )
            )

    def _decision(self, world: World, collector_id: int, when: datetime, allowed: bool) -> int:
        decision = ContactDecision(
            debtor_id=world.debtor.id,
            case_id=world.case.id,
            collector_id=collector_id,
            collecting_party="in-house",
            requested_by="tester",
            channel="call",
            target="debtor",
            purpose="collection",
            planned_at=when,
            allowed=allowed,
            reasons=[] if allowed else ["quiet_hours"],
            pack_version="cn-2025.1",
            expires_at=when + timedelta(minutes=30),
            decided_at=when,
        )
        self.session.add(decision)
        self.session.flush()
        return decision.id

    def _attempt(self, world: World, decision_id: int, collector_id: int, when: datetime) -> None:
        self.session.add(
            ContactAttempt(
                case_id=world.case.id,
                debtor_id=world.debtor.id,
                collector_id=collector_id,
                channel="call",
                direction=ContactDirection.OUTBOUND,
                party=ContactParty.DEBTOR,
                attempted_at=when,
                decision_id=decision_id,
                collecting_party="in-house",
            )
        )
        self.session.flush()

    def _gate_and_contacts(self) -> None:
        a, b, k1, k2 = self.a, self.b, self.k1.id, self.k2.id
        first = self._decision(a, k1, at(2, 9, 10), True)
        second = self._decision(a, k1, at(2, 11, 55), True)
        self._decision(a, k1, at(6, 9), True)
        overridden = self._decision(a, k1, at(7, 22), False)
        self.session.add(
            DenyOverride(
                decision_id=overridden,
                supervisor="boss",
                overridden_reasons=["quiet_hours"],
                pack_version="cn-2025.1",
                written_reason="debtor asked for a late call",
                fingerprint="0" * 64,
                granted_at=at(7, 22, 1),
            )
        )
        self.session.flush()
        self._decision(b, k2, at(3, 23), False)
        on_b = self._decision(b, k2, at(3, 10, 50), True)
        self._decision(b, k2, at(28, 10, month=10), True)  # before the period
        self._attempt(a, first, k1, at(2, 9, 15))
        self._attempt(a, second, k1, at(2, 12))
        self._attempt(a, overridden, k1, at(7, 22, 5))
        self._attempt(b, on_b, k2, at(3, 11))

    def _assignments(self) -> None:
        for world, collector, when, fits in (
            (self.a, self.k2, at(1, 8), False),  # replaced before any contact
            (self.a, self.k1, at(2, 9), True),  # first contact 09:15 -> 15 min
            (self.b, self.k2, at(3, 10), True),  # first contact 11:00 -> 60 min
        ):
            self.session.add(
                DispatchAssignment(
                    case_id=world.case.id,
                    collector_id=collector.id,
                    assigned_at=when,
                    dispatch_day=when.date(),
                    how="nightly",
                    balance_fen=100_000,
                    value_fen=1_000,
                    probability=0.3,
                    prior_probability=0.3,
                    effort_hours=1.0,
                    fits=fits,
                )
            )

    def _moves(self) -> None:
        for world, as_of, start, end in (
            (self.a, date(2026, 11, 10), "M1", "M2"),
            (self.b, date(2026, 10, 5), "M0", "M1"),  # before November: b stayed M1 in it
            (self.c, date(2026, 11, 15), "M2", "M1"),
        ):
            self.session.add(
                BucketTransition(
                    case_id=world.case.id,
                    account_id=world.account.id,
                    as_of=as_of,
                    from_bucket=start,
                    to_bucket=end,
                    days_past_due=40,
                )
            )
