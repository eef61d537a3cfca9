"""The label sets of conversation intelligence (what the models and rules output)."""

from __future__ import annotations

from enum import StrEnum


class Speaker(StrEnum):
    DEBTOR = "debtor"
    COLLECTOR = "collector"


class Emotion(StrEnum):
    ANGRY = "angry"
    SAD = "sad"
    ANXIOUS = "anxious"
    NEUTRAL = "neutral"
    POSITIVE = "positive"


class Intent(StrEnum):
    PROMISE_TO_PAY = "promise_to_pay"
    CANNOT_PAY = "cannot_pay"
    ASK_PLAN = "ask_plan"
    DISPUTE = "dispute"
    WRONG_NUMBER = "wrong_number"
    THIRD_PARTY = "third_party"
    REFUSE = "refuse"
    ASK_INFO = "ask_info"
    BUSY = "busy"
    AFFIRM = "affirm"
    OTHER = "other"


class OverdueCause(StrEnum):
    UNEMPLOYMENT = "unemployment"
    ILLNESS = "illness"
    BUSINESS_DOWNTURN = "business_downturn"
    OTHER = "other"


class Violation(StrEnum):
    THREAT = "threat"
    INSULT = "insult"
    HARASSMENT = "harassment"
    IMPERSONATION = "impersonation"
    FALSE_LEGAL = "false_legal"
    THIRD_PARTY_DISCLOSURE = "third_party_disclosure"
    BORROW_ELSEWHERE = "borrow_elsewhere"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


SEVERITY_PENALTY: dict[Severity, int] = {
    Severity.LOW: 5,
    Severity.MEDIUM: 15,
    Severity.HIGH: 30,
    Severity.CRITICAL: 50,
}


class Segment(StrEnum):
    POTENTIAL = "potential"
    HARDSHIP = "hardship"
    RISK = "risk"
