"""The evidence log in SQL: leaves, complete-subtree nodes, signed tree heads, signing keys
and the content-addressed files the leaves cite (see ``docs/evidence.md``).

Level 0 of the Merkle tree is ``evidence_leaf.leaf_hash``; ``evidence_node`` holds the
complete subtrees of level 1 and up, keyed ``(level, idx)``. Leaves, nodes, tree heads and
witness co-signatures are append-only: triggers refuse UPDATE and DELETE (and TRUNCATE on
PostgreSQL); a signing key row can only be retired, once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, LargeBinary, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from debtflow.db import Base, UTCDateTime, utcnow


class EvidenceLogState(Base):
    """The single row (id 1) holding the committed tree size; appends lock it."""

    __tablename__ = "evidence_log_state"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    tree_size: Mapped[int] = mapped_column(BigInteger, default=0)


class EvidenceLogLeaf(Base):
    """One leaf of the log: its canonical JSON bytes and RFC 9162 leaf hash."""

    __tablename__ = "evidence_leaf"

    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    canonical_bytes: Mapped[bytes] = mapped_column(LargeBinary)
    kind: Mapped[str] = mapped_column(String(30))
    case_id: Mapped[int] = mapped_column(BigInteger, index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EvidenceLogNode(Base):
    """The hash of the complete subtree of ``2**level`` leaves from leaf ``idx * 2**level``."""

    __tablename__ = "evidence_node"
    __table_args__ = {"sqlite_with_rowid": False}

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class EvidenceSigningKey(Base):
    """A public key the log signs (or signed) tree heads with; kept after rotation."""

    __tablename__ = "evidence_signing_key"

    key_id: Mapped[bytes] = mapped_column(LargeBinary(8), primary_key=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    active_from: Mapped[datetime] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class EvidenceTreeHead(Base):
    """A signed tree head: size, root and time, signed with Ed25519 by ``key_id``."""

    __tablename__ = "evidence_tree_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    tree_size: Mapped[int] = mapped_column(BigInteger)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    # microseconds since 1970-01-01T00:00:00Z, exactly as signed
    timestamp_us: Mapped[int] = mapped_column(BigInteger, index=True)
    key_id: Mapped[bytes] = mapped_column(LargeBinary(8), ForeignKey("evidence_signing_key.key_id"))
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))


class EvidenceCosignature(Base):
    """A witness's co-signature of a tree head."""

    __tablename__ = "evidence_cosignature"

    id: Mapped[int] = mapped_column(primary_key=True)
    tree_head_id: Mapped[int] = mapped_column(ForeignKey("evidence_tree_head.id"), index=True)
    witness_key_id: Mapped[bytes] = mapped_column(LargeBinary(8))
    witness_public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))


class EvidenceFile(Base):
    """An attached file stored content-addressed under ``data_dir`` by its SHA-256."""

    __tablename__ = "evidence_file"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


__all__ = [
    "EvidenceCosignature",
    "EvidenceFile",
    "EvidenceLogLeaf",
    "EvidenceLogNode",
    "EvidenceLogState",
    "EvidenceSigningKey",
    "EvidenceTreeHead",
]
