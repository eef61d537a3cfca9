"""What the gate is asked about: an intended contact and the shared contact history.

Plain frozen dataclasses. Every datetime must be timezone-aware; rules are evaluated in the
debtor's local time zone, which travels with the intent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo


class Channel(StrEnum):
    CALL = "call"
    SMS = "sms"
    EMAIL = "email"
    VISIT = "visit"
    AI_VOICE = "ai_voice"


class Target(StrEnum):
    DEBTOR = "debtor"
    THIRD_PARTY = "third_party"


class ContactFlag(StrEnum):
    """Standing facts about the debtor or debt that stop collection contact."""

    DO_NOT_CONTACT = "do_not_contact"
    DISPUTE = "dispute"
    HARDSHIP_COOLING_OFF = "hardship_cooling_off"
    LEGAL_HOLD = "legal_hold"
    ATTORNEY = "attorney"


def require_aware(moment: datetime, what: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(
            f"{what} must be a timezone-aware datetime, got naive {moment.isoformat()}"
        )


@dataclass(frozen=True, slots=True)
class ContactRecord:
    """One contact already made (or attempted) by ANY party: in-house agent, AI voice, field
    agent, part-time collector, agency or law firm. The gate never filters by party.

    ``debt_id`` None means "unknown debt": per-debt rules count it (the conservative choice).
    A record with ``conversation`` True counts as connected even if ``connected`` is False.
    """

    at: datetime
    channel: Channel
    connected: bool = False
    conversation: bool = False
    party: str = ""
    debt_id: str | None = None
    target: Target = Target.DEBTOR

    def __post_init__(self) -> None:
        require_aware(self.at, "contact record time")


@dataclass(frozen=True, slots=True)
class ContactIntent:
    """A contact somebody wants to make, asked of the gate before it happens."""

    at: datetime
    debtor_tz: ZoneInfo
    channel: Channel
    target: Target = Target.DEBTOR
    collector_id: str = ""
    party: str = ""
    debt_id: str | None = None
    purpose: str = "collection"
    third_party_authorised: bool = False
    debtor_unreachable: bool = False
    third_party_refused: bool = False
    flags: frozenset[ContactFlag] = field(default_factory=frozenset)
    cooling_off_until: datetime | None = None
    script_text: str | None = None

    def __post_init__(self) -> None:
        require_aware(self.at, "planned contact time")
        if self.cooling_off_until is not None:
            require_aware(self.cooling_off_until, "cooling_off_until")
