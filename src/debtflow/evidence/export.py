"""The court package of one case: every leaf of the case with its inclusion proof against a
signed tree head, the log's public keys, witness co-signatures and the attached files."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from debtflow.core.errors import Conflict, NotFound
from debtflow.core.evidence.file_store import EvidenceFileError, EvidenceFileStore
from debtflow.core.evidence.leaf import parse_leaf
from debtflow.core.evidence.node_store import stored_inclusion_proof
from debtflow.core.evidence.package import (
    PackagedLeaf,
    PackageError,
    WitnessEvidence,
    build_evidence_package,
)
from debtflow.core.evidence.tree_head import WitnessCosignature
from debtflow.db import utcnow
from debtflow.evidence.heads import (
    cosignatures_of,
    issue_tree_head,
    keyring,
    latest_head,
    signed_head_of,
)
from debtflow.evidence.log import InvalidEvidence, file_store
from debtflow.evidence.store import LEAF, SqlNodeStore


class NoEvidence(NotFound):
    code = "no_evidence"


def export_case(
    session: Session,
    *,
    case_id: int,
    files: EvidenceFileStore | None = None,
    now: datetime | None = None,
) -> bytes:
    """The evidence package (ZIP bytes) of ``case_id``.

    Uses the latest signed tree head when it covers every leaf of the case, otherwise signs
    a new head first (in the caller's transaction). A head signs committed leaves only, so a
    case with leaves appended in the caller's uncommitted transaction raises ``Conflict``.
    """
    moment = now or utcnow()
    rows = session.execute(
        select(LEAF.c.idx, LEAF.c.canonical_bytes)
        .where(LEAF.c.case_id == case_id)
        .order_by(LEAF.c.idx)
    ).all()
    if not rows:
        raise NoEvidence(f"case {case_id} has no evidence in the log")
    head_row = latest_head(session)
    if head_row is None or head_row.tree_size <= rows[-1].idx:
        head_row = issue_tree_head(session, now=moment).row
        if head_row.tree_size <= rows[-1].idx:  # heads sign committed leaves only
            raise Conflict(
                f"case {case_id}: leaf #{rows[-1].idx} was appended in this transaction and "
                "is not committed yet; commit, then export"
            )
    signed = signed_head_of(head_row)
    store = SqlNodeStore(session)
    leaves = [
        PackagedLeaf(
            index=int(row.idx),
            canonical_bytes=bytes(row.canonical_bytes),
            inclusion_proof=stored_inclusion_proof(store, int(row.idx), signed.tree_size),
        )
        for row in rows
    ]
    files = files or file_store()
    attached: dict[str, bytes] = {}
    unreadable: dict[str, str] = {}
    for leaf in leaves:
        for digest in parse_leaf(leaf.canonical_bytes).file_sha256:
            if digest not in attached and digest not in unreadable:
                try:
                    attached[digest] = files.read(digest)
                except EvidenceFileError as exc:
                    unreadable[digest] = f"leaf #{leaf.index}: {exc}"
    if unreadable:
        raise InvalidEvidence(
            f"case {case_id}: {len(unreadable)} attached file(s) missing or altered — "
            + "; ".join(unreadable.values())
        )
    witnesses = [
        WitnessEvidence(
            public_key=row.witness_public_key,
            cosignature=WitnessCosignature(row.witness_key_id, row.signature),
        )
        for row in cosignatures_of(session, head_row.id)
    ]
    try:
        return build_evidence_package(
            case_id=case_id,
            leaves=leaves,
            signed_head=signed,
            keyring=keyring(session),
            files=attached,
            exported_at=moment,
            witnesses=witnesses,
        )
    except PackageError as exc:
        raise InvalidEvidence(
            f"case {case_id}: the stored log does not make a valid package ({exc}); "
            "run `debtflow evidence audit`"
        ) from None
