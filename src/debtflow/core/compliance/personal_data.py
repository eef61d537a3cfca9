"""PIPL protections for ID and phone numbers: normalisation and masking by role.

Encryption at rest and the blind index are in ``debtflow.core.compliance.crypto``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class PersonalDataError(ValueError):
    """A personal-data value is unusable (not a phone number, not an ID number)."""


def normalise_phone(phone: str) -> str:
    """Digits only, without a +86 / 0086 prefix: '+86 138-1234-1234' -> '13812341234'."""
    digits = re.sub(r"\D", "", phone)
    if phone.strip().startswith("+86") or (digits.startswith("0086") and len(digits) > 13):
        digits = digits[4:] if digits.startswith("0086") else digits[2:]
    if not digits:
        raise PersonalDataError("a phone number needs digits")
    return digits


def normalise_id_number(id_number: str) -> str:
    """Resident ID: strip spaces, upper-case the check character 'x'."""
    value = re.sub(r"\s", "", id_number).upper()
    if not re.fullmatch(r"\d{15}|\d{17}[\dX]", value):
        raise PersonalDataError("a resident ID number has 18 characters (or 15 for old cards)")
    return value


class FieldKind(StrEnum):
    PHONE = "phone"
    ID_NUMBER = "id_number"


class ViewLevel(StrEnum):
    FULL = "full"
    MASKED = "masked"
    HIDDEN = "hidden"


class ViewerRole(StrEnum):
    COLLECTOR = "collector"
    SUPERVISOR = "supervisor"
    COMPLIANCE_OFFICER = "compliance_officer"
    QA_REVIEWER = "qa_reviewer"
    PARTNER = "partner"
    CREDITOR = "creditor"


#: Who sees what. Only the collector currently assigned to the case sees full values.
MASKING_POLICY: Mapping[ViewerRole, Mapping[FieldKind, ViewLevel]] = {
    ViewerRole.COLLECTOR: {
        FieldKind.PHONE: ViewLevel.MASKED,
        FieldKind.ID_NUMBER: ViewLevel.MASKED,
    },
    ViewerRole.SUPERVISOR: {
        FieldKind.PHONE: ViewLevel.MASKED,
        FieldKind.ID_NUMBER: ViewLevel.MASKED,
    },
    ViewerRole.COMPLIANCE_OFFICER: {
        FieldKind.PHONE: ViewLevel.MASKED,
        FieldKind.ID_NUMBER: ViewLevel.MASKED,
    },
    ViewerRole.QA_REVIEWER: {
        FieldKind.PHONE: ViewLevel.MASKED,
        FieldKind.ID_NUMBER: ViewLevel.HIDDEN,
    },
    ViewerRole.PARTNER: {FieldKind.PHONE: ViewLevel.MASKED, FieldKind.ID_NUMBER: ViewLevel.HIDDEN},
    ViewerRole.CREDITOR: {FieldKind.PHONE: ViewLevel.HIDDEN, FieldKind.ID_NUMBER: ViewLevel.HIDDEN},
}


def view_level(role: ViewerRole, kind: FieldKind, *, assigned_collector: bool) -> ViewLevel:
    """Full only for the collector assigned to the case, and only while assigned."""
    if role is ViewerRole.COLLECTOR and assigned_collector:
        return ViewLevel.FULL
    return MASKING_POLICY[role][kind]


def mask_phone(phone: str) -> str:
    """'13812341234' -> '138****1234'; shorter numbers keep only their last 4 digits."""
    digits = normalise_phone(phone)
    if len(digits) >= 11:
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    if len(digits) > 4:
        return "*" * (len(digits) - 4) + digits[-4:]
    return "*" * len(digits)


def mask_id_number(id_number: str) -> str:
    """'110101199001011234' -> '1101**********1234' (first 4 and last 4 kept)."""
    value = normalise_id_number(id_number)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


@dataclass(frozen=True, slots=True)
class ShownField:
    """What a viewer gets; ``must_log_view`` is True when full personal data is shown and
    the caller must log who, what, when and why."""

    text: str | None
    level: ViewLevel
    must_log_view: bool


def show_field(
    value: str, kind: FieldKind, *, role: ViewerRole, assigned_collector: bool
) -> ShownField:
    level = view_level(role, kind, assigned_collector=assigned_collector)
    if level is ViewLevel.HIDDEN:
        return ShownField(None, level, False)
    if level is ViewLevel.MASKED:
        masked = mask_phone(value) if kind is FieldKind.PHONE else mask_id_number(value)
        return ShownField(masked, level, False)
    full = normalise_phone(value) if kind is FieldKind.PHONE else normalise_id_number(value)
    return ShownField(full, level, True)
