"""`audit` finds every altered row — an attacker with database access drops the guards
first — and says what and where."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from debtflow import evidence
from debtflow.core.evidence.anchor import anchor_bytes
from debtflow.core.evidence.file_store import sha256_hex
from debtflow.core.evidence.leaf import EvidenceLeaf, LeafKind
from debtflow.core.evidence.tree_head import SignedTreeHead
from debtflow.evidence.audit import audit
from debtflow.evidence.export import export_case
from debtflow.evidence.heads import (
    anchor_file,
    issue_tree_head,
    load_signer,
    read_anchor,
    write_anchor,
)
from debtflow.evidence.log import AttachedFile, InvalidEvidence, file_store

T0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


@pytest.fixture
def log(session):
    """A log of 21 leaves (one with a file) and two signed heads (sizes 13 and 21)."""
    acts = [
        evidence.EvidenceAct(
            LeafKind.CONTACT_ATTEMPT, 4 + i % 3, T0 + timedelta(minutes=i), {"n": i}
        )
        for i in range(13)
    ]
    evidence.append_many(session, acts)
    session.commit()  # a head signs committed leaves only
    first = issue_tree_head(session, now=T0 + timedelta(hours=1))
    evidence.append(
        session,
        kind="recording",
        case_id=4,
        occurred_at=T0,
        payload={"seconds": 95},
        files=[AttachedFile(b"RIFF....WAVE call", "audio/wav")],
    )
    evidence.append_many(session, acts[:7])
    session.commit()
    second = issue_tree_head(session, now=T0 + timedelta(hours=2))
    assert audit(session, files=file_store()).clean
    return first.row.id, second.row.id


def _sql(session, statement, **values):
    session.execute(text(statement), values)


def _forged_leaf(n: int) -> bytes:
    return EvidenceLeaf(LeafKind.PAYMENT, 4, T0, {"amount_fen": n}).canonical_bytes()


def test_altered_leaf_bytes_are_found(session, log, drop_guards):
    drop_guards(session)
    _sql(session, "UPDATE evidence_leaf SET canonical_bytes = :v WHERE idx = 5", v=_forged_leaf(1))
    problems = audit(session).problems
    assert any(p.startswith("leaf #5: stored leaf hash") for p in problems)
    assert any(p.startswith("leaf #5: columns say kind contact_attempt") for p in problems)


def test_an_altered_leaf_hash_is_found(session, log, drop_guards):
    drop_guards(session)
    _sql(session, "UPDATE evidence_leaf SET leaf_hash = :v WHERE idx = 17", v=b"\x07" * 32)
    problems = audit(session).problems
    assert problems and problems[0].startswith("leaf #17: stored leaf hash")


def test_a_consistently_rewritten_leaf_is_caught_by_the_nodes_and_the_signed_heads(
    session, log, drop_guards
):
    first_head, second_head = log
    from debtflow.core.evidence.merkle import leaf_hash

    forged = _forged_leaf(999_999)
    drop_guards(session)
    _sql(
        session,
        "UPDATE evidence_leaf SET canonical_bytes = :b, leaf_hash = :h, kind = 'payment', "
        "case_id = 4 WHERE idx = 2",
        b=forged,
        h=leaf_hash(forged),
    )
    problems = audit(session).problems
    assert any(p.startswith("node (level 1, index 1): stored hash") for p in problems)
    assert any(p.startswith(f"tree head #{first_head} (size 13): signed root") for p in problems)
    assert any(p.startswith(f"tree head #{second_head} (size 21): signed root") for p in problems)


def test_an_altered_node_is_found(session, log, drop_guards):
    drop_guards(session)
    _sql(session, "UPDATE evidence_node SET hash = :v WHERE level = 2 AND idx = 3", v=b"\0" * 32)
    problems = audit(session).problems
    assert len(problems) == 1
    assert problems[0].startswith("node (level 2, index 3): stored hash 0000")
    assert "covers leaves 12–15" in problems[0]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("root_hash", b"\x01" * 32),
        ("tree_size", 20),
        ("timestamp_us", 1),
        ("signature", b"\x02" * 64),
    ],
)
def test_an_altered_tree_head_is_found(session, log, drop_guards, column, value):
    _, second_head = log
    drop_guards(session)
    _sql(
        session,
        f"UPDATE evidence_tree_head SET {column} = :v WHERE id = :i",
        v=value,
        i=second_head,
    )
    problems = audit(session).problems
    assert problems == [
        f"tree head #{second_head} (size {20 if column == 'tree_size' else 21}): "
        "log signature does not verify"
    ]


def test_deleted_leaves_and_a_rewound_log_are_found(session, log, drop_guards):
    drop_guards(session)
    _sql(session, "DELETE FROM evidence_leaf WHERE idx = 20")
    _sql(session, "UPDATE evidence_log_state SET tree_size = 20")
    problems = audit(session).problems
    assert any("covers more leaves than the 20 stored" in p for p in problems)
    _sql(session, "DELETE FROM evidence_leaf WHERE idx = 8")
    problems = audit(session).problems
    assert any(p.startswith("leaf #8: missing") for p in problems)
    assert any(p.startswith("log state: tree size is 20 but 8") for p in problems)


def test_an_altered_stored_file_is_found(session, log):
    from sqlalchemy import select

    from debtflow.models import EvidenceFile

    digest = session.execute(select(EvidenceFile.sha256)).scalar_one()
    path = file_store().path_of(digest)
    path.write_bytes(b"RIFF....WAVE edited")
    problems = audit(session, files=file_store()).problems
    assert problems == [
        f"file {digest} (cited by leaf #13): stored file {path} no longer matches its "
        f"SHA-256 {digest}"
    ]


@pytest.mark.parametrize(
    ("statement", "found"),
    [
        ("UPDATE evidence_leaf SET canonical_bytes = :t WHERE idx = 5", "leaf #5: stored "),
        ("UPDATE evidence_leaf SET leaf_hash = :t WHERE idx = 5", "leaf #5: stored leaf hash"),
        (
            "UPDATE evidence_node SET hash = :t WHERE level = 2 AND idx = 3",
            "node (level 2, index 3): stored hash",
        ),
        ("UPDATE evidence_tree_head SET root_hash = :t", "tree head #"),
        ("UPDATE evidence_tree_head SET signature = :t", "tree head #"),
    ],
)
def test_bytes_rewritten_as_text_are_found_not_a_crash(session, log, drop_guards, statement, found):
    """SQLite stores a text value in a BLOB column as text; PostgreSQL casts it to bytea."""
    drop_guards(session)
    _sql(session, statement, t='{"forged": "as text"}')
    problems = audit(session).problems
    assert any(p.startswith(found) for p in problems), problems
    if session.get_bind().dialect.name == "sqlite" and not found.startswith("tree head"):
        assert any(p.endswith("is text, not bytes (rewritten outside the log)") for p in problems)


def _cut_back_to(session, size: int) -> None:
    """The reviewer's attack: delete the newest leaves, the nodes over them and every head
    that covers them, and rewind the size — every remaining row is consistent."""
    _sql(session, "DELETE FROM evidence_cosignature")
    _sql(session, "DELETE FROM evidence_tree_head WHERE tree_size > :n", n=size)
    _sql(session, "DELETE FROM evidence_leaf WHERE idx >= :n", n=size)
    for level in range(1, 6):
        _sql(
            session,
            "DELETE FROM evidence_node WHERE level = :l AND (idx + 1) * :w > :n",
            l=level,
            w=1 << level,
            n=size,
        )
    _sql(session, "UPDATE evidence_log_state SET tree_size = :n", n=size)


def test_a_log_cut_back_with_its_heads_is_caught_by_the_anchor(session, log, drop_guards):
    first_head, second_head = log
    session.commit()  # the heads commit: the newest (size 21) is anchored outside the database
    anchored = read_anchor(anchor_file())
    assert anchored is not None and anchored.tree_size == 21
    assert stat.S_IMODE(anchor_file().stat().st_mode) == 0o600
    drop_guards(session)
    _cut_back_to(session, 13)
    report = audit(session, check_anchor=False)
    assert report.clean  # what the audit saw before the anchor: nothing
    report = audit(session)
    assert report.anchored_size == 21
    assert report.problems == [
        "the log was cut back below the tree head anchored outside the database "
        "(size 21 at 2026-11-20T03:00:00.000000Z): 13 consecutive leaves are stored"
    ]


def test_removed_heads_and_a_rewritten_prefix_are_caught_by_the_anchor(session, log, drop_guards):
    _, second_head = log
    session.commit()
    drop_guards(session)
    _sql(session, "DELETE FROM evidence_tree_head WHERE id = :i", i=second_head)
    assert audit(session).problems == [
        "the newest tree head in the database has size 13, smaller than the tree head "
        "anchored outside the database (size 21 at 2026-11-20T03:00:00.000000Z): tree heads "
        "were removed"
    ]
    # an anchor whose tree the stored leaves do not extend (as if leaves before #21 changed)
    forged = load_signer().sign(21, b"\x09" * 32, T0 + timedelta(hours=3))
    assert write_anchor(anchor_file(), forged)
    problems = audit(session).problems
    assert any(
        p.startswith("the stored leaves do not extend the tree head anchored outside the database")
        for p in problems
    ), problems
    # an anchor whose signature does not verify
    anchor_file().write_bytes(anchor_bytes(SignedTreeHead(forged.head, b"\x00" * 64)))
    problems = audit(session).problems
    assert any("log signature does not verify (the anchor file" in p for p in problems), problems
    anchor_file().write_bytes(b"{}")
    assert any(
        p.endswith("unreadable: not a debtflow-tree-head-anchor/1 document")
        for p in audit(session).problems
    )


def test_a_head_is_anchored_only_when_its_transaction_commits(session):
    evidence.append_many(
        session, [evidence.EvidenceAct(LeafKind.PAYMENT, 4, T0, {"amount_fen": 1})] * 3
    )
    session.commit()
    savepoint = session.begin_nested()
    issue_tree_head(session, now=T0 + timedelta(hours=1))
    savepoint.rollback()
    issue_tree_head(session, now=T0 + timedelta(hours=2))
    session.rollback()
    assert read_anchor(anchor_file()) is None
    first = issue_tree_head(session, now=T0 + timedelta(hours=3))
    with session.begin_nested():
        issue_tree_head(session, now=T0 + timedelta(hours=4))
    savepoint = session.begin_nested()
    issue_tree_head(session, now=T0 + timedelta(hours=5))
    savepoint.rollback()  # that head is gone: it is not anchored
    session.commit()
    anchored = read_anchor(anchor_file())
    assert anchored is not None and anchored.head.timestamp == T0 + timedelta(hours=4)
    assert anchored.tree_size == first.signed.tree_size == 3
    # an older head never replaces a newer anchor
    assert not write_anchor(anchor_file(), first.signed)
    assert read_anchor(anchor_file()) == anchored
    session.begin()  # the fixture's connection keeps its outer transaction
    assert audit(session).clean


RECORDING = b"RIFF....WAVE call"


def test_files_are_checked_by_the_digests_inside_the_leaves_not_the_file_table(session, log):
    """Deleting the unguarded evidence_file row together with the stored file used to leave
    nothing to check (files_checked=0, clean)."""
    digest = sha256_hex(RECORDING)
    _sql(session, "DELETE FROM evidence_file")
    report = audit(session, files=file_store())
    assert report.files_checked == 1
    assert report.problems == [
        f"file {digest} (cited by leaf #13): no evidence_file row (deleted outside the log)"
    ]
    file_store().path_of(digest).unlink()
    report = audit(session, files=file_store())
    assert report.files_checked == 1
    assert report.problems == [
        f"file {digest} (cited by leaf #13): no stored file with SHA-256 {digest}"
    ]


def test_export_names_every_missing_or_altered_file(session):
    contents = [b"first recording", b"second recording", b"photo"]
    for i, content in enumerate(contents):
        evidence.append(
            session,
            kind="recording",
            case_id=9,
            occurred_at=T0 + timedelta(minutes=i),
            payload={"n": i},
            files=[AttachedFile(content, "audio/wav")],
        )
    session.commit()
    store = file_store()
    store.path_of(sha256_hex(contents[0])).unlink()
    store.path_of(sha256_hex(contents[2])).write_bytes(b"edited")
    with pytest.raises(InvalidEvidence) as raised:
        export_case(session, case_id=9, now=T0 + timedelta(hours=1))
    message = str(raised.value)
    assert "2 attached file(s) missing or altered" in message
    assert f"leaf #0: no stored file with SHA-256 {sha256_hex(contents[0])}" in message
    assert "leaf #2: stored file" in message and sha256_hex(contents[2]) in message
    assert sha256_hex(contents[1]) not in message
