"""Personal-data key rotation: re-encrypt every stored ID and phone number (and contact
e-mail) under the current key of the ring, batch by batch. Safe to run twice: a value
already under the current key is left as it is. The blind-index key is not rotated (every
index would change at once); see docs/compliance-operations.md."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from debtflow.compliance import encrypted_columns
from debtflow.config import (
    get_settings,
    personal_data_cipher,
    pii_key_file,
    read_pii_key_file,
    write_pii_key_file,
)
from debtflow.core.compliance.crypto import (
    PersonalDataCipher,
    PersonalDataKeyError,
    new_key,
)
from debtflow.core.errors import Conflict, InvalidInput

ENCRYPTED_COLUMNS = encrypted_columns.ENCRYPTED_COLUMNS


class KeyRingNotEditable(Conflict):
    code = "pii_key_ring_not_editable"


@dataclass(frozen=True, slots=True)
class RotatedBatch:
    table: str
    last_id: int  # resume after this id; 0 ... nothing examined
    examined: int
    rotated: int


def count_to_examine(session: Session) -> dict[str, int]:
    """Stored encrypted values per table (what a rotation walks through)."""
    return {
        table: encrypted_columns.count_encrypted_values(session, table=table, column=column)
        for table, column in ENCRYPTED_COLUMNS
    }


def rotate_batch(session: Session, *, table: str, after_id: int, limit: int = 1000) -> RotatedBatch:
    """Re-encrypt up to ``limit`` values of ``table`` with ids above ``after_id`` that are
    not under the current key. Never commits: the caller commits each batch."""
    if limit < 1:
        raise InvalidInput("a rotation batch needs at least one row")
    column = dict(ENCRYPTED_COLUMNS).get(table)
    if column is None:
        raise InvalidInput(f"{table!r} holds no encrypted personal data")
    cipher = personal_data_cipher()
    tokens = encrypted_columns.encrypted_values(
        session, table=table, column=column, after_id=after_id, limit=limit
    )
    fresh = [
        (row_id, cipher.rotate(token)) for row_id, token in tokens if cipher.needs_rotation(token)
    ]
    encrypted_columns.store_encrypted_values(session, table=table, column=column, tokens=fresh)
    return RotatedBatch(table, tokens[-1][0] if tokens else after_id, len(tokens), len(fresh))


def add_key_to_file(key_id: str | None = None) -> str:
    """Development key file only: add a fresh key and make it current; returns its id.
    Production key rings come from DEBTFLOW_PII_KEYS and are changed there."""
    settings = get_settings()
    if settings.pii_keys is not None:
        raise KeyRingNotEditable(
            "the key ring comes from DEBTFLOW_PII_KEYS: add the new key there, point "
            "DEBTFLOW_PII_CURRENT_KEY at it, then run rotate-pii-key without --new-key"
        )
    personal_data_cipher()  # creates the file when missing
    path = pii_key_file(settings)
    keys, _, index_key = read_pii_key_file(path)
    if key_id is None:
        number = len(keys) + 1
        while f"k{number}" in keys:
            number += 1
        key_id = f"k{number}"
    if key_id in keys:
        raise InvalidInput(f"key {key_id!r} is already in the key ring")
    keys[key_id] = new_key()
    try:
        PersonalDataCipher(keys, key_id, index_key)  # checks the new id before writing
    except PersonalDataKeyError as exc:
        raise InvalidInput(str(exc)) from None
    write_pii_key_file(path, current=key_id, keys=keys, index_key=index_key, replace=True)
    return key_id
