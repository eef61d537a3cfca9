"""The case lifecycle as an explicit state machine.

::

    new ──► active ──► promised ──► paying ──► settled
     │        ▲  │        │  ▲         │
     │        │  │        ▼  │         ▼
     │        └──┴──── (broken promise / missed payment)
     ├──► on_hold (reason) ──► back to the state it came from (new/active/promised/paying)
     ├──► legal ──► paying / settled / closed / written_off
     └──► closed / written_off

``settled``, ``closed`` and ``written_off`` are final. Every refusal says which move was
asked for and why it is not allowed.
"""

from __future__ import annotations

from enum import StrEnum

from debtflow.core.errors import Conflict


class CaseStatus(StrEnum):
    NEW = "new"
    ACTIVE = "active"
    PROMISED = "promised"
    PAYING = "paying"
    SETTLED = "settled"
    CLOSED = "closed"
    LEGAL = "legal"
    ON_HOLD = "on_hold"
    WRITTEN_OFF = "written_off"


FINAL_STATUSES = frozenset({CaseStatus.SETTLED, CaseStatus.CLOSED, CaseStatus.WRITTEN_OFF})
OPEN_STATUSES = frozenset(set(CaseStatus) - FINAL_STATUSES)

_ALLOWED: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.NEW: frozenset(
        {
            CaseStatus.ACTIVE,
            CaseStatus.PROMISED,
            CaseStatus.PAYING,
            CaseStatus.SETTLED,
            CaseStatus.LEGAL,
            CaseStatus.ON_HOLD,
            CaseStatus.CLOSED,
            CaseStatus.WRITTEN_OFF,
        }
    ),
    CaseStatus.ACTIVE: frozenset(
        {
            CaseStatus.PROMISED,
            CaseStatus.PAYING,
            CaseStatus.SETTLED,
            CaseStatus.LEGAL,
            CaseStatus.ON_HOLD,
            CaseStatus.CLOSED,
            CaseStatus.WRITTEN_OFF,
        }
    ),
    CaseStatus.PROMISED: frozenset(
        {
            CaseStatus.ACTIVE,
            CaseStatus.PAYING,
            CaseStatus.SETTLED,
            CaseStatus.LEGAL,
            CaseStatus.ON_HOLD,
            CaseStatus.CLOSED,
        }
    ),
    CaseStatus.PAYING: frozenset(
        {
            CaseStatus.ACTIVE,
            CaseStatus.PROMISED,
            CaseStatus.SETTLED,
            CaseStatus.LEGAL,
            CaseStatus.ON_HOLD,
            CaseStatus.CLOSED,
        }
    ),
    CaseStatus.LEGAL: frozenset(
        {
            CaseStatus.PAYING,
            CaseStatus.SETTLED,
            CaseStatus.ON_HOLD,
            CaseStatus.CLOSED,
            CaseStatus.WRITTEN_OFF,
        }
    ),
    CaseStatus.ON_HOLD: frozenset(
        {
            CaseStatus.NEW,
            CaseStatus.ACTIVE,
            CaseStatus.PROMISED,
            CaseStatus.PAYING,
            CaseStatus.LEGAL,
            CaseStatus.CLOSED,
            CaseStatus.WRITTEN_OFF,
        }
    ),
    CaseStatus.SETTLED: frozenset(),
    CaseStatus.CLOSED: frozenset(),
    CaseStatus.WRITTEN_OFF: frozenset(),
}

_WHY_NOT: dict[CaseStatus, str] = {
    CaseStatus.SETTLED: "a settled case is final; open a new case for new debt",
    CaseStatus.CLOSED: "a closed case is final",
    CaseStatus.WRITTEN_OFF: "a written-off case is final",
    CaseStatus.NEW: "a case only starts as new",
    CaseStatus.LEGAL: "a case in legal proceedings only moves to paying, settled, on hold, "
    "closed or written off",
    CaseStatus.PROMISED: "a promised case cannot be written off while the promise stands",
    CaseStatus.PAYING: "a paying case cannot be written off while payments come in",
    CaseStatus.ON_HOLD: "leave the hold to the state the case was in",
    CaseStatus.ACTIVE: "an active case cannot go back to new",
}


class IllegalTransition(Conflict):
    code = "illegal_transition"

    def __init__(self, current: CaseStatus, requested: CaseStatus, why: str) -> None:
        super().__init__(f"cannot move case from {current.value} to {requested.value}: {why}")
        self.current = current
        self.requested = requested


def allowed_next(current: CaseStatus) -> frozenset[CaseStatus]:
    return _ALLOWED[current]


def check_transition(
    current: CaseStatus,
    requested: CaseStatus,
    *,
    hold_reason: str | None = None,
    held_from: CaseStatus | None = None,
) -> None:
    """Raise :class:`IllegalTransition` unless ``current → requested`` is allowed.

    Putting a case on hold needs a reason; leaving a hold goes back to where the case was
    (or to legal / closed / written off).
    """
    if requested == current:
        raise IllegalTransition(current, requested, f"the case is already {current.value}")
    if requested not in _ALLOWED[current]:
        raise IllegalTransition(current, requested, _WHY_NOT.get(current, "not a defined move"))
    if requested == CaseStatus.ON_HOLD and not (hold_reason and hold_reason.strip()):
        raise IllegalTransition(current, requested, "a hold needs a reason")
    if (
        current == CaseStatus.ON_HOLD
        and held_from is not None
        and requested in {CaseStatus.NEW, CaseStatus.ACTIVE, CaseStatus.PROMISED, CaseStatus.PAYING}
        and requested != held_from
    ):
        raise IllegalTransition(
            current,
            requested,
            f"the case was {held_from.value} when it was put on hold; it resumes there",
        )
