"""Signed tree heads: the signing key from settings, the keyring of every key the log used,
issuing a head (on demand and nightly), witness co-signatures, key rotation, and the anchor
— the newest signed head written to a file outside the database once its transaction
commits."""

from __future__ import annotations

import fcntl
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from debtflow.config import get_settings
from debtflow.core.errors import Conflict, InvalidInput
from debtflow.core.evidence.anchor import AnchorError, anchor_bytes, is_newer_or_same, parse_anchor
from debtflow.core.evidence.node_store import stored_consistency_proof, stored_root_hash
from debtflow.core.evidence.tree_head import (
    Keyring,
    KeyringEntry,
    SignedTreeHead,
    TreeHead,
    TreeHeadError,
    TreeHeadSigner,
    Witness,
    WitnessCosignature,
    from_microseconds,
    public_key_bytes,
    to_microseconds,
)
from debtflow.db import utcnow
from debtflow.evidence import until_commit
from debtflow.evidence.store import SqlNodeStore, appended_from, lock_tree_size
from debtflow.models import EvidenceCosignature, EvidenceSigningKey, EvidenceTreeHead

logger = logging.getLogger(__name__)


class SigningKeyError(InvalidInput):
    code = "evidence_signing_key"


def signing_key_file() -> Path:
    settings = get_settings()
    return settings.evidence_signing_key_file or (
        settings.data_dir / "evidence" / "log-signing-key.pem"
    )


