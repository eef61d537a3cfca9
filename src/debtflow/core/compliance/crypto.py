"""Field-level encryption of personal data at rest (PIPL): ID and phone numbers.

``PersonalDataCipher`` seals a value with AES-256-GCM under the *current* key of a key ring
and opens tokens made under any key of the ring, so keys can rotate without downtime:

* token ``v1.<key id>.<base64url(nonce || ciphertext || tag)>``, a random 96-bit nonce per
  value; the version and key id are the associated data, so a token whose key id was edited
  does not open (it is not silently tried under another key);
* :meth:`PersonalDataCipher.blind_index` is HMAC-SHA256 (its own key, never rotated with the
  encryption keys) over the normalised value, hex: equal numbers however written give equal
  indexes, so the database can look values up and keep them unique without decrypting.

Plain values in, plain values out; no database, no settings (``debtflow.config`` builds the
ring from settings).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import re
import unicodedata
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

TOKEN_VERSION = "v1"
NONCE_BYTES = 12
KEY_BYTES = 32
_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
_SEPARATORS = re.compile(r"[\s\-().]")
_CHINA_PREFIX = re.compile(r"(?:\+86|0086)(1\d{10})")


class PersonalDataKeyError(ValueError):
    """A key ring that cannot be used: bad key id, wrong key length, unknown current key."""


class PersonalDataTokenError(ValueError):
    """A stored token that does not open: not a token, unknown key id, or tampered."""


def normalise_for_index(plain: str) -> str:
    """What the blind index is computed over: Unicode NFKC, no spaces, hyphens, brackets or
    dots, upper case, and a mainland mobile number without its +86 / 0086 prefix. So
    '+86 138-1234-1234' and '13812341234' match, and so do '…123x' and '…123X'."""
    value = _SEPARATORS.sub("", unicodedata.normalize("NFKC", plain)).upper()
    prefixed = _CHINA_PREFIX.fullmatch(value)
    return prefixed.group(1) if prefixed else value


class PersonalDataCipher:
    """AES-256-GCM with a key ring (``{key id: 32-byte key}``) and an HMAC blind index."""

    def __init__(self, keys: Mapping[str, bytes], current_key_id: str, index_key: bytes) -> None:
        if not keys:
            raise PersonalDataKeyError("the personal-data key ring is empty")
        for key_id, key in keys.items():
            if not _KEY_ID.fullmatch(key_id):
                raise PersonalDataKeyError(
                    f"key id {key_id!r} must be 1-32 letters, digits, '-' or '_'"
                )
            if len(key) != KEY_BYTES:
                raise PersonalDataKeyError(f"key {key_id!r} must be 32 bytes (AES-256)")
        if current_key_id not in keys:
            raise PersonalDataKeyError(f"current key {current_key_id!r} is not in the key ring")
        if len(index_key) < KEY_BYTES:
            raise PersonalDataKeyError("the blind-index key must be at least 32 bytes")
        self._aead = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self._index_key = bytes(index_key)
        self.current_key_id = current_key_id

    @property
    def key_ids(self) -> frozenset[str]:
        return frozenset(self._aead)

    def encrypt(self, plain: str) -> str:
        key_id = self.current_key_id
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead[key_id].encrypt(nonce, plain.encode(), _associated(key_id))
        body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{TOKEN_VERSION}.{key_id}.{body}"

    def decrypt(self, token: str) -> str:
        key_id, body = _split(token)
        aead = self._aead.get(key_id)
        if aead is None:
            raise PersonalDataTokenError(
                f"token was sealed with key {key_id!r}, which is not in the key ring"
            )
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (binascii.Error, ValueError) as exc:
            raise PersonalDataTokenError("token body is not base64url") from exc
        if len(raw) < NONCE_BYTES + 16:
            raise PersonalDataTokenError("token is truncated")
        try:
            opened = aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _associated(key_id))
        except InvalidTag as exc:
            raise PersonalDataTokenError(
                f"token does not open under key {key_id!r}: tampered or truncated"
            ) from exc
        return opened.decode()

    def key_id_of(self, token: str) -> str:
        return _split(token)[0]

    def needs_rotation(self, token: str) -> bool:
        """True when ``token`` was sealed under a key other than the current one."""
        return self.key_id_of(token) != self.current_key_id

    def rotate(self, token: str) -> str:
        """The same value sealed under the current key (``token`` itself when it already is)."""
        return self.encrypt(self.decrypt(token)) if self.needs_rotation(token) else token

    def blind_index(self, plain: str) -> str:
        normalised = normalise_for_index(plain)
        return hmac.digest(self._index_key, normalised.encode(), "sha256").hex()


def _associated(key_id: str) -> bytes:
    return f"{TOKEN_VERSION}.{key_id}".encode()


def _split(token: str) -> tuple[str, str]:
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != TOKEN_VERSION or not parts[1] or not parts[2]:
        raise PersonalDataTokenError("not a personal-data token (v1.<key id>.<body>)")
    return parts[1], parts[2]


def parse_key_ring(text: str) -> dict[str, bytes]:
    """``"k1:<base64>,k2:<base64>"`` (standard or url-safe base64 of 32 bytes each)."""
    ring: dict[str, bytes] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        key_id, sep, encoded = item.strip().partition(":")
        if not sep:
            raise PersonalDataKeyError(f"key ring entry {key_id!r} is not <key id>:<base64>")
        if key_id in ring:
            raise PersonalDataKeyError(f"key id {key_id!r} appears twice in the key ring")
        ring[key_id] = decode_key(encoded, name=key_id)
    return ring


def decode_key(encoded: str, *, name: str) -> bytes:
    text = encoded.strip()
    try:
        return base64.b64decode(
            text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4), validate=True
        )
    except (binascii.Error, ValueError) as exc:
        raise PersonalDataKeyError(f"key {name!r} is not base64") from exc


def encode_key(key: bytes) -> str:
    return base64.b64encode(key).decode()


def new_key() -> bytes:
    return os.urandom(KEY_BYTES)
