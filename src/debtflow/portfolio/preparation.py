"""Intake's parallel half: worker processes validate the sheet chunk by chunk and turn every
valid row into the values intake writes — personal data already encrypted and indexed,
dates and JSON already in the driver's form — so the process that holds the database
connection only checks keys and writes.

The workers are forked after the file is read and find the sheet in this module (it is
never pickled to them); what comes back is plain tuples, which cost a fraction of row
objects to unpickle. Small files are prepared inline.
"""

from __future__ import annotations

import functools
import gc
import itertools
import json
import multiprocessing
import os
import signal
import threading
from collections.abc import Collection, Generator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from multiprocessing.process import BaseProcess
from typing import Any, NamedTuple

from debtflow.config import personal_data_cipher
from debtflow.core.compliance.crypto import PersonalDataCipher
from debtflow.core.portfolio.columns import CONTACT_SLOTS
from debtflow.core.portfolio.records import HISTORY_FIELDS, MonthRecord, PortfolioRow, RowError
from debtflow.core.portfolio.validation import validate_chunk
from debtflow.portfolio.reader import PortfolioSheet

# small chunks let the writer start early while the workers prepare the rest
CHUNK_ROWS = 1000
MAX_WORKERS = 4

# the columns of the value tuples below, in order (the database columns they are written to)
DEBTOR_COLUMNS = (
    "id_number_encrypted",
    "id_number_index",
    "debtor_type",
    "name",
    "birth_date",
    "registered_on",
    "employer",
    "industry",
    "timezone",
    "monthly_income_fen",
    "other_debts_fen",
    "dependents",
    "monthly_spending_fen",
    "monthly_revenue_fen",
    "receivables_fen",
    "main_customers",
    "created_at",
    "updated_at",
)
ADDRESS_COLUMNS = ("debtor_id", "kind", "province", "city", "line", "latitude", "longitude")
CONTACT_COLUMNS = (
    "debtor_id",
    "kind",
    "value_index",
    "value_encrypted",
    "party",
    "contact_name",
    "relation",
    "authorised",
    "valid",
)
ACCOUNT_COLUMNS = (
    "creditor_id",
    "debtor_id",
    "case_id",
    "account_number",
    "product_type",
    "original_fen",
    "principal_fen",
    "interest_fen",
    "fees_fen",
    "penalty_fen",
    "annual_rate_bp",
    "instalment_fen",
    "instalment_count",
    "first_due_date",
    "paid_before_fen",
    "opened_on",
    "maturity_date",
    "credit_limit_fen",
    "repayment_history",
    "days_past_due",
    "bucket",
    "overdue_fen",
    "imported_at",
    "updated_at",
)

# the file columns whose presence states each optional database column above; a database
# column not listed here is stated by every row (a required column, a key, a time stamp).
# An update changes only what the file states: a column left out of it keeps what is stored
STATED_BY: dict[str, tuple[str, ...]] = {
    "debtor_type": ("debtor_type",),
    "registered_on": ("registered_on",),
    "employer": ("employer",),
    "industry": ("industry",),
    "timezone": ("timezone",),
    "monthly_income_fen": ("monthly_income",),
    "other_debts_fen": ("other_debts",),
    "dependents": ("dependents",),
    "monthly_spending_fen": ("monthly_spending",),
    "monthly_revenue_fen": ("monthly_revenue",),
    "receivables_fen": ("receivables",),
    "main_customers": ("main_customers",),
    "line": ("address",),
    "latitude": ("latitude",),
    "longitude": ("longitude",),
    "interest_fen": ("interest",),
    "fees_fen": ("fees",),
    "penalty_fen": ("penalty",),
    "paid_before_fen": ("paid_amount",),
    "maturity_date": ("maturity_date",),
    "credit_limit_fen": ("credit_limit",),
    "repayment_history": tuple(f for month in HISTORY_FIELDS for f in month),
    # a third-party contact's details (any slot's column states them for every slot)
    "contact_name": tuple(f"contact{k}_name" for k in range(1, CONTACT_SLOTS + 1)),
    "relation": tuple(f"contact{k}_relation" for k in range(1, CONTACT_SLOTS + 1)),
    "authorised": tuple(f"contact{k}_authorised" for k in range(1, CONTACT_SLOTS + 1)),
}


def stated_columns(columns: Sequence[str], present: Collection[str]) -> list[str]:
    """Those of ``columns`` (database columns) that a file with the canonical columns
    ``present`` states."""
    return [c for c in columns if c not in STATED_BY or any(f in present for f in STATED_BY[c])]


