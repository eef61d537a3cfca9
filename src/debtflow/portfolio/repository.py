"""All SQL of portfolio intake: bulk writes keyed by the natural keys of each table.

Rows arrive prepared (``debtflow.portfolio.preparation``): values in the driver's form,
personal data already encrypted and found by blind index. Rows of new debtors and new
accounts are inserted with ids drawn up front — on PostgreSQL a COPY straight into the
table, on SQLite one executemany — so no id is looked up afterwards; rows that may exist
already go through one ``INSERT … ON CONFLICT`` per table and chunk.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from debtflow.bulk import (
    converter,
    insert_rows,
    large_page_cache,
    quote,
    reserve_ids,
    select_in,
    upsert_rows,
)
from debtflow.core.case.lifecycle import FINAL_STATUSES
from debtflow.models import Creditor
from debtflow.models.enums import CaseStatus, Channel
from debtflow.portfolio.preparation import (
    ACCOUNT_COLUMNS,
    ADDRESS_COLUMNS,
    CONTACT_COLUMNS,
    DEBTOR_COLUMNS,
    PreparedRow,
    stated_columns,
)

CASE_COLUMNS = (
    "creditor_id",
    "debtor_id",
    "status",
    "bucket",
    "days_past_due",
    "outstanding_fen",
    "channel",
    "overdue_cause",
    "opened_at",
    "updated_at",
)
# what a re-import may change: what the file states (``stated_columns``: a column the file
# leaves out keeps what is stored), never the keys, the creation time or the ageing state
# the nightly cycle keeps
DEBTOR_UPDATES = [
    c for c in DEBTOR_COLUMNS if c not in ("id_number_encrypted", "id_number_index", "created_at")
]
ADDRESS_UPDATES = ["province", "city", "line", "latitude", "longitude"]
CONTACT_UPDATES = ["party", "contact_name", "relation", "authorised"]
ACCOUNT_UPDATES = [
    c
    for c in ACCOUNT_COLUMNS
    if c
    not in (
        "creditor_id",
        "account_number",
        "days_past_due",
        "bucket",
        "overdue_fen",
        "imported_at",
    )
]
# an existing case keeps its status and history; its overdue cause changes only when the
# file states one (never back to ``unknown``)
CASE_UPDATES = {
    "overdue_cause": "CASE WHEN excluded.overdue_cause = 'unknown' "
    'THEN "case".overdue_cause ELSE excluded.overdue_cause END'
}


class Written(NamedTuple):
    debtor_ids: list[int]
    case_ids: list[int]
    # cases of debtors already on file: they may hold other accounts, so their balance is
    # not this chunk's sum (refresh_case_outstanding); a new case starts with that sum
    stale_case_ids: list[int]


@contextmanager
def bulk_writing(session: Session) -> Iterator[None]:
    """What an import's writes run under: on SQLite a larger page cache."""
    with large_page_cache(session):
        yield


def creditor_by_code(session: Session, *, code: str) -> Creditor | None:
    return session.scalars(select(Creditor).where(Creditor.code == code)).one_or_none()


def _excluded(columns: Sequence[str]) -> dict[str, str]:
    return {c: "excluded." + quote(c) for c in columns}


def _mark(session: Session) -> str:
    return "%s" if session.get_bind().dialect.name == "postgresql" else "?"


def names_on_file(session: Session, *, id_indexes: Sequence[str]) -> dict[str, str]:
    """{ID number blind index: stored name} for the debtors already known."""
    rows = select_in(
        session,
        "SELECT id_number_index, name FROM debtor WHERE id_number_index {match}",
        id_indexes,
    )
    return {index: name for index, name in rows}


