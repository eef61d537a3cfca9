"""Signed tree heads (Ed25519), a keyring that survives key rotation, and witness co-signing.

Signed bytes of a tree head (72 bytes, all integers big-endian)::

    offset  size  field
         0    16  b"debtflow/sth/v1\\x00"   (domain separation)
        16     8  tree_size                 (unsigned)
        24     8  timestamp                 (microseconds since 1970-01-01T00:00:00Z, unsigned)
        32    32  root_hash                 (RFC 9162 SHA-256 root)
        64     8  key_id                    (first 8 bytes of SHA-256 of the raw public key)

The signature is Ed25519 over those 72 bytes. A witness co-signs
``b"debtflow/witness/v1\\x00"`` (20 bytes) followed by the same 72 bytes.

Only the standard library and ``cryptography`` are imported (the offline verifier uses this).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from debtflow.core.evidence.merkle import HASH_SIZE, ProofError, verify_consistency

STH_DOMAIN = b"debtflow/sth/v1\x00"
WITNESS_DOMAIN = b"debtflow/witness/v1\x00"
KEY_ID_SIZE = 8
SIGNATURE_SIZE = 64
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_U64 = 2**64


class TreeHeadError(ValueError):
    """A tree head, key or signature is malformed or does not verify."""


def key_id_of(public_key: Ed25519PublicKey) -> bytes:
    """8-byte key id: the first 8 bytes of SHA-256 of the raw 32-byte public key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).digest()[:KEY_ID_SIZE]