class PreparedRow(NamedTuple):
    """One valid row: its keys, and its values for each table without the ids the database
    assigns (``address`` lacks ``debtor_id``; each contact lacks ``debtor_id``; ``account``
    lacks ``creditor_id, debtor_id, case_id``)."""

    row: int
    account_number: str
    id_number: str
    id_index: str
    name: str
    overdue_cause: str
    outstanding_fen: int
    debtor: tuple[Any, ...]
    address: tuple[Any, ...]
    contacts: tuple[tuple[Any, ...], ...]
    account: tuple[Any, ...]


@dataclass
class PreparedChunk:
    first_row: int
    rows_read: int = 0
    rows: list[PreparedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rejected_rows: dict[int, list[str]] = field(default_factory=dict)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _history_json(history: Sequence[MonthRecord]) -> str:
    """The repayment history as ``_json`` writes it (keys sorted; integers only), without
    the encoder's per-call cost."""
    return (
        "["
        + ", ".join(
            f'{{"paid_fen": {m.paid_fen}, "statement_fen": {m.statement_fen}, '
            f'"status": {m.status}}}'
            for m in history
        )
        + "]"
    )


class RowPreparer:
    """Turns validated rows into value tuples for one dialect and one import timestamp."""

    def __init__(self, cipher: PersonalDataCipher, *, dialect: str, stamp: datetime) -> None:
        self.cipher = cipher
        self.sqlite = dialect == "sqlite"
        # as the ORM stores an aware datetime: SQLite UTC text without offset
        self.stamp: Any = (
            stamp.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else stamp
        )

    def day(self, value: date | None) -> Any:
        if value is None or not self.sqlite:
            return value
        return value.isoformat()

    def contact(
        self,
        kind: str,
        value: str,
        party: str,
        name: str | None,
        relation: str | None,
        authorised: bool,
    ) -> tuple[Any, ...]:
        cipher = self.cipher
        return (
            kind,
            cipher.blind_index(value),
            cipher.encrypt(value),
            party,
            name,
            relation,
            authorised,
            True,
        )

    def prepare(self, row: PortfolioRow) -> PreparedRow:
        cipher = self.cipher
        day = self.day
        stamp = self.stamp
        id_index = cipher.blind_index(row.id_number)
        debtor = (
            cipher.encrypt(row.id_number),
            id_index,
            row.debtor_type,
            row.name,
            day(row.birth_date),
            day(row.registered_on),
            row.employer,
            row.industry,
            row.timezone,
            row.monthly_income_fen,
            row.other_debts_fen,
            row.dependents,
            row.monthly_spending_fen,
            row.monthly_revenue_fen,
            row.receivables_fen,
            _json(list(row.main_customers)) if row.main_customers else "[]",
            stamp,
            stamp,
        )
        address = ("home", row.province, row.city, row.address, row.latitude, row.longitude)
        contacts = [self.contact("phone", row.phone, "debtor", None, None, True)]
        if row.email:
            contacts.append(self.contact("email", row.email, "debtor", None, None, True))
        for c in row.contacts:
            contacts.append(
                self.contact("phone", c.phone, "third_party", c.name, c.relation, c.authorised)
            )
        account = (
            row.account_number,
            row.product_type,
            row.original_fen,
            row.principal_fen,
            row.interest_fen,
            row.fees_fen,
            row.penalty_fen,
            row.annual_rate_bp,
            row.instalment_fen,
            row.instalment_count,
            day(row.first_due_date),
            row.paid_fen,
            day(row.opened_on),
            day(row.maturity_date),
            row.credit_limit_fen,
            _history_json(row.history),
            0,
            "M0",
            0,
            stamp,
            stamp,
        )
        return PreparedRow(
            row.row,
            row.account_number,
            row.id_number,
            id_index,
            row.name,
            row.overdue_cause,
            row.outstanding_fen,
            debtor,
            address,
            tuple(contacts),
            account,
        )


# sheets being prepared, by job token: forked workers inherit them
_SHEETS: dict[int, tuple[PortfolioSheet, RowPreparer]] = {}
_TOKENS = itertools.count()
_LOCK = threading.Lock()


def _prepare_slice(token: int, start: int, stop: int, today: date) -> PreparedChunk:
    sheet, preparer = _SHEETS[token]
    first_row = sheet.first_data_row + start
    checked = validate_chunk(
        sheet.header,
        sheet.rows[start:stop],
        today=today,
        first_row=first_row,
        cell_problems=sheet.cell_problems,
    )
    return PreparedChunk(
        first_row=first_row,
        rows_read=checked.rows_read,
        rows=[preparer.prepare(r) for r in checked.rows],
        errors=checked.errors,
        rejected_rows=checked.rejected_rows,
    )


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the cores this process may run on
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


# signals that stop an import: the importing process handles them, never a worker
STOP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})
# how long a stopped worker may take to die before it is killed
WORKER_STOP_SECONDS = 5.0


