"""A supervisor's written override of a gate deny, as a record to store and report."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from debtflow.core.compliance.contact import require_aware
from debtflow.core.compliance.gate import Decision
from debtflow.core.compliance.reasons import ReasonCode
from debtflow.core.compliance.rule_pack import RulePack

#: A written reason must say something: at least this many non-space characters.
MIN_REASON_CHARACTERS = 15

_FLAG_CODES = {
    "do_not_contact": ReasonCode.DO_NOT_CONTACT,
    "dispute": ReasonCode.DISPUTE,
    "hardship_cooling_off": ReasonCode.HARDSHIP_COOLING_OFF,
    "legal_hold": ReasonCode.LEGAL_HOLD,
    "attorney": ReasonCode.ATTORNEY_REPRESENTED,
}


class OverrideRefused(ValueError):
    """The override cannot be granted; the message says why."""


@dataclass(frozen=True, slots=True)
class OverrideRecord:
    supervisor_id: str
    collector_id: str
    overridden_reasons: tuple[ReasonCode, ...]
    pack_version: str
    contact_at: datetime
    granted_at: datetime
    written_reason: str
    fingerprint: str


def non_overridable_reasons(pack: RulePack) -> frozenset[ReasonCode]:
    return frozenset(_FLAG_CODES[flag.value] for flag in pack.stop_flags.non_overridable)


def override_deny(
    decision: Decision,
    pack: RulePack,
    *,
    supervisor_id: str,
    collector_id: str,
    written_reason: str,
    granted_at: datetime,
) -> OverrideRecord:
    """Validate a supervisor's override of ``decision`` and return the record to keep.

    Refused when the decision was an allow, when the supervisor is the collector making the
    contact, when the reason is too short, or when a reason is one the pack marks as
    non-overridable (e.g. do_not_contact, legal_hold, attorney).
    """
    require_aware(granted_at, "override time")
    if decision.allowed:
        raise OverrideRefused("only a deny can be overridden; this contact is already allowed")
    if decision.pack_version != pack.version:
        raise OverrideRefused(
            f"decision was made under pack {decision.pack_version}, not {pack.version}"
        )
    if not supervisor_id.strip():
        raise OverrideRefused("a supervisor id is required")
    if supervisor_id == collector_id:
        raise OverrideRefused("a collector cannot override a deny of their own contact")
    reason = " ".join(written_reason.split())
    if len(reason.replace(" ", "")) < MIN_REASON_CHARACTERS:
        raise OverrideRefused(
            f"the written reason must have at least {MIN_REASON_CHARACTERS} characters "
            "saying why the contact is justified"
        )
    if len(set(reason.replace(" ", ""))) < 4:
        raise OverrideRefused("the written reason is not a sentence")
    locked = sorted(
        code.value for code in decision.reasons if code in non_overridable_reasons(pack)
    )
    if locked:
        raise OverrideRefused(f"pack {pack.version} does not allow overriding: {', '.join(locked)}")
    body = {
        "supervisor_id": supervisor_id,
        "collector_id": collector_id,
        "reasons": [code.value for code in decision.reasons],
        "pack_version": decision.pack_version,
        "contact_at": decision.at.isoformat(),
        "granted_at": granted_at.isoformat(),
        "written_reason": reason,
    }
    digest = hashlib.sha256(
        json.dumps(body, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()
    return OverrideRecord(
        supervisor_id=supervisor_id,
        collector_id=collector_id,
        overridden_reasons=decision.reasons,
        pack_version=decision.pack_version,
        contact_at=decision.at,
        granted_at=granted_at,
        written_reason=reason,
        fingerprint=digest,
    )
