"""Collection acts land in the log in their own transaction; tree heads, witnesses, rotation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from debtflow import evidence
from debtflow.case import service as case_service
from debtflow.core.case.lifecycle import CaseStatus, IllegalTransition
from debtflow.core.errors import Conflict
from debtflow.core.evidence.leaf import LeafKind, parse_leaf
from debtflow.core.evidence.merkle import root_hash
from debtflow.core.evidence.tree_head import LocalWitness, TreeHeadError, TreeHeadSigner
from debtflow.evidence.audit import audit
from debtflow.evidence.export import export_case
from debtflow.evidence.heads import (
    SigningKeyError,
    issue_tree_head,
    keyring,
    load_signer,
    rotate_signing_key,
    signed_head_of,
    signing_key_file,
)
from debtflow.evidence.nightly import issue_nightly_head
from debtflow.models import Account, Case, EvidenceLogLeaf, EvidenceTreeHead
from debtflow.payment import service as payment_service
from debtflow.portfolio import service as portfolio_service
from debtflow.promise import service as promise_service
from factories import TODAY, make_creditor, portfolio_rows, write_portfolio

WHEN = datetime(2026, 11, 18, 15, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
T0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


@pytest.fixture
def account(session, tmp_path):
    make_creditor(session)
    path = write_portfolio(tmp_path / "p.csv", portfolio_rows(count=1, seed=9))
    portfolio_service.import_portfolio(session, path=path, creditor_code="TESTBANK", today=TODAY)
    return session.scalars(select(Account)).one()


def _leaves(session):
    rows = session.execute(select(EvidenceLogLeaf).order_by(EvidenceLogLeaf.idx)).scalars()
    return [parse_leaf(row.canonical_bytes) for row in rows]


def test_payment_promise_and_transition_are_logged_in_the_same_transaction(session, account):
    case = session.get(Case, account.case_id)
    promise_service.record(
        session, case_id=case.id, amount_fen=50_000, due=date(2026, 11, 25), made_on=TODAY
    )
    payment = payment_service.book(
        session, account_id=account.id, amount_fen=30_000, paid_at=WHEN, reference="P-77"
    )
    leaves = _leaves(session)
    assert [leaf.kind for leaf in leaves] == [
        LeafKind.PROMISE,
        LeafKind.CASE_STATUS,  # new -> promised
        LeafKind.PAYMENT,
        LeafKind.CASE_STATUS,  # promised -> paying
    ]
    assert {leaf.case_id for leaf in leaves} == {case.id}
    assert leaves[0].payload["amount_fen"] == 50_000
    assert leaves[0].payload["due"] == "2026-11-25"
    assert leaves[2].payload["payment_id"] == payment.id
    assert leaves[2].payload["amount_fen"] == 30_000
    assert leaves[2].occurred_at == WHEN
    assert leaves[3].payload["to_status"] == CaseStatus.PAYING.value
    # booking the same reference again books nothing and logs nothing
    payment_service.book(
        session, account_id=account.id, amount_fen=30_000, paid_at=WHEN, reference="P-77"
    )
    assert len(_leaves(session)) == 4


def test_a_refused_transition_logs_nothing(session, account):
    case_service.transition(session, case_id=account.case_id, to=CaseStatus.SETTLED)
    before = len(_leaves(session))
    with pytest.raises(IllegalTransition, match="from settled to active"):
        case_service.transition(session, case_id=account.case_id, to=CaseStatus.ACTIVE)
    assert len(_leaves(session)) == before


def _fill(session, count, start=0):
    """Append and commit ``count`` leaves (a head signs committed leaves only)."""
    evidence.append_many(
        session,
        [
            evidence.EvidenceAct("message", 5, T0, {"sms": start + i, "text_sha256": "ab" * 32})
            for i in range(count)
        ],
    )
    session.commit()


def test_a_key_file_other_users_can_read_is_refused(session):
    """Anyone who can read the key can sign heads over a forged log; the file the log creates
    is 0600, and one loosened afterwards (or an operator's 0644 copy) is refused."""
    path = signing_key_file()
    key_id = load_signer().key_id  # creates it
    assert path.stat().st_mode & 0o777 == 0o600
    for loose in (0o644, 0o640, 0o604, 0o660):
        path.chmod(loose)
        with pytest.raises(SigningKeyError, match="chmod 600"):
            load_signer()
    path.chmod(0o400)  # the owner alone, read-only: fine
    assert load_signer().key_id == key_id
    path.chmod(0o600)


def test_a_signed_head_covers_the_log_and_verifies_with_the_keyring(session):
    _fill(session, 11)
    issued = issue_tree_head(session, now=T0)
    hashes = [leaf.leaf_hash() for leaf in _leaves(session)]
    assert issued.row.tree_size == 11
    assert issued.row.root_hash == root_hash(hashes)
    stored = session.get(EvidenceTreeHead, issued.row.id)
    keyring(session).verify(signed_head_of(stored))  # round trip through the database
    assert signing_key_file().is_file()
    assert load_signer().key_id == issued.signed.head.key_id
    with pytest.raises(Conflict, match="newer tree head"):
        issue_tree_head(session, now=T0 - timedelta(seconds=1))


def test_nightly_step_signs_only_when_the_log_grew(session):
    _fill(session, 3)
    assert issue_nightly_head(session, TODAY)["tree_heads_issued"] == 1
    assert issue_nightly_head(session, TODAY)["tree_heads_issued"] == 0
    _fill(session, 1, start=3)
    counts = issue_nightly_head(session, TODAY)
    assert counts == {"tree_heads_issued": 1, "evidence_tree_size": 4}


def test_a_signing_seed_from_settings_is_used_and_a_bad_one_refused(session, monkeypatch):
    from debtflow.config import get_settings

    monkeypatch.setenv("DEBTFLOW_EVIDENCE_SIGNING_KEY", "11" * 32)
    get_settings.cache_clear()
    assert load_signer().key_id == TreeHeadSigner.from_seed(b"\x11" * 32).key_id
    with pytest.raises(SigningKeyError, match="DEBTFLOW_EVIDENCE_SIGNING_KEY"):
        rotate_signing_key(session)
    monkeypatch.setenv("DEBTFLOW_EVIDENCE_SIGNING_KEY", "not hex")
    get_settings.cache_clear()
    with pytest.raises(SigningKeyError, match="64 hex digits"):
        load_signer()


def test_rotation_keeps_old_heads_verifiable_and_refuses_the_retired_key(session):
    _fill(session, 5)
    first = issue_tree_head(session, now=T0)
    old_signer = load_signer()
    old_id, new_id = rotate_signing_key(session, now=T0 + timedelta(hours=1))
    assert old_id == first.signed.head.key_id != new_id
    _fill(session, 2, start=5)
    later = issue_tree_head(session, now=T0 + timedelta(hours=2))
    assert later.signed.head.key_id == new_id
    ring = keyring(session)
    ring.verify(first.signed)
    ring.verify(later.signed)
    forged = old_signer.sign(7, later.signed.head.root_hash, T0 + timedelta(hours=3))
    with pytest.raises(TreeHeadError, match="retired"):
        ring.verify(forged)
    with pytest.raises(SigningKeyError, match="retired"):
        issue_tree_head(session, now=T0 + timedelta(hours=3), signer=old_signer)
    assert signing_key_file().with_name(f"log-signing-key.pem.retired-{old_id.hex()}").is_file()
    assert audit(session).clean


def test_a_witness_cosigns_consistent_heads(session):
    _fill(session, 4)
    signer = load_signer()
    issue_tree_head(session, now=T0, signer=signer)  # registers the key
    witness = LocalWitness(Ed25519PrivateKey.generate(), keyring(session))
    first = issue_tree_head(session, now=T0 + timedelta(minutes=1), witnesses=[witness])
    _fill(session, 9, start=4)
    second = issue_tree_head(session, now=T0 + timedelta(minutes=2), witnesses=[witness])
    assert len(first.cosignatures) == len(second.cosignatures) == 1
    assert witness.last_head == second.signed.head
    report = audit(session)
    assert report.clean and report.heads_checked == 3


def _append_uncommitted(session, count, start):
    evidence.append_many(
        session,
        [evidence.EvidenceAct("message", 5, T0, {"sms": start + i}) for i in range(count)],
    )


def test_a_head_signed_after_appends_in_the_same_transaction_covers_committed_leaves_only(
    session,
):
    """The reviewer's fork: a witness co-signed a head over leaves that then rolled back,
    and refused every later head of the log as it really was."""
    _fill(session, 1)
    signer = load_signer()
    issue_tree_head(session, now=T0, signer=signer)
    witness = LocalWitness(Ed25519PrivateKey.generate(), keyring(session))
    issue_tree_head(session, now=T0 + timedelta(minutes=1), witnesses=[witness])
    session.commit()
    _append_uncommitted(session, 1, start=100)  # e.g. the nightly cycle, before step 90
    head = issue_tree_head(session, now=T0 + timedelta(minutes=2), witnesses=[witness])
    assert head.signed.tree_size == 1  # not 2: leaf #1 is not committed
    assert issue_nightly_head(session, TODAY)["tree_heads_issued"] == 0  # already covered
    session.rollback()
    _append_uncommitted(session, 1, start=200)
    session.commit()
    later = issue_tree_head(session, now=T0 + timedelta(minutes=3), witnesses=[witness])
    assert later.signed.tree_size == 2 and len(later.cosignatures) == 1
    session.commit()
    _append_uncommitted(session, 2, start=300)
    savepoint = session.begin_nested()
    _append_uncommitted(session, 1, start=400)
    savepoint.rollback()
    counts = issue_nightly_head(session, TODAY)
    assert counts == {"tree_heads_issued": 0, "evidence_tree_size": 2}
    session.commit()
    assert issue_nightly_head(session, TODAY) == {"tree_heads_issued": 1, "evidence_tree_size": 4}


def test_export_refuses_a_case_whose_leaves_are_not_committed(session):
    _fill(session, 2)
    evidence.append(session, kind="message", case_id=5, occurred_at=T0, payload={"late": 1})
    with pytest.raises(Conflict, match="leaf #2 was appended in this transaction"):
        export_case(session, case_id=5, now=T0)
    session.rollback()
    assert export_case(session, case_id=5, now=T0)  # the two committed leaves