def _write_private_key(path: Path, key: Ed25519PrivateKey) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".key-")
    try:
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "wb") as sink:
            sink.write(pem)
            sink.flush()
            os.fsync(sink.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def anchor_file() -> Path:
    """Where the newest signed tree head is anchored outside the database."""
    settings = get_settings()
    return settings.evidence_anchor_file or (
        settings.data_dir / "evidence" / "latest-tree-head.json"
    )


def read_anchor(path: Path) -> SignedTreeHead | None:
    """The anchored head, or None when there is no anchor file. Raises :class:`AnchorError`
    when the file is not an anchor (its signature is checked by the audit, not here)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    return parse_anchor(raw)


def write_anchor(path: Path, signed: SignedTreeHead) -> bool:
    """Anchor ``signed`` unless the file already holds a larger or later head; returns
    whether it wrote. Atomic (temporary file, fsync, rename), mode 0600, one writer at a
    time (an exclusive lock on ``<file>.lock``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            current = read_anchor(path)
        except AnchorError as exc:
            logger.warning("replacing the unreadable tree head anchor %s: %s", path, exc)
            current = None
        if current is not None and not is_newer_or_same(signed, current):
            return False
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".anchor-")
        try:
            os.fchmod(handle, 0o600)
            with os.fdopen(handle, "wb") as sink:
                sink.write(anchor_bytes(signed))
                sink.flush()
                os.fsync(sink.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return True
    finally:
        os.close(lock)


# session.info key of the heads signed in the session's transaction that are anchored when it
# commits: (head, the savepoint it was signed in or None)
_TO_ANCHOR = "debtflow.evidence.anchor"


def anchor_at_commit(session: Session, signed: SignedTreeHead) -> None:
    """Anchor ``signed`` once ``session`` commits (never if it rolls back): a head written
    out before its row commits could outlive a rollback and read as a log cut back."""
    until_commit.record(session, _TO_ANCHOR, signed)


@event.listens_for(Session, "after_commit")
def _anchor_committed(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint is released: its heads wait for the transaction's commit
    pending = session.info.pop(_TO_ANCHOR, None)
    if not pending:
        return
    newest = max((signed for signed, _ in pending), key=lambda h: (h.head.timestamp, h.tree_size))
    path = anchor_file()
    try:
        write_anchor(path, newest)
    except OSError as exc:  # the head is committed; the anchor lags until the next head
        logger.error("could not anchor tree head (size %d) at %s: %s", newest.tree_size, path, exc)


until_commit.forget_on_rollback(_TO_ANCHOR)


def load_signer(*, create: bool = True) -> TreeHeadSigner:
    """The log's signer from settings: ``evidence_signing_key`` (64 hex digits of seed) or
    the PEM file ``evidence_signing_key_file``; a missing file gets a fresh key (0600), and a
    file other users may read or write is refused."""
    settings = get_settings()
    if settings.evidence_signing_key is not None:
        text = settings.evidence_signing_key.get_secret_value().strip()
        try:
            return TreeHeadSigner.from_seed(bytes.fromhex(text))
        except (ValueError, TreeHeadError):
            raise SigningKeyError(
                "DEBTFLOW_EVIDENCE_SIGNING_KEY must be 64 hex digits (an Ed25519 seed)"
            ) from None
    path = signing_key_file()
    if not path.exists():
        if not create:
            raise SigningKeyError(f"no evidence signing key at {path}")
        _write_private_key(path, Ed25519PrivateKey.generate())
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:  # as ssh does with a private key: one anybody else can read is refused
        raise SigningKeyError(
            f"{path} can be read or changed by other users (mode {mode:o}); the evidence "
            f"signing key must be its owner's alone: chmod 600 {path}"
        )
    try:
        return TreeHeadSigner.from_pem(path.read_bytes())
    except (ValueError, TypeError, TreeHeadError) as exc:
        raise SigningKeyError(f"{path} is not an Ed25519 PEM private key: {exc}") from None


def keyring(session: Session) -> Keyring:
    """Every public key the log has used, with retirement times."""
    rows = session.execute(select(EvidenceSigningKey)).scalars()
    return Keyring(KeyringEntry(row.public_key, row.retired_at) for row in rows)


def register_signer(session: Session, signer: TreeHeadSigner, *, now: datetime) -> None:
    """Make sure the signer's public key is in the key table; refuse a retired key."""
    row = session.get(EvidenceSigningKey, signer.key_id)
    if row is None:
        session.add(
            EvidenceSigningKey(
                key_id=signer.key_id,
                public_key=public_key_bytes(signer.public_key),
                active_from=now,
            )
        )
        session.flush()
    elif row.retired_at is not None:
        raise SigningKeyError(
            f"signing key {signer.key_id.hex()} was retired at {row.retired_at:%Y-%m-%d %H:%M}; "
            "configure the current key"
        )


def signed_head_of(row: EvidenceTreeHead) -> SignedTreeHead:
    head = TreeHead(row.tree_size, row.root_hash, from_microseconds(row.timestamp_us), row.key_id)
    return SignedTreeHead(head, row.signature)


def latest_head(session: Session) -> EvidenceTreeHead | None:
    statement = select(EvidenceTreeHead).order_by(
        EvidenceTreeHead.timestamp_us.desc(), EvidenceTreeHead.id.desc()
    )
    return session.execute(statement.limit(1)).scalar_one_or_none()


def cosignatures_of(session: Session, head_id: int) -> list[EvidenceCosignature]:
    statement = select(EvidenceCosignature).where(EvidenceCosignature.tree_head_id == head_id)
    return list(session.execute(statement.order_by(EvidenceCosignature.id)).scalars())


@dataclass(frozen=True)
class IssuedHead:
    row: EvidenceTreeHead
    signed: SignedTreeHead
    cosignatures: list[WitnessCosignature]


def issue_tree_head(
    session: Session,
    *,
    now: datetime | None = None,
    signer: TreeHeadSigner | None = None,
    witnesses: Sequence[Witness] = (),
) -> IssuedHead:
    """Sign the committed tree (size, root, time) and store the head; ask each witness to
    co-sign it, giving it the consistency proof from the last head it co-signed.

    Only committed leaves are signed: in a transaction that has appended to the log, the
    head covers the log as it was before the transaction's first append (see
    :func:`signable_tree_size`); the transaction's own leaves wait for the next head. A head
    over leaves that might still roll back would, once a witness co-signed it or it left in a
    package, stand beside a later head of the same size and another root — a fork.
    """
    moment = now or utcnow()
    signer = signer or load_signer()
    register_signer(session, signer, now=moment)
    size = signable_tree_size(session)
    last = latest_head(session)
    if last is not None and to_microseconds(moment) < last.timestamp_us:
        raise Conflict("a newer tree head already exists; check the clock")
    store = SqlNodeStore(session)
    signed = signer.sign(size, stored_root_hash(store, size), moment)
    row = EvidenceTreeHead(
        tree_size=size,
        root_hash=signed.head.root_hash,
        timestamp_us=to_microseconds(moment),
        key_id=signed.head.key_id,
        signature=signed.signature,
    )
    session.add(row)
    session.flush()
    cosignatures = []
    for witness in witnesses:
        previous = _last_cosigned_size(session, witness.key_id, before=row.id)
        proof = stored_consistency_proof(store, previous, size) if 0 < previous < size else []
        try:
            cosignature = witness.cosign(signed, proof)
        except TreeHeadError as exc:
            raise Conflict(f"witness {witness.key_id.hex()} refused the head: {exc}") from None
        public_key = getattr(witness, "public_key", None)
        if not isinstance(public_key, bytes):
            raise InvalidInput(f"witness {witness.key_id.hex()} has no raw public_key")
        session.add(
            EvidenceCosignature(
                tree_head_id=row.id,
                witness_key_id=cosignature.witness_key_id,
                witness_public_key=public_key,
                signature=cosignature.signature,
            )
        )
        cosignatures.append(cosignature)
    session.flush()
    anchor_at_commit(session, signed)
    return IssuedHead(row, signed, cosignatures)


def signable_tree_size(session: Session) -> int:
    """Lock the log for this transaction and return the size of the committed tree it may
    sign: the committed size, or — if this transaction has appended — the size before its
    first append (no other transaction can have appended since: it holds the lock)."""
    size = lock_tree_size(session)
    before = appended_from(session)
    return size if before is None else min(size, before)


def _last_cosigned_size(session: Session, witness_key_id: bytes, *, before: int) -> int:
    statement = (
        select(EvidenceTreeHead.tree_size)
        .join(EvidenceCosignature, EvidenceCosignature.tree_head_id == EvidenceTreeHead.id)
        .where(EvidenceCosignature.witness_key_id == witness_key_id)
        .where(EvidenceTreeHead.id < before)
        .order_by(EvidenceTreeHead.timestamp_us.desc())
        .limit(1)
    )
    return int(session.execute(statement).scalar() or 0)


def rotate_signing_key(session: Session, *, now: datetime | None = None) -> tuple[bytes, bytes]:
    """Replace the signing key: sign a last head with the old key, retire it, store a new
    key in the key file and register it. Old heads keep verifying. Returns (old, new) ids.

    The key file is switched last (the old private key is kept beside it as
    ``<file>.retired-<key id>``); should the caller's commit then fail, the new key is simply
    registered on its first use and the old one stays unretired.
    """
    if get_settings().evidence_signing_key is not None:
        raise SigningKeyError(
            "the signing key comes from DEBTFLOW_EVIDENCE_SIGNING_KEY: put the new seed there; "
            "rotation here manages the key file only"
        )
    moment = now or utcnow()
    old = load_signer()
    issue_tree_head(session, now=moment, signer=old)
    old_row = session.get(EvidenceSigningKey, old.key_id)
    assert old_row is not None
    old_row.retired_at = moment
    new_key = Ed25519PrivateKey.generate()
    new = TreeHeadSigner(new_key)
    session.add(
        EvidenceSigningKey(
            key_id=new.key_id, public_key=public_key_bytes(new.public_key), active_from=moment
        )
    )
    session.flush()
    path = signing_key_file()
    os.replace(path, path.with_name(f"{path.name}.retired-{old.key_id.hex()}"))
    _write_private_key(path, new_key)
    return old.key_id, new.key_id