def _worker_started(mask: Collection[int]) -> None:
    """A worker's initializer. Ctrl-C reaches the terminal's whole process group: a worker
    ignores it and leaves the stop to the importing process, which terminates the workers
    (SIGTERM, taken at once, whatever the importing process had installed for it). The
    stop signals were blocked across the fork (so one sent meanwhile cannot interrupt a
    worker half set up); they are unblocked once handled as above."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def _stop_pool(pool: ProcessPoolExecutor, *, known: Collection[BaseProcess]) -> None:
    """Stop ``pool`` now, its work unfinished: pending chunks cancelled, its workers
    terminated (killed when they linger) and its manager thread left nothing to wait for.
    ``known``: the child processes there were before the pool forked its workers (one
    forked just before an interruption may not be in the pool's own list yet).

    ``shutdown(wait=True)`` would wait for the chunks the workers hold, and cancelling
    futures by hand collides with the pool's own clean-up (``InvalidStateError`` in its
    manager thread, which then stops reading results, and a worker blocks on the full
    pipe). The worker processes, the result queue and the manager thread are the pool's
    private attributes (CPython 3.11–3.13), read before ``shutdown`` drops them."""
    workers = {*(getattr(pool, "_processes", None) or {}).values()}
    workers.update(p for p in multiprocessing.active_children() if p not in known)
    results = getattr(pool, "_result_queue", None)
    manager = getattr(pool, "_executor_manager_thread", None)
    pool.shutdown(wait=False, cancel_futures=True)
    for process in workers:
        process.terminate()
    for process in workers:
        process.join(WORKER_STOP_SECONDS)
        if process.is_alive():
            process.kill()
            process.join(WORKER_STOP_SECONDS)
    # a worker stopped while sending a chunk leaves half a message in the result pipe: with
    # this process's own write end closed too, the manager thread reads the end of the
    # pipe there instead of waiting for the rest for ever (and interpreter exit with it)
    writer = getattr(results, "_writer", None)
    if writer is not None:
        writer.close()
    if manager is not None:
        manager.join(WORKER_STOP_SECONDS)


def _prepared_in_workers(
    token: int, bounds: Sequence[tuple[int, int]], today: date, workers: int
) -> Generator[PreparedChunk, None, None]:
    """The chunks ``bounds`` of the sheet ``token``, prepared in ``workers`` forked worker
    processes, in order. Closed or interrupted early (Ctrl-C, an error while the caller
    writes), it stops the workers at once rather than waiting for the work they hold."""
    context = multiprocessing.get_context("fork")
    known = set(multiprocessing.active_children())
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=functools.partial(
            _worker_started, signal.pthread_sigmask(signal.SIG_BLOCK, [])
        ),
    )
    futures: list[Future[PreparedChunk]] = []
    try:
        # the workers are forked by the first submit, with the stop signals blocked, so that
        # one sent meanwhile waits until the worker has set itself to ignore it
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            futures.extend(pool.submit(_prepare_slice, token, s, e, today) for s, e in bounds)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        for future in futures:
            yield future.result()
        pool.shutdown(wait=True)
    except BaseException:  # GeneratorExit (closed early), KeyboardInterrupt, an error
        _stop_pool(pool, known=known)
        raise


def prepared_chunks(
    sheet: PortfolioSheet, *, today: date, dialect: str, stamp: datetime
) -> Generator[PreparedChunk, None, None]:
    """The sheet validated and prepared chunk by chunk, in file order. Large files are
    prepared in worker processes while the caller writes the chunks already returned."""
    preparer = RowPreparer(personal_data_cipher(), dialect=dialect, stamp=stamp)
    with _LOCK:
        token = next(_TOKENS)
        _SHEETS[token] = (sheet, preparer)
    try:
        bounds = [
            (s, min(s + CHUNK_ROWS, len(sheet.rows))) for s in range(0, len(sheet.rows), CHUNK_ROWS)
        ]
        workers = min(_usable_cores(), MAX_WORKERS, len(bounds))
        if workers < 2:
            for start, stop in bounds:
                yield _prepare_slice(token, start, stop, today)
            return
        # the objects alive now (the sheet above all) are left out of garbage collection
        # while the import runs: the collector then never walks them — in this process nor
        # in the forked workers, where walking them would copy every page they live on
        gc.freeze()
        try:
            yield from _prepared_in_workers(token, bounds, today, workers)
        finally:
            gc.unfreeze()
    finally:
        with _LOCK:
            del _SHEETS[token]
