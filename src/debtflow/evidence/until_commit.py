"""Work a session keeps until its transaction commits (``session.info[key]``: a list of
``(item, the savepoint it was recorded in or None)``): dropped with the savepoint or the
transaction that rolls back, so only what committed is ever acted on. The evidence log's
acts waiting to be appended and the tree heads waiting to be anchored both keep theirs so."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction


def record(session: Session, key: str, item: Any) -> None:
    """Keep ``item`` under ``key`` until the transaction ends."""
    session.info.setdefault(key, []).append((item, session.get_nested_transaction()))


def forget_on_rollback(key: str) -> None:
    """Drop the items kept under ``key`` when the savepoint they were recorded in (or one
    around it) rolls back, and all of them when the transaction ends (after its commit
    listeners have acted on them)."""

    @event.listens_for(Session, "after_soft_rollback")
    def _drop_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
        kept = session.info.get(key)
        if not kept or not previous_transaction.nested:
            return  # the whole transaction's rollback: dropped when it ends

        def inside_rolled_back(recorded_in: SessionTransaction | None) -> bool:
            while recorded_in is not None:
                if recorded_in is previous_transaction:
                    return True
                recorded_in = recorded_in.parent
            return False

        kept[:] = [entry for entry in kept if not inside_rolled_back(entry[1])]

    @event.listens_for(Session, "after_transaction_end")
    def _forget(session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None:  # over: its commit listeners acted on what committed
            session.info.pop(key, None)
