"""Appending collection acts to the evidence log, in the caller's transaction.

``append(session, kind=…, case_id=…, occurred_at=…, payload=…, files=…)`` records one act;
``append_many(session, acts)`` records a batch with one lock, one leaf insert and one node
insert. Everything (leaf rows, Merkle nodes, the new tree size, file rows) is written in the
caller's transaction, so a rollback or a killed process leaves the log as it was. Attached
files are written to the content-addressed file store first; a file whose transaction never
commits is an unreferenced orphan, never a broken reference.

``append_at_commit(session, …)`` checks an act now and appends it when the session commits
(in ``Session.commit()``, after the session's own rows are flushed and before the COMMIT),
for callers that do not need the leaf's index. Every append takes the one lock of the log
until its transaction ends, so an append made in the middle of a web request holds that lock
through the rest of the request — the response, the hand-off to the committing thread — and
every other append in the system waits. Appended at commit, the lock is held for the append
and the COMMIT only. A rollback (of the transaction, or of the savepoint the act was
recorded in) drops the act with everything else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session

from debtflow.config import get_settings
from debtflow.core.errors import InvalidInput
from debtflow.core.evidence.file_store import EvidenceFileStore, sha256_hex
from debtflow.core.evidence.leaf import EvidenceLeaf, LeafFormatError, LeafKind
from debtflow.core.evidence.merkle import leaf_hash
from debtflow.core.evidence.node_store import append_leaves
from debtflow.evidence import until_commit
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


@dataclass(frozen=True)
class _PreparedAct:
    """An act checked and turned into its leaf bytes and hash, ready to append."""

    leaf: EvidenceLeaf
    canonical: bytes
    hashed: bytes
    files: dict[str, AttachedFile]  # by SHA-256


def _prepare(act: EvidenceAct) -> _PreparedAct:
    files: dict[str, AttachedFile] = {}
    for item in act.files:
        files.setdefault(sha256_hex(item.content), item)
    leaf = _leaf_of(act, tuple(files))
    try:
        raw = leaf.canonical_bytes()
    except LeafFormatError as exc:
        raise InvalidEvidence(f"evidence for case {act.case_id}: {exc}") from None
    return _PreparedAct(leaf, raw, leaf_hash(raw), files)


def append_many(session: Session, acts: Sequence[EvidenceAct]) -> list[AppendedLeaf]:
    """Append a batch of acts, in order, under one lock of the log (the fast path)."""
    return _append_prepared(session, [_prepare(act) for act in acts])


# session.info key of the acts waiting for the commit: (act, the savepoint it was recorded
# in or None)
_PENDING = "debtflow.evidence.pending"


def append_at_commit(
    session: Session,
    *,
    kind: LeafKind | str,
    case_id: int,
    occurred_at: datetime,
    payload: Mapping[str, object],
    files: Sequence[AttachedFile] = (),
) -> None:
    """Check one act now (:class:`InvalidEvidence` on bad input, as :func:`append`) and
    append it when ``session`` commits, after the acts recorded before it. Nothing is
    appended when the transaction — or the savepoint the act was recorded in — rolls back."""
    prepared = _prepare(EvidenceAct(kind, case_id, occurred_at, payload, tuple(files)))
    if not session.in_transaction():
        session.begin()  # so that a rollback before the first statement drops the act too
    until_commit.record(session, _PENDING, prepared)


@event.listens_for(Session, "before_commit")
def _append_pending(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint is released: its acts wait for the transaction's commit
    pending = session.info.pop(_PENDING, None)
    if pending:
        session.flush()  # the request's own rows first, before the log's lock is taken
        _append_prepared(session, [prepared for prepared, _ in pending])


until_commit.forget_on_rollback(_PENDING)


def _append_prepared(session: Session, acts: Sequence[_PreparedAct]) -> list[AppendedLeaf]:
    if not acts:
        return []
    attached: dict[str, AttachedFile] = {}
    for act in acts:
        for digest, item in act.files.items():
            attached.setdefault(digest, item)
    if attached:
        files_on_disk = file_store()
        for item in attached.values():
            files_on_disk.put(item.content)
    size = reserve_leaves(session, len(acts))  # lock + new size in one statement
    if attached:
        _record_files(session, attached)
    dialect = session.connection().dialect.name
    stamps = {act.leaf.occurred_at: driver_timestamp(dialect, act.leaf.occurred_at) for act in acts}
    insert_rows(
        session,
        "evidence_leaf",
        ("idx", "leaf_hash", "canonical_bytes", "kind", "case_id", "occurred_at"),
        [
            (
                size + offset,
                act.hashed,
                act.canonical,
                act.leaf.kind.value,
                act.leaf.case_id,
                stamps[act.leaf.occurred_at],
            )
            for offset, act in enumerate(acts)
        ],
    )
    hashes = [act.hashed for act in acts]
    store = SqlNodeStore(session, {size + offset: value for offset, value in enumerate(hashes)})
    new_size = append_leaves(store, size, hashes)
    if new_size != size + len(hashes):  # reserve_leaves already stored size + len(hashes)
        raise RuntimeError(f"evidence log grew to {new_size}, not {size + len(hashes)}")
    return [
        AppendedLeaf(size + offset, act.hashed, act.leaf.file_sha256)
        for offset, act in enumerate(acts)
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
