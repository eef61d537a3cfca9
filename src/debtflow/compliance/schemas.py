"""Compliance shapes of the JSON API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from debtflow.web.inputs import Moment, Reason


class OverrideCreate(BaseModel):
    written_reason: Reason


class OverrideRead(BaseModel):
    id: int
    decision_id: int
    supervisor: str
    overridden_reasons: list[str]
    pack_version: str
    written_reason: str
    fingerprint: str
    granted_at: datetime


class RestrictionCreate(BaseModel):
    flag: Literal["do_not_contact", "dispute", "hardship_cooling_off", "legal_hold", "attorney"]
    reason: Reason
    case_id: int | None = None
    starts_at: Moment | None = None
    ends_at: Moment | None = None


class RestrictionRead(BaseModel):
    id: int
    debtor_id: int
    case_id: int | None
    flag: str
    reason: str
    starts_at: datetime
    ends_at: datetime | None
    set_by: str
    lifted_at: datetime | None


class PersonalDataRead(BaseModel):
    text: str | None
    level: str
    view_id: int | None


class GateTallyRead(BaseModel):
    key: str
    decisions: int
    allowed: int
    denied: int
    overridden: int
    contacts_logged: int
    deny_rate: float  # denied / decisions (0 without decisions), as `compliance report --json`


class RuleTallyRead(BaseModel):
    reason: str
    denials: int
    overridden: int


class ComplianceReportRead(BaseModel):
    since: datetime
    until: datetime
    by_collector: list[GateTallyRead]
    by_party: list[GateTallyRead]
    by_rule: list[RuleTallyRead]
