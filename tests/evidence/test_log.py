"""Appending to the SQL log: indices, tree, proofs, files, bad input, append-only guards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from debtflow import evidence
from debtflow.core.evidence.leaf import LeafKind, parse_leaf
from debtflow.core.evidence.merkle import (
    leaf_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)
from debtflow.core.evidence.node_store import (
    stored_consistency_proof,
    stored_inclusion_proof,
    stored_root_hash,
)
from debtflow.evidence.heads import issue_tree_head
from debtflow.evidence.log import AttachedFile, EvidenceAct, InvalidEvidence, file_store
from debtflow.evidence.store import SqlNodeStore, committed_tree_size
from debtflow.models import EvidenceFile, EvidenceLogLeaf, EvidenceLogNode

T0 = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def _acts(count: int, *, case_id: int = 7, start: int = 0) -> list[EvidenceAct]:
    return [
        EvidenceAct(
            LeafKind.CONTACT_ATTEMPT,
            case_id,
            T0 + timedelta(minutes=start + i),
            {"attempt": start + i, "channel": "phone", "outcome": "no_answer"},
        )
        for i in range(count)
    ]


def _stored_leaf_hashes(session) -> list[bytes]:
    rows = session.execute(
        select(EvidenceLogLeaf.canonical_bytes).order_by(EvidenceLogLeaf.idx)
    ).scalars()
    return [leaf_hash(bytes(raw)) for raw in rows]


def test_appends_get_consecutive_indices_and_the_tree_matches_the_leaves(session):
    first = evidence.append(
        session,
        kind=LeafKind.PAYMENT,
        case_id=3,
        occurred_at=T0,
        payload={"amount_fen": 40_000, "reference": "P-1"},
    )
    rest = evidence.append_many(session, _acts(20))
    assert [first.index, *(leaf.index for leaf in rest)] == list(range(21))
    assert committed_tree_size(session) == 21
    hashes = _stored_leaf_hashes(session)
    assert hashes[0] == first.leaf_hash
    store = SqlNodeStore(session)
    assert stored_root_hash(store, 21) == root_hash(hashes)
    leaf = parse_leaf(session.get(EvidenceLogLeaf, 0).canonical_bytes)
    assert (leaf.kind, leaf.case_id, dict(leaf.payload)) == (
        LeafKind.PAYMENT,
        3,
        {"amount_fen": 40_000, "reference": "P-1"},
    )
    # only complete subtrees are stored: 21 leaves -> 10 + 5 + 2 + 1 nodes above level 0
    assert session.scalar(select(func.count()).select_from(EvidenceLogNode)) == 18


def test_one_batch_and_many_single_appends_give_the_same_tree(session):
    evidence.append_many(session, _acts(13))
    batched_root = stored_root_hash(SqlNodeStore(session), 13)
    for act in _acts(13, start=13):
        evidence.append(
            session,
            kind=act.kind,
            case_id=act.case_id,
            occurred_at=act.occurred_at,
            payload=act.payload,
        )
    hashes = _stored_leaf_hashes(session)
    store = SqlNodeStore(session)
    assert batched_root == root_hash(hashes[:13])
    assert stored_root_hash(store, 26) == root_hash(hashes)


def test_proofs_from_the_sql_store_verify_in_one_read(session):
    evidence.append_many(session, _acts(37))
    store = SqlNodeStore(session)
    root = stored_root_hash(store, 37)
    hashes = _stored_leaf_hashes(session)
    for index in (0, 1, 18, 32, 36):
        before = store.reads
        proof = stored_inclusion_proof(store, index, 37)
        assert store.reads == before + 1
        verify_inclusion(hashes[index], index, 37, proof, root)
    for old in (1, 8, 20, 37):
        proof = stored_consistency_proof(store, old, 37)
        verify_consistency(old, 37, root_hash(hashes[:old]), root, proof)


def test_attached_files_are_stored_by_hash_and_cited_by_the_leaf(session):
    photo = AttachedFile(b"\x89PNG field check-in photo", "image/png")
    appended = evidence.append(
        session,
        kind="field_checkin",
        case_id=9,
        occurred_at=T0,
        payload={"lat_e6": 31_230_416, "lon_e6": 121_473_701},
        files=[photo, photo],
    )
    assert len(appended.file_sha256) == 1
    digest = appended.file_sha256[0]
    assert file_store().read(digest) == photo.content
    row = session.get(EvidenceFile, digest)
    assert (row.size, row.media_type) == (len(photo.content), "image/png")
    leaf = parse_leaf(session.get(EvidenceLogLeaf, appended.index).canonical_bytes)
    assert leaf.file_sha256 == (digest,)
    again = evidence.append(
        session, kind="field_checkin", case_id=9, occurred_at=T0, payload={}, files=[photo]
    )
    assert again.file_sha256 == (digest,)
    assert session.scalar(select(func.count()).select_from(EvidenceFile)) == 1


@pytest.mark.parametrize(
    ("kind", "occurred_at", "payload", "message"),
    [
        ("phone_call", T0, {}, "unknown evidence kind"),
        ("payment", T0.replace(tzinfo=None), {}, "occurred_at"),
        ("payment", T0, {"amount": 12.5}, "payload"),
        ("payment", T0, {"when": object()}, "payload"),
    ],
)
def test_bad_acts_are_refused_and_nothing_is_written(session, kind, occurred_at, payload, message):
    evidence.append_many(session, _acts(3))
    with pytest.raises(InvalidEvidence, match=message):
        evidence.append(session, kind=kind, case_id=7, occurred_at=occurred_at, payload=payload)
    with pytest.raises(InvalidEvidence, match="positive"):
        evidence.append(session, kind="payment", case_id=0, occurred_at=T0, payload={})
    assert committed_tree_size(session) == 3
    assert session.scalar(select(func.count()).select_from(EvidenceLogLeaf)) == 3


def test_a_batch_with_one_bad_act_appends_nothing(session):
    acts = [*_acts(4), EvidenceAct("payment", 7, T0, {"amount": 1.5})]
    with pytest.raises(InvalidEvidence):
        evidence.append_many(session, acts)
    assert committed_tree_size(session) == 0


def _defer(session, act: EvidenceAct) -> None:
    evidence.append_at_commit(
        session,
        kind=act.kind,
        case_id=act.case_id,
        occurred_at=act.occurred_at,
        payload=act.payload,
        files=act.files,
    )


def test_an_act_appended_at_commit_lands_at_the_commit_in_order(session):
    evidence.append_many(session, _acts(2))
    deferred = _acts(3, start=2)
    for act in deferred:
        _defer(session, act)
    evidence.append_many(session, _acts(1, start=5))  # appended now, ahead of the deferred
    assert committed_tree_size(session) == 3
    session.commit()
    assert committed_tree_size(session) == 6
    stored = [
        parse_leaf(bytes(raw))
        for raw in session.scalars(
            select(EvidenceLogLeaf.canonical_bytes).order_by(EvidenceLogLeaf.idx)
        )
    ]
    assert [leaf.payload["attempt"] for leaf in stored] == [0, 1, 5, 2, 3, 4]
    assert stored_root_hash(SqlNodeStore(session), 6) == root_hash(_stored_leaf_hashes(session))
    session.commit()  # nothing left over to append twice
    assert committed_tree_size(session) == 6


def test_an_act_appended_at_commit_is_checked_at_once(session):
    with pytest.raises(InvalidEvidence, match="payload"):
        _defer(session, EvidenceAct("payment", 7, T0, {"amount": 1.5}))
    session.commit()
    assert committed_tree_size(session) == 0


def test_a_rollback_drops_the_acts_waiting_for_the_commit(session):
    _defer(session, _acts(1)[0])
    session.rollback()
    session.commit()
    assert committed_tree_size(session) == 0


def test_a_savepoint_rollback_drops_only_the_acts_recorded_in_it(session):
    kept, dropped, released = _acts(3)
    _defer(session, kept)
    savepoint = session.begin_nested()
    _defer(session, dropped)
    savepoint.rollback()
    with session.begin_nested():
        _defer(session, released)
    assert committed_tree_size(session) == 0  # a released savepoint is not the commit
    session.commit()
    stored = [
        parse_leaf(bytes(raw))
        for raw in session.scalars(
            select(EvidenceLogLeaf.canonical_bytes).order_by(EvidenceLogLeaf.idx)
        )
    ]
    assert [leaf.payload["attempt"] for leaf in stored] == [0, 2]


def test_a_file_attached_to_an_act_appended_at_commit_is_stored(session):
    photo = AttachedFile(b"\x89PNG visit photo", "image/png")
    act = EvidenceAct("field_checkin", 9, T0, {"lat_e6": 31_230_416}, (photo, photo))
    _defer(session, act)
    session.commit()
    leaf = parse_leaf(session.get(EvidenceLogLeaf, 0).canonical_bytes)
    assert len(leaf.file_sha256) == 1
    assert file_store().read(leaf.file_sha256[0]) == photo.content
    assert session.get(EvidenceFile, leaf.file_sha256[0]).media_type == "image/png"


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE evidence_leaf SET kind = 'payment' WHERE idx = 1",
        "DELETE FROM evidence_leaf WHERE idx = 3",
        "UPDATE evidence_node SET hash = hash WHERE level = 1",
        "DELETE FROM evidence_node",
        "UPDATE evidence_log_state SET tree_size = 2",
        "DELETE FROM evidence_log_state",
    ],
)
def test_the_database_refuses_to_rewrite_the_log(session, statement):
    evidence.append_many(session, _acts(4))
    with pytest.raises(DBAPIError, match="append-only|never shrinks"), session.begin_nested():
        session.execute(text(statement))
    assert committed_tree_size(session) == 4


GUARDED = (
    "evidence_cosignature",
    "evidence_tree_head",
    "evidence_node",
    "evidence_leaf",
    "evidence_log_state",
    "evidence_signing_key",
)


@pytest.mark.parametrize("table", GUARDED)
def test_postgresql_refuses_to_truncate_the_log(session, table):
    """Row triggers do not fire for TRUNCATE: a statement trigger refuses it."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    evidence.append_many(session, _acts(4))
    issue_tree_head(session, now=T0 + timedelta(hours=1))
    with pytest.raises(DBAPIError, match="append-only: TRUNCATE refused"), session.begin_nested():
        session.execute(text(f"TRUNCATE {table} CASCADE"))
    with pytest.raises(DBAPIError, match="TRUNCATE refused"), session.begin_nested():
        session.execute(text(f"TRUNCATE {', '.join(GUARDED)}"))
    assert committed_tree_size(session) == 4


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM evidence_signing_key",
        "UPDATE evidence_signing_key SET public_key = :other",
        "UPDATE evidence_signing_key SET key_id = :other8",
        "UPDATE evidence_signing_key SET active_from = :moment",
        "UPDATE evidence_signing_key SET retired_at = NULL",
    ],
)
def test_signing_keys_can_be_retired_once_and_nothing_else(session, statement):
    issue_tree_head(session, now=T0)
    values = {"other": b"\x05" * 32, "other8": b"\x05" * 8, "moment": T0 + timedelta(days=1)}
    with session.begin_nested():  # the one change rotation makes
        session.execute(text("UPDATE evidence_signing_key SET retired_at = :moment"), values)
    retired = session.execute(text("SELECT retired_at FROM evidence_signing_key")).scalar()
    for attempt in (statement, "UPDATE evidence_signing_key SET retired_at = :moment"):
        with pytest.raises(DBAPIError, match="evidence_signing_key"), session.begin_nested():
            session.execute(text(attempt), values)
    assert session.execute(text("SELECT retired_at FROM evidence_signing_key")).scalar() == retired
    assert session.execute(text("SELECT count(*) FROM evidence_signing_key")).scalar() == 1
