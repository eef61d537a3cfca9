"""The Merkle tree in SQL: a :class:`NodeStore` over ``evidence_leaf`` and ``evidence_node``,
and the log-state row that serialises appends.

Level 0 nodes are the leaf hashes in ``evidence_leaf`` (so a leaf hash is stored once);
levels 1 and up live in ``evidence_node`` keyed ``(level, idx)``. A read of any set of
nodes is one SQL statement.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import BigInteger, Table, Update, bindparam, event, select, update
from sqlalchemy.orm import Session, SessionTransaction

from debtflow.core.evidence.node_store import NodeKey
from debtflow.db import BuiltOnce
from debtflow.models import EvidenceLogLeaf, EvidenceLogNode, EvidenceLogState

LEAF = cast(Table, EvidenceLogLeaf.__table__)
NODE = cast(Table, EvidenceLogNode.__table__)
STATE = cast(Table, EvidenceLogState.__table__)
STATE_ID = 1


class SqlNodeStore:
    """Complete-subtree hashes read from and written to the database of ``session``.

    ``pending_leaves`` maps the indices of leaf rows being inserted in this append to their
    hashes: the level-0 writes :func:`append_leaves` makes are checked against them (the
    leaf rows themselves are inserted by the caller, with their bytes).
    """

    def __init__(self, session: Session, pending_leaves: Mapping[int, bytes] | None = None):
        self._session = session
        self._pending = dict(pending_leaves or {})
        self.reads = 0

    def get_nodes(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        self.reads += 1
        by_level: dict[int, list[int]] = defaultdict(list)
        for level, index in keys:
            by_level[level].append(index)
        found: dict[NodeKey, bytes] = {}
        leaf_indices: list[int] = []
        for index in by_level.pop(0, []):
            if index in self._pending:
                found[(0, index)] = self._pending[index]
            else:
                leaf_indices.append(index)
        # node keys are ints computed here, so the statement is built as plain SQL: it skips
        # SQLAlchemy's compiler, whose cost would dominate a proof (about 40 nodes, one read)
        parts = []
        if leaf_indices:
            parts.append(
                "SELECT 0 AS level, idx, leaf_hash FROM evidence_leaf WHERE idx IN ("
                + ",".join(str(int(index)) for index in leaf_indices)
                + ")"
            )
        if by_level:
            parts.append(
                "SELECT level, idx, hash FROM evidence_node WHERE "
                + " OR ".join(
                    f"(level = {int(level)} AND idx IN ("
                    + ",".join(str(int(index)) for index in indices)
                    + "))"
                    for level, indices in sorted(by_level.items())
                )
            )
        if not parts:
            return found
        for level, index, value in self._session.connection().exec_driver_sql(
            " UNION ALL ".join(parts)
        ):
            found[(int(level), int(index))] = bytes(value)
        return found

    def put_nodes(self, nodes: Sequence[tuple[NodeKey, bytes]]) -> None:
        rows = []
        for (level, index), value in nodes:
            if level == 0:
                if self._pending.get(index) != value:
                    raise ValueError(f"leaf {index} is not a leaf row inserted by this append")
                continue
            rows.append((level, index, value))
        if rows:
            insert_rows(self._session, "evidence_node", ("level", "idx", "hash"), rows)


def insert_rows(
    session: Session, table: str, columns: Sequence[str], rows: Sequence[tuple[object, ...]]
) -> None:
    """Bulk insert straight through the driver (COPY on PostgreSQL, executemany on SQLite):
    the log's hot path skips SQLAlchemy's per-row parameter processing, so values must
    already be in the driver's types."""
    connection = session.connection()
    names = ", ".join(columns)
    if connection.dialect.name == "postgresql":
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    statement = f"INSERT INTO {table} ({names}) VALUES ({', '.join([mark] * len(columns))})"
    connection.exec_driver_sql(statement, list(rows))


def driver_timestamp(dialect: str, moment: datetime) -> object:
    """``moment`` as the driver stores a :class:`UTCDateTime` column (naive UTC text on SQLite)."""
    utc = moment.astimezone(UTC)
    if dialect == "sqlite":
        return utc.strftime("%Y-%m-%d %H:%M:%S.%f")
    return utc


def lock_tree_size(session: Session) -> int:
    """Lock the log-state row for this transaction and return the committed tree size.

    The no-op ``UPDATE … RETURNING`` takes the row lock on PostgreSQL (a concurrent append
    waits, then reads the size the other committed) and SQLite's database write lock, so
    appends are serialised on both.
    """
    statement = (
        update(STATE)
        .where(STATE.c.id == STATE_ID)
        .values(tree_size=STATE.c.tree_size)
        .returning(STATE.c.tree_size)
    )
    size = session.execute(statement).scalar_one_or_none()
    if size is None:
        raise RuntimeError("the evidence log-state row is missing: run the migrations")
    return int(size)


@BuiltOnce
def _reserve(dialect: str) -> Update:
    return (
        update(STATE)
        .where(STATE.c.id == STATE_ID)
        .values(tree_size=STATE.c.tree_size + bindparam("count", type_=BigInteger))
        .returning(STATE.c.tree_size)
    )


def reserve_leaves(session: Session, count: int) -> int:
    """Lock the log-state row for this transaction, advance the tree size by ``count`` and
    return the size before — the index of the first reserved leaf.

    One ``UPDATE … SET tree_size = tree_size + count RETURNING`` does what
    :func:`lock_tree_size` followed by :func:`set_tree_size` did: the row lock serialises
    appends as before, and the new size becomes visible only with the rest of the
    transaction (leaves and nodes), so a transaction that fails after the reservation rolls
    the size back with them.
    """
    if count < 1:
        raise ValueError(f"reserve at least one leaf, not {count}")
    size = session.execute(_reserve(session), {"count": count}).scalar_one_or_none()
    if size is None:
        raise RuntimeError("the evidence log-state row is missing: run the migrations")
    first = int(size) - count
    # the first reservation of a transaction sees the committed size (it waited for the
    # lock): everything below it is committed, everything from it on is this transaction's
    session.info.setdefault(_APPENDED_FROM, first)
    return first


# session.info key: the committed tree size when the session's transaction first appended
_APPENDED_FROM = "debtflow.evidence.appended_from"


def appended_from(session: Session) -> int | None:
    """The tree size before this transaction's first append (the leaves below it are
    committed), or None when the transaction has not appended to the log."""
    value = session.info.get(_APPENDED_FROM)
    return None if value is None else int(value)


@event.listens_for(Session, "after_transaction_end")
def _forget_appended_from(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_APPENDED_FROM, None)


def committed_tree_size(session: Session) -> int:
    size = session.execute(select(STATE.c.tree_size).where(STATE.c.id == STATE_ID)).scalar()
    return int(size or 0)
