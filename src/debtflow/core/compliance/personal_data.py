"""PIPL protections for ID and phone numbers: field-level encryption, blind index, masking.

Encrypted values are text tokens ``v1.<key id>.<base64url(nonce || ciphertext+tag)>`` made with
AES-256-GCM; the field name (e.g. ``debtor.phone``) is bound as associated data so a token
cannot be moved to another column. Several keys may be loaded at once: new tokens use the
active key, old tokens still decrypt with theirs, and :meth:`FieldCipher.rotate` re-encrypts.

The blind index is HMAC-SHA256 over the normalised value, keyed separately, so an encrypted
phone can be found by equality without decrypting anything.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

TOKEN_VERSION = "v1"
_NONCE_BYTES = 12
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class PersonalDataError(ValueError):
    """A key, token or personal-data value is unusable."""


def _check_key_id(key_id: str) -> None:
    if not _KEY_ID.match(key_id):
        raise PersonalDataError(f"key id {key_id!r} must be 1-32 letters, digits, '-' or '_'")


class FieldCipher:
    """AES-GCM field encryption with key ids so keys can rotate."""

    def __init__(self, keys: Mapping[str, bytes], *, active_key_id: str) -> None:
        if active_key_id not in keys:
            raise PersonalDataError(f"active key {active_key_id!r} is not among the keys loaded")
        self._keys: dict[str, AESGCM] = {}
        for key_id, key in keys.items():
            _check_key_id(key_id)
            if len(key) != 32:
                raise PersonalDataError(f"key {key_id!r} must be 32 bytes (AES-256)")
            self._keys[key_id] = AESGCM(key)
        self.active_key_id = active_key_id

    def encrypt(self, plaintext: str, *, field: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._keys[self.active_key_id].encrypt(nonce, plaintext.encode(), field.encode())
        body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{TOKEN_VERSION}.{self.active_key_id}.{body}"

    def key_id_of(self, token: str) -> str:
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != TOKEN_VERSION:
            raise PersonalDataError("not an encrypted field token")
        return parts[1]

    def decrypt(self, token: str, *, field: str) -> str:
        key_id = self.key_id_of(token)
        if key_id not in self._keys:
            raise PersonalDataError(f"token was sealed with key {key_id!r}, which is not loaded")
        body = token.split(".")[2]
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            opened = self._keys[key_id].decrypt(
                raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], field.encode()
            )
        except (InvalidTag, ValueError) as exc:
            raise PersonalDataError(
                "token does not decrypt: tampered, truncated, or from another field"
            ) from exc
        return opened.decode()

    def needs_rotation(self, token: str) -> bool:
        return self.key_id_of(token) != self.active_key_id

    def rotate(self, token: str, *, field: str) -> str:
        """Re-encrypt with the active key (returns the token unchanged if already current)."""
        if not self.needs_rotation(token):
            return token
        return self.encrypt(self.decrypt(token, field=field), field=field)


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


class BlindIndex:
    """Deterministic keyed index (HMAC-SHA256) for equality lookups on encrypted fields."""

    def __init__(self, keys: Mapping[str, bytes], *, active_key_id: str) -> None:
        if active_key_id not in keys:
            raise PersonalDataError(f"active key {active_key_id!r} is not among the keys loaded")
        for key_id, key in keys.items():
            _check_key_id(key_id)
            if len(key) < 32:
                raise PersonalDataError(f"blind-index key {key_id!r} must be at least 32 bytes")
        self._keys = dict(keys)
        self.active_key_id = active_key_id

    def _digest(self, key_id: str, normalised: str, field: str) -> str:
        mac = hmac.new(self._keys[key_id], f"{field}\x00{normalised}".encode(), hashlib.sha256)
        return f"{key_id}.{mac.hexdigest()}"

    def index(self, normalised: str, *, field: str) -> str:
        """Index value to store next to the encrypted field (active key)."""
        return self._digest(self.active_key_id, normalised, field)

    def lookup_values(self, normalised: str, *, field: str) -> list[str]:
        """Every index value the field may hold mid-rotation: query with ``IN (...)``."""
        return [self._digest(key_id, normalised, field) for key_id in sorted(self._keys)]


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
