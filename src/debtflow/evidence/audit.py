"""``audit``: recompute the Merkle tree from the stored leaf bytes and check every stored
row against it — leaf hashes, leaf columns, every stored node, the log size, every signed
tree head and witness co-signature, the signing keys, the tree head anchored outside the
database, and (optionally) the attached files.

Memory: the recomputed tree is held in an :class:`InMemoryNodeStore`, about 64 bytes per
leaf (640 MB at ten million leaves).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from debtflow.core.evidence.anchor import AnchorError
from debtflow.core.evidence.canonical import format_timestamp
from debtflow.core.evidence.file_store import EvidenceFileError, EvidenceFileStore
from debtflow.core.evidence.leaf import LeafFormatError, parse_leaf
from debtflow.core.evidence.merkle import EMPTY_ROOT, ProofError, leaf_hash, verify_consistency
from debtflow.core.evidence.node_store import (
    InMemoryNodeStore,
    append_leaves,
    stored_consistency_proof,
    stored_root_hash,
)
from debtflow.core.evidence.tree_head import (
    TreeHeadError,
    WitnessCosignature,
    key_id_of,
    load_public_key,
    verify_cosignature,
)
from debtflow.evidence.heads import anchor_file, keyring, read_anchor, signed_head_of
from debtflow.evidence.store import LEAF, NODE, committed_tree_size
from debtflow.models import EvidenceCosignature, EvidenceFile, EvidenceSigningKey, EvidenceTreeHead

_CHUNK = 10_000


@dataclass
class AuditReport:
    """What the audit checked and every problem it found (empty when the log is intact)."""

    tree_size: int = 0
    leaves_checked: int = 0
    nodes_checked: int = 0
    heads_checked: int = 0
    files_checked: int = 0
    # the size of the tree head anchored outside the database, None when there is none
    anchored_size: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.problems


def audit(
    session: Session, *, files: EvidenceFileStore | None = None, check_anchor: bool = True
) -> AuditReport:
    """Check the whole stored log; see the module docstring. With ``check_anchor`` the log
    is also measured against the tree head anchored outside the database (:func:`anchor_file`):
    a log cut back below it, or not extending it, is reported.

    On PostgreSQL a fresh session reads one snapshot (REPEATABLE READ), so appends that
    commit while the audit runs are neither half-seen nor reported; SQLite transactions
    read one snapshot anyway.
    """
    if session.get_bind().dialect.name == "postgresql" and not session.in_transaction():
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    report = AuditReport(tree_size=committed_tree_size(session))
    tree = InMemoryNodeStore()
    cited: dict[str, int] = {}  # every file digest the leaves carry -> first leaf citing it
    recomputed = _check_leaves(session, report, tree, cited)
    _check_nodes(session, report, tree, recomputed)
    newest_head_size = _check_heads(session, report, tree, recomputed)
    _check_keys(session, report)
    if check_anchor:
        _check_anchor(session, report, tree, recomputed, newest_head_size)
    if files is not None:
        _check_files(session, report, files, cited)
    return report


def _stored_bytes(
    value: bytes | memoryview | str, *, where: str, what: str, report: AuditReport
) -> bytes:
    """A binary column's value as bytes. SQLite keeps a text value written into a BLOB column
    as text: that is tampering too, reported, and its UTF-8 bytes are checked on."""
    if isinstance(value, str):
        report.problems.append(
            f"{where}: stored {what} is text, not bytes (rewritten outside the log)"
        )
        return value.encode("utf-8", "surrogatepass")
    return bytes(value)


def _check_leaves(
    session: Session, report: AuditReport, tree: InMemoryNodeStore, cited: dict[str, int]
) -> int:
    """Recompute every leaf hash from its bytes into ``tree``; return the leaves counted.
    The SHA-256 of every file a leaf cites goes into ``cited`` (with the first citing leaf)."""
    expected = 0
    batch: list[bytes] = []
    statement = select(
        LEAF.c.idx,
        LEAF.c.leaf_hash,
        LEAF.c.canonical_bytes,
        LEAF.c.kind,
        LEAF.c.case_id,
        LEAF.c.occurred_at,
    ).order_by(LEAF.c.idx)
    result = session.execute(statement.execution_options(yield_per=_CHUNK))
    for row in result:
        index = int(row.idx)
        where = f"leaf #{index}"
        if index != expected:
            report.problems.append(
                f"leaf #{expected}: missing (the next stored leaf is #{index}); "
                "the tree cannot be recomputed past it"
            )
            break
        raw = _stored_bytes(row.canonical_bytes, where=where, what="leaf bytes", report=report)
        hashed = leaf_hash(raw)
        stored_hash = _stored_bytes(row.leaf_hash, where=where, what="leaf hash", report=report)
        if stored_hash != hashed:
            report.problems.append(
                f"{where}: stored leaf hash {stored_hash.hex()[:16]}… does not match "
                f"SHA-256(0x00 ‖ its bytes) {hashed.hex()[:16]}… (leaf bytes or leaf hash altered)"
            )
        try:
            leaf = parse_leaf(raw)
        except LeafFormatError as exc:
            report.problems.append(f"{where}: stored bytes are not a valid leaf: {exc}")
        else:
            for digest in leaf.file_sha256:
                cited.setdefault(digest, index)
            if (leaf.kind.value, leaf.case_id) != (row.kind, int(row.case_id)):
                report.problems.append(
                    f"{where}: columns say kind {row.kind} case {row.case_id}, "
                    f"the leaf says {leaf.kind.value} case {leaf.case_id}"
                )
            elif leaf.occurred_at != row.occurred_at:
                report.problems.append(
                    f"{where}: column occurred_at {row.occurred_at.isoformat()} differs from "
                    f"the leaf's {leaf.occurred_at.isoformat()}"
                )
        batch.append(hashed)
        expected += 1
        report.leaves_checked += 1
        if len(batch) >= _CHUNK:
            append_leaves(tree, expected - len(batch), batch)
            batch = []
    if batch:
        append_leaves(tree, expected - len(batch), batch)
    if expected != report.tree_size:
        report.problems.append(
            f"log state: tree size is {report.tree_size} but {expected} consecutive leaves "
            "are stored"
        )
    return expected


def _check_nodes(
    session: Session, report: AuditReport, tree: InMemoryNodeStore, leaves: int
) -> None:
    level = 1
    while True:
        expected_count = leaves >> level
        statement = (
            select(NODE.c.idx, NODE.c.hash).where(NODE.c.level == level).order_by(NODE.c.idx)
        )
        seen = 0
        result = session.execute(statement.execution_options(yield_per=_CHUNK))
        for index, value in result:
            index = int(index)
            where = f"node (level {level}, index {index})"
            if index >= expected_count:
                report.problems.append(
                    f"{where}: stored beyond the complete subtrees of {leaves} leaves"
                )
                continue
            seen += 1
            report.nodes_checked += 1
            found = tree.get_nodes([(level, index)])
            stored = _stored_bytes(value, where=where, what="hash", report=report)
            if found.get((level, index)) != stored:
                report.problems.append(
                    f"{where}: stored hash {stored.hex()[:16]}… differs from the tree "
                    f"recomputed from the stored leaves (covers leaves {index << level}–"
                    f"{((index + 1) << level) - 1})"
                )
        if seen < expected_count:
            report.problems.append(
                f"nodes at level {level}: {expected_count - seen} of {expected_count} missing"
            )
        if expected_count == 0 and seen == 0:
            extra = session.execute(
                select(func.count()).select_from(NODE).where(NODE.c.level > level)
            ).scalar()
            if extra:
                report.problems.append(f"{extra} node(s) stored above level {level}")
            break
        level += 1


def _check_heads(
    session: Session, report: AuditReport, tree: InMemoryNodeStore, leaves: int
) -> int:
    """Check every stored head; return the largest size a stored head signs."""
    keys = keyring(session)
    heads = session.execute(
        select(EvidenceTreeHead).order_by(EvidenceTreeHead.timestamp_us, EvidenceTreeHead.id)
    ).scalars()
    previous_size = 0
    for row in heads:
        report.heads_checked += 1
        where = f"tree head #{row.id} (size {row.tree_size})"
        try:
            signed = signed_head_of(row)
            keys.verify(signed)
        except TreeHeadError as exc:
            report.problems.append(f"{where}: {exc}")
            continue
        if row.tree_size < previous_size:
            report.problems.append(
                f"{where}: smaller than an earlier head's size {previous_size} (log rewound)"
            )
        previous_size = max(previous_size, row.tree_size)
        if row.tree_size > leaves:
            report.problems.append(f"{where}: covers more leaves than the {leaves} stored")
            continue
        root = EMPTY_ROOT if row.tree_size == 0 else stored_root_hash(tree, row.tree_size)
        if root != row.root_hash:
            report.problems.append(
                f"{where}: signed root {row.root_hash.hex()[:16]}… does not match the tree "
                f"recomputed from the stored leaves ({root.hex()[:16]}…)"
            )
        for cosign in session.execute(
            select(EvidenceCosignature).where(EvidenceCosignature.tree_head_id == row.id)
        ).scalars():
            try:
                verify_cosignature(
                    signed,
                    WitnessCosignature(cosign.witness_key_id, cosign.signature),
                    cosign.witness_public_key,
                )
            except TreeHeadError as exc:
                report.problems.append(f"{where}: witness co-signature #{cosign.id}: {exc}")
    return previous_size


def _check_anchor(
    session: Session,
    report: AuditReport,
    tree: InMemoryNodeStore,
    leaves: int,
    newest_head_size: int,
) -> None:
    """The stored log against the newest head anchored outside the database: deleting the
    newest leaves together with the heads that cover them leaves every stored row
    consistent, but not the anchor."""
    path = anchor_file()
    try:
        anchored = read_anchor(path)
    except (AnchorError, OSError) as exc:
        report.problems.append(f"tree head anchor {path}: unreadable: {exc}")
        return
    if anchored is None:
        return
    report.anchored_size = size = anchored.tree_size
    try:
        keyring(session).verify(anchored)
    except TreeHeadError as exc:
        report.problems.append(
            f"tree head anchor {path} (size {size}): {exc} (the anchor file or the signing "
            "keys were altered)"
        )
        return
    what = (
        "the tree head anchored outside the database "
        f"(size {size} at {format_timestamp(anchored.head.timestamp)})"
    )
    if leaves < size:
        report.problems.append(
            f"the log was cut back below {what}: {leaves} consecutive leaves are stored"
        )
        return
    if newest_head_size < size:
        report.problems.append(
            f"the newest tree head in the database has size {newest_head_size}, smaller than "
            f"{what}: tree heads were removed"
        )
    if size == 0:
        return
    try:
        verify_consistency(
            size,
            leaves,
            anchored.root_hash,
            stored_root_hash(tree, leaves),
            stored_consistency_proof(tree, size, leaves) if size < leaves else [],
        )
    except ProofError as exc:
        report.problems.append(
            f"the stored leaves do not extend {what}: {exc} (leaves before #{size} rewritten)"
        )


def _check_keys(session: Session, report: AuditReport) -> None:
    for row in session.execute(select(EvidenceSigningKey)).scalars():
        try:
            key_id = key_id_of(load_public_key(row.public_key))
        except TreeHeadError as exc:
            report.problems.append(f"signing key {row.key_id.hex()}: {exc}")
            continue
        if key_id != row.key_id:
            report.problems.append(
                f"signing key {row.key_id.hex()}: the public key's id is {key_id.hex()}"
            )


def _check_files(
    session: Session, report: AuditReport, files: EvidenceFileStore, cited: Mapping[str, int]
) -> None:
    """Every file the leaves cite — by the SHA-256 inside the signed leaf bytes, not by the
    unguarded ``evidence_file`` table — must be stored with that SHA-256; its row there must
    exist and agree on the size."""
    rows = {row.sha256: row for row in session.execute(select(EvidenceFile)).scalars()}
    for digest, index in sorted(cited.items(), key=lambda item: (item[1], item[0])):
        report.files_checked += 1
        where = f"file {digest} (cited by leaf #{index})"
        try:
            content = files.read(digest)
        except EvidenceFileError as exc:
            report.problems.append(f"{where}: {exc}")
            continue
        row = rows.get(digest)
        if row is None:
            report.problems.append(f"{where}: no evidence_file row (deleted outside the log)")
        elif len(content) != row.size:
            report.problems.append(f"{where}: size {len(content)} but {row.size} recorded")