def final_cases(
    session: Session, *, creditor_id: int, id_indexes: Sequence[str]
) -> dict[str, tuple[int, str]]:
    """{ID number blind index: (case id, status)} for the debtors among ``id_indexes``
    whose case at this creditor is in a final status (settled, closed, written off)."""
    if not id_indexes:
        return {}
    finals = ", ".join(f"'{s.value}'" for s in sorted(FINAL_STATUSES))
    rows = select_in(
        session,
        'SELECT d.id_number_index, c.id, c.status FROM "case" c '
        "JOIN debtor d ON d.id = c.debtor_id "
        f"WHERE c.creditor_id = {_mark(session)} AND c.status IN ({finals}) "
        "AND d.id_number_index {match}",
        id_indexes,
        before=(creditor_id,),
    )
    return {index: (case_id, status) for index, case_id, status in rows}


def accounts_on_file(
    session: Session, *, creditor_id: int, account_numbers: Sequence[str]
) -> dict[str, tuple[str, str]]:
    """{account number: (owner's ID blind index, owner's encrypted ID number)} for this
    creditor's known accounts."""
    rows = select_in(
        session,
        "SELECT a.account_number, d.id_number_index, d.id_number_encrypted FROM account a "
        "JOIN debtor d ON d.id = a.debtor_id "
        f"WHERE a.creditor_id = {_mark(session)} AND a.account_number {{match}}",
        account_numbers,
        before=(creditor_id,),
    )
    return {number: (index, token) for number, index, token in rows}


def write_rows(
    session: Session,
    *,
    creditor_id: int,
    rows: Sequence[PreparedRow],
    known_debtors: Collection[str],
    known_accounts: Collection[str],
    stamp: datetime,
    present: Collection[str],
) -> Written:
    """Create or update the debtors, addresses, contact points, cases and accounts of
    ``rows`` (unique on account number). ``known_debtors`` (ID blind indexes) and
    ``known_accounts`` (account numbers) are those already in the database: their rows are
    upserted; the others are new and inserted with ids drawn up front, so no id has to be
    looked up. The last row of a debtor gives its details. ``present`` (the canonical
    columns of the file) says what the file states: an existing row's other columns keep
    what is stored."""
    if not rows:
        return Written([], [], [])
    by_index: dict[str, PreparedRow] = {}
    for row in rows:
        by_index[row.id_index] = row
    new = [x for x in by_index if x not in known_debtors]
    old = [x for x in by_index if x in known_debtors]

    debtor_of = dict(zip(new, reserve_ids(session, "debtor", len(new)), strict=True))
    insert_rows(
        session,
        "debtor",
        ("id", *DEBTOR_COLUMNS),
        [(debtor_of[x], *by_index[x].debtor) for x in new],
    )
    debtor_of.update(
        _upsert_returning(
            session,
            "debtor",
            DEBTOR_COLUMNS,
            [by_index[x].debtor for x in old],
            keys=["id_number_index"],
            set_sql=_excluded(stated_columns(DEBTOR_UPDATES, present)),
            returning=("id_number_index", "id"),
            lookup="SELECT id_number_index, id FROM debtor WHERE id_number_index {match}",
            values=old,
        )
    )
    fresh = {debtor_of[x] for x in new}

    causes: dict[int, str] = {}
    owed: dict[int, int] = {}
    contacts: dict[tuple[int, str, str], tuple[Any, ...]] = {}
    for row in rows:
        debtor_id = debtor_of[row.id_index]
        for contact in row.contacts:
            contacts[(debtor_id, contact[0], contact[1])] = (debtor_id, *contact)
        if row.overdue_cause != "unknown" or debtor_id not in causes:
            causes[debtor_id] = row.overdue_cause
        owed[debtor_id] = owed.get(debtor_id, 0) + row.outstanding_fen
    _insert_or_upsert(
        session,
        "address",
        ADDRESS_COLUMNS,
        [(debtor_of[x], *by_index[x].address) for x in by_index],
        fresh,
        keys=["debtor_id", "kind"],
        set_sql=_excluded(stated_columns(ADDRESS_UPDATES, present)),
    )
    _insert_or_upsert(
        session,
        "contact_point",
        CONTACT_COLUMNS,
        list(contacts.values()),
        fresh,
        keys=["debtor_id", "kind", "value_index"],
        set_sql=_excluded(stated_columns(CONTACT_UPDATES, present)),
    )

    convert = converter(stamp, session.get_bind().dialect.name)
    when = convert(stamp) if convert is not None else stamp
    status, channel = CaseStatus.NEW.value, Channel.ONLINE.value
    # a new case starts with its accounts' balance; an existing one is refreshed at the end
    cases = {
        debtor_id: (creditor_id, debtor_id, status, "M0", 0, owed[debtor_id], channel, cause)
        + (when, when)
        for debtor_id, cause in causes.items()
    }
    new_cases = [d for d in cases if d in fresh]
    old_cases = [d for d in cases if d not in fresh]
    case_of = dict(zip(new_cases, reserve_ids(session, "case", len(new_cases)), strict=True))
    insert_rows(
        session, "case", ("id", *CASE_COLUMNS), [(case_of[d], *cases[d]) for d in new_cases]
    )
    case_of.update(
        _upsert_returning(
            session,
            "case",
            CASE_COLUMNS,
            [cases[d] for d in old_cases],
            keys=["creditor_id", "debtor_id"],
            set_sql=CASE_UPDATES,
            returning=("debtor_id", "id"),
            lookup=(
                f'SELECT debtor_id, id FROM "case" WHERE creditor_id = {_mark(session)} '
                "AND debtor_id {match}"
            ),
            values=old_cases,
            before=(creditor_id,),
        )
    )

    accounts = []
    for row in rows:
        debtor_id = debtor_of[row.id_index]
        accounts.append((creditor_id, debtor_id, case_of[debtor_id], *row.account))
    insert_rows(
        session, "account", ACCOUNT_COLUMNS, [a for a in accounts if a[3] not in known_accounts]
    )
    upsert_rows(
        session,
        "account",
        ACCOUNT_COLUMNS,
        [a for a in accounts if a[3] in known_accounts],
        keys=["creditor_id", "account_number"],
        set_sql=_excluded(stated_columns(ACCOUNT_UPDATES, present)),
    )
    return Written(
        debtor_ids=list(debtor_of.values()),
        case_ids=list(case_of.values()),
        stale_case_ids=[case_of[d] for d in old_cases],
    )


