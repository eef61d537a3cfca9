"""Appending collection acts to the evidence log, in the caller's transaction.

``append(session, kind=…, case_id=…, occurred_at=…, payload=…, files=…)`` records one act;
``append_many(session, acts)`` records a batch with one lock, one leaf insert and one node
insert. Everything (leaf rows, Merkle nodes, the new tree size, file rows) is written in the
caller's transaction, so a rollback or a killed process leaves the log as it was. Attached
files are written to the content-addressed file store first; a file whose transaction never
commits is an unreferenced orphan, never a broken reference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from debtflow.config import get_settings
from debtflow.core.errors import InvalidInput
from debtflow.core.evidence.file_store import EvidenceFileStore, sha256_hex
from debtflow.core.evidence.leaf import EvidenceLeaf, LeafFormatError, LeafKind
from debtflow.core.evidence.merkle import leaf_hash
from debtflow.core.evidence.node_store import append_leaves
from debtflow.evidence.store import (
    SqlNodeStore,
    driver_timestamp,
    insert_rows,
    reserve_leaves,
)
from debtflow.models import EvidenceFile


class InvalidEvidence(InvalidInput):
    code = "invalid_evidence"


@dataclass(frozen=True)
class AttachedFile:
    """A file evidencing an act: a recording, a photo, a letter, a signed agreement."""

    content: bytes
    media_type: str = "application/octet-stream"


@dataclass(frozen=True)
class EvidenceAct:
    """One act to append (see :func:`append` for the fields)."""

    kind: LeafKind | str
    case_id: int
    occurred_at: datetime
    payload: Mapping[str, object]
    files: Sequence[AttachedFile] = field(default=())


@dataclass(frozen=True)
class AppendedLeaf:
    """Where an act landed in the log."""

    index: int
    leaf_hash: bytes
    file_sha256: tuple[str, ...]


def file_store_dir() -> Path:
    settings = get_settings()
    return settings.evidence_file_dir or settings.data_dir / "evidence" / "files"


def file_store() -> EvidenceFileStore:
    return EvidenceFileStore(file_store_dir())


def append(
    session: Session,
    *,
    kind: LeafKind | str,
    case_id: int,
    occurred_at: datetime,
    payload: Mapping[str, object],
    files: Sequence[AttachedFile] = (),
) -> AppendedLeaf:
    """Append one act to the log in the caller's transaction; return its index and hash.

    ``kind`` is a :class:`LeafKind` (or its value, e.g. ``"payment"``); ``occurred_at`` is
    timezone-aware; ``payload`` is JSON made of strings, integers (money in fen), booleans,
    null, lists, objects, aware datetimes and dates — no floats. ``files`` are stored by
    SHA-256 and their digests go into the leaf. Raises :class:`InvalidEvidence` on bad input.
    """
    act = EvidenceAct(kind, case_id, occurred_at, payload, tuple(files))
    return append_many(session, [act])[0]


def _leaf_of(act: EvidenceAct, digests: tuple[str, ...]) -> EvidenceLeaf:
    try:
        kind = LeafKind(act.kind)
    except ValueError:
        raise InvalidEvidence(f"unknown evidence kind {act.kind!r}") from None
    try:
        return EvidenceLeaf(
            kind=kind,
            case_id=act.case_id,
            occurred_at=act.occurred_at,
            payload=act.payload,
            file_sha256=digests,
        )
    except LeafFormatError as exc:
        raise InvalidEvidence(f"evidence for case {act.case_id}: {exc}") from None


def append_many(session: Session, acts: Sequence[EvidenceAct]) -> list[AppendedLeaf]:
    """Append a batch of acts, in order, under one lock of the log (the fast path)."""
    if not acts:
        return []
    prepared: list[tuple[EvidenceLeaf, bytes, bytes]] = []
    attached: dict[str, AttachedFile] = {}
    for act in acts:
        digests = tuple(dict.fromkeys(sha256_hex(item.content) for item in act.files))
        for item in act.files:
            attached.setdefault(sha256_hex(item.content), item)
        leaf = _leaf_of(act, digests)
        try:
            raw = leaf.canonical_bytes()
        except LeafFormatError as exc:
            raise InvalidEvidence(f"evidence for case {act.case_id}: {exc}") from None
        prepared.append((leaf, raw, leaf_hash(raw)))
    if attached:
        files_on_disk = file_store()
        for item in attached.values():
            files_on_disk.put(item.content)
    size = reserve_leaves(session, len(prepared))  # lock + new size in one statement
    if attached:
        _record_files(session, attached)
    dialect = session.connection().dialect.name
    stamps = {
        leaf.occurred_at: driver_timestamp(dialect, leaf.occurred_at) for leaf, _, _ in prepared
    }
    insert_rows(
        session,
        "evidence_leaf",
        ("idx", "leaf_hash", "canonical_bytes", "kind", "case_id", "occurred_at"),
        [
            (
                size + offset,
                hashed,
                raw,
                leaf.kind.value,
                leaf.case_id,
                stamps[leaf.occurred_at],
            )
            for offset, (leaf, raw, hashed) in enumerate(prepared)
        ],
    )
    hashes = [hashed for _, _, hashed in prepared]
    store = SqlNodeStore(session, {size + offset: value for offset, value in enumerate(hashes)})
    new_size = append_leaves(store, size, hashes)
    if new_size != size + len(hashes):  # reserve_leaves already stored size + len(hashes)
        raise RuntimeError(f"evidence log grew to {new_size}, not {size + len(hashes)}")
    return [
        AppendedLeaf(size + offset, hashed, leaf.file_sha256)
        for offset, (leaf, _, hashed) in enumerate(prepared)
    ]


def _record_files(session: Session, attached: Mapping[str, AttachedFile]) -> None:
    known = set(
        session.execute(
            select(EvidenceFile.sha256).where(EvidenceFile.sha256.in_(sorted(attached)))
        ).scalars()
    )
    new_rows = []
    for digest, item in attached.items():
        if digest not in known:
            new_rows.append(
                {"sha256": digest, "size": len(item.content), "media_type": item.media_type}
            )
    if new_rows:
        session.execute(insert(EvidenceFile), new_rows)