def public_key_bytes(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def load_public_key(raw: bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from its 32 raw bytes."""
    if len(raw) != 32:
        raise TreeHeadError(f"an Ed25519 public key is 32 bytes, not {len(raw)}")
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:  # pragma: no cover - every 32-byte string is accepted today
        raise TreeHeadError(f"invalid Ed25519 public key: {exc}") from exc


def to_microseconds(moment: datetime) -> int:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise TreeHeadError("tree head timestamps must be timezone-aware")
    delta = moment.astimezone(UTC) - _EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    if not 0 <= micros < _U64:
        raise TreeHeadError("timestamp before 1970")
    return micros


def from_microseconds(micros: int) -> datetime:
    try:
        return _EPOCH + timedelta(microseconds=micros)
    except OverflowError:
        raise TreeHeadError(f"timestamp {micros} µs is beyond the year 9999") from None


@dataclass(frozen=True)
class TreeHead:
    """What a log signs: size, root and time, and which key signs it."""

    tree_size: int
    root_hash: bytes
    timestamp: datetime
    key_id: bytes

    def __post_init__(self) -> None:
        if isinstance(self.tree_size, bool) or not isinstance(self.tree_size, int):
            raise TreeHeadError("tree_size must be an int")
        if not 0 <= self.tree_size < _U64:
            raise TreeHeadError(f"tree_size {self.tree_size} out of range")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != HASH_SIZE:
            raise TreeHeadError(f"root_hash must be {HASH_SIZE} bytes")
        if not isinstance(self.key_id, bytes) or len(self.key_id) != KEY_ID_SIZE:
            raise TreeHeadError(f"key_id must be {KEY_ID_SIZE} bytes")
        to_microseconds(self.timestamp)

    def signed_bytes(self) -> bytes:
        """The 72-byte serialisation the log key signs."""
        return (
            STH_DOMAIN
            + struct.pack(">QQ", self.tree_size, to_microseconds(self.timestamp))
            + self.root_hash
            + self.key_id
        )


def parse_tree_head(signed: bytes) -> TreeHead:
    """The inverse of :meth:`TreeHead.signed_bytes`."""
    if len(signed) != 72 or not signed.startswith(STH_DOMAIN):
        raise TreeHeadError("not a 72-byte debtflow/sth/v1 tree head")
    tree_size, micros = struct.unpack(">QQ", signed[16:32])
    return TreeHead(tree_size, signed[32:64], from_microseconds(micros), signed[64:72])


@dataclass(frozen=True)
class SignedTreeHead:
    head: TreeHead
    signature: bytes

    @property
    def tree_size(self) -> int:
        return self.head.tree_size

    @property
    def root_hash(self) -> bytes:
        return self.head.root_hash


@dataclass(frozen=True)
class WitnessCosignature:
    """A witness's Ed25519 signature over ``WITNESS_DOMAIN + head.signed_bytes()``."""

    witness_key_id: bytes
    signature: bytes


class TreeHeadSigner:
    """Signs tree heads with the log's Ed25519 private key."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private_key = private_key
        self.public_key = private_key.public_key()
        self.key_id = key_id_of(self.public_key)

    @classmethod
    def from_seed(cls, seed: bytes) -> TreeHeadSigner:
        """A signer from a 32-byte private key seed (e.g. decoded from settings)."""
        if len(seed) != 32:
            raise TreeHeadError("an Ed25519 private key seed is 32 bytes")
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    @classmethod
    def from_pem(cls, pem: bytes, password: bytes | None = None) -> TreeHeadSigner:
        """A signer from a PKCS#8 PEM private key."""
        key = serialization.load_pem_private_key(pem, password=password)
        if not isinstance(key, Ed25519PrivateKey):
            raise TreeHeadError("the PEM key is not an Ed25519 private key")
        return cls(key)

    def sign(self, tree_size: int, root_hash: bytes, timestamp: datetime) -> SignedTreeHead:
        head = TreeHead(tree_size, root_hash, timestamp, self.key_id)
        return SignedTreeHead(head, self._private_key.sign(head.signed_bytes()))


@dataclass(frozen=True)
class KeyringEntry:
    """A log public key; heads it signs after ``retired_at`` are refused."""

    public_key: bytes
    retired_at: datetime | None = None

    @property
    def key_id(self) -> bytes:
        return key_id_of(load_public_key(self.public_key))


class Keyring:
    """Every public key the log ever used, so heads signed before a rotation still verify."""

    def __init__(self, entries: Iterable[KeyringEntry] = ()) -> None:
        self._entries: dict[bytes, KeyringEntry] = {}
        for entry in entries:
            self.add(entry.public_key, retired_at=entry.retired_at)

    def add(self, public_key: bytes, *, retired_at: datetime | None = None) -> bytes:
        """Add a raw 32-byte public key; return its key id."""
        entry = KeyringEntry(bytes(public_key), retired_at)
        if retired_at is not None:
            to_microseconds(retired_at)
        self._entries[entry.key_id] = entry
        return entry.key_id

    def retire(self, key_id: bytes, at: datetime) -> None:
        """Mark a key retired (after a rotation): its older heads still verify."""
        entry = self.entry(key_id)
        to_microseconds(at)
        self._entries[key_id] = KeyringEntry(entry.public_key, at)

    def entry(self, key_id: bytes) -> KeyringEntry:
        try:
            return self._entries[key_id]
        except KeyError:
            raise TreeHeadError(f"key {key_id.hex()} is not in the keyring") from None

    def entries(self) -> list[KeyringEntry]:
        return [self._entries[key] for key in sorted(self._entries)]

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._entries

    def verify(self, signed_head: SignedTreeHead) -> None:
        """Raise :class:`TreeHeadError` unless a keyring key validly signed this head."""
        head = signed_head.head
        entry = self.entry(head.key_id)
        if entry.retired_at is not None and head.timestamp > entry.retired_at:
            raise TreeHeadError(f"key {head.key_id.hex()} was retired before this head's timestamp")
        _verify_signature(entry.public_key, signed_head.signature, head.signed_bytes(), "log")


def _verify_signature(public_key: bytes, signature: bytes, message: bytes, who: str) -> None:
    if len(signature) != SIGNATURE_SIZE:
        raise TreeHeadError(f"{who} signature is {len(signature)} bytes, not {SIGNATURE_SIZE}")
    try:
        load_public_key(public_key).verify(signature, message)
    except InvalidSignature:
        raise TreeHeadError(f"{who} signature does not verify") from None


class Witness(Protocol):
    """An independent party that co-signs heads it has checked are consistent with the past."""

    key_id: bytes

    def cosign(
        self, signed_head: SignedTreeHead, consistency: Sequence[bytes]
    ) -> WitnessCosignature: ...


class LocalWitness:
    """A witness in this process: checks the log signature and append-only growth, then signs.

    ``consistency`` is the proof from the last head it co-signed to the new one (empty for
    its first head or an unchanged size). A head that is not a consistent extension, or not
    newer, is refused with :class:`TreeHeadError`.
    """

    def __init__(self, private_key: Ed25519PrivateKey, log_keyring: Keyring) -> None:
        self._private_key = private_key
        self.public_key = public_key_bytes(private_key.public_key())
        self.key_id = key_id_of(private_key.public_key())
        self._log_keyring = log_keyring
        self.last_head: TreeHead | None = None

    def cosign(
        self, signed_head: SignedTreeHead, consistency: Sequence[bytes]
    ) -> WitnessCosignature:
        self._log_keyring.verify(signed_head)
        head, last = signed_head.head, self.last_head
        if last is not None:
            if head.timestamp < last.timestamp:
                raise TreeHeadError("head is older than the last head this witness co-signed")
            if last.tree_size > 0:
                try:
                    verify_consistency(
                        last.tree_size, head.tree_size, last.root_hash, head.root_hash, consistency
                    )
                except ProofError as exc:
                    raise TreeHeadError(f"head is not consistent with the last one: {exc}") from exc
        signature = self._private_key.sign(WITNESS_DOMAIN + head.signed_bytes())
        self.last_head = head
        return WitnessCosignature(self.key_id, signature)


def verify_cosignature(
    signed_head: SignedTreeHead, cosignature: WitnessCosignature, witness_public_key: bytes
) -> None:
    """Raise :class:`TreeHeadError` unless the witness key co-signed this head."""
    if key_id_of(load_public_key(witness_public_key)) != cosignature.witness_key_id:
        raise TreeHeadError("witness key id does not match the witness public key")
    message = WITNESS_DOMAIN + signed_head.head.signed_bytes()
    _verify_signature(witness_public_key, cosignature.signature, message, "witness")