def _insert_or_upsert(
    session: Session,
    table: str,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    fresh: Collection[int],
    *,
    keys: Sequence[str],
    set_sql: dict[str, str],
) -> None:
    """Rows whose first value is a debtor id: those of new debtors are inserted, the
    others upserted."""
    insert_rows(session, table, columns, [r for r in rows if r[0] in fresh])
    upsert_rows(
        session, table, columns, [r for r in rows if r[0] not in fresh], keys=keys, set_sql=set_sql
    )


def _upsert_returning(
    session: Session,
    table: str,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    *,
    keys: Sequence[str],
    set_sql: dict[str, str],
    returning: Sequence[str],
    lookup: str,
    values: Sequence[Any],
    before: tuple[Any, ...] = (),
) -> dict[Any, int]:
    """Upsert ``rows`` and return {key: id}: from RETURNING on PostgreSQL, from ``lookup``
    (a ``select_in`` statement for ``values``) on SQLite, which has no RETURNING with
    executemany."""
    if not rows:
        return {}
    found = upsert_rows(
        session, table, columns, rows, keys=keys, set_sql=set_sql, returning=returning
    )
    if session.get_bind().dialect.name != "postgresql":
        found = select_in(session, lookup, values, before=before)
    return {key: id_ for key, id_ in found}


def refresh_case_outstanding(session: Session, *, case_ids: Sequence[int]) -> None:
    """Case balance = sum of its accounts' outstanding components."""
    select_in(
        session,
        'UPDATE "case" SET outstanding_fen = totals.total FROM ('
        "SELECT case_id, SUM(principal_fen + interest_fen + fees_fen + penalty_fen) AS total "
        "FROM account WHERE case_id {match} GROUP BY case_id) AS totals "
        'WHERE "case".id = totals.case_id RETURNING "case".id',
        case_ids,
    )
