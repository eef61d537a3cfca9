"""Intake of a file split into many chunks, prepared in worker processes (SQLite and
PostgreSQL): the same result as one chunk, across chunk boundaries."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from debtflow.models import Account, Address, Case, ContactPoint, Debtor
from debtflow.portfolio import preparation, service
from factories import TODAY, make_creditor, portfolio_rows, write_portfolio


@pytest.fixture
def small_chunks(monkeypatch):
    """Four rows a chunk, so a 30-row file is eight chunks prepared by worker processes."""
    monkeypatch.setattr(preparation, "CHUNK_ROWS", 4)
    monkeypatch.setattr(preparation, "MAX_WORKERS", 2)


def counts(session):
    return tuple(
        session.scalar(select(func.count()).select_from(m))
        for m in (Debtor, Account, Case, ContactPoint, Address)
    )


def owed(row):
    return sum(int(row[c].replace(".", "")) for c in ("principal", "interest", "fees", "penalty"))


def shared_debtor_rows(count=30):
    """``count`` rows; the debtor of row 3 (file row 4) also holds the account of file row
    19, four chunks later."""
    rows = portfolio_rows(count=count, seed=4)
    for column in ("id_number", "name", "debtor_type", "registered_on"):
        rows[17][column] = rows[2].get(column, "")
    return rows


def test_debtor_with_accounts_in_different_chunks_is_one_debtor_and_one_case(
    session, tmp_path, small_chunks
):
    make_creditor(session)
    rows = shared_debtor_rows()
    path = write_portfolio(tmp_path / "p.csv", rows)
    result = service.import_portfolio(session, path=path, creditor_code="TESTBANK", today=TODAY)
    assert (result.rows_read, result.accounts_created, result.debtors_touched) == (30, 30, 29)
    assert counts(session)[:3] == (29, 30, 29)

    first, later = (
        session.scalars(
            select(Account).where(Account.account_number == rows[i]["account_number"])
        ).one()
        for i in (2, 17)
    )
    assert first.case_id == later.case_id and first.debtor_id == later.debtor_id
    case = session.get(Case, first.case_id)
    session.refresh(case)
    assert case.outstanding_fen == owed(rows[2]) + owed(rows[17])
    debtor = session.get(Debtor, first.debtor_id)
    assert debtor.id_number == rows[2]["id_number"]  # stored encrypted, read back plain
    # every other case holds exactly its one account's balance
    single = session.scalars(
        select(Account).where(Account.account_number == rows[29]["account_number"])
    ).one()
    assert session.get(Case, single.case_id).outstanding_fen == owed(rows[29])


def test_values_written_from_workers_match_the_file(session, tmp_path, small_chunks):
    make_creditor(session)
    rows = portfolio_rows(count=12, seed=6)
    path = write_portfolio(tmp_path / "p.csv", rows)
    service.import_portfolio(session, path=path, creditor_code="TESTBANK", today=TODAY)
    source = rows[9]
    account = session.scalars(
        select(Account).where(Account.account_number == source["account_number"])
    ).one()
    assert account.principal_fen == int(source["principal"].replace(".", ""))
    assert account.first_due_date.isoformat() == source["first_due_date"]
    statuses = [int(source[f"status_m{m}"]) for m in range(1, 7) if source.get(f"status_m{m}")]
    assert statuses and [h["status"] for h in account.repayment_history] == statuses
    phones = set(
        session.scalars(
            select(ContactPoint.value).where(ContactPoint.debtor_id == account.debtor_id)
        )
    )
    assert source["phone"] in phones


def test_reimport_through_workers_updates_and_refreshes_balances(session, tmp_path, small_chunks):
    make_creditor(session)
    rows = shared_debtor_rows()
    path = write_portfolio(tmp_path / "p.csv", rows)
    service.import_portfolio(session, path=path, creditor_code="TESTBANK", today=TODAY)
    before = counts(session)
    for column in ("principal", "interest", "fees", "penalty"):
        rows[17][column] = "0.00"
    rows[17]["principal"] = "3.00"
    write_portfolio(path, rows)
    again = service.import_portfolio(session, path=path, creditor_code="TESTBANK", today=TODAY)
    assert (again.accounts_created, again.accounts_updated) == (0, 30)
    assert counts(session) == before
    account = session.scalars(
        select(Account).where(Account.account_number == rows[17]["account_number"])
    ).one()
    session.refresh(account)
    case = session.get(Case, account.case_id)
    session.refresh(case)
    assert case.outstanding_fen == owed(rows[2]) + 300


def test_known_debtor_under_a_new_creditor_gets_a_new_case(session, tmp_path, small_chunks):
    make_creditor(session)
    make_creditor(session, code="OTHERBANK", name="另一家银行")
    rows = portfolio_rows(count=10, seed=7)
    service.import_portfolio(
        session,
        path=write_portfolio(tmp_path / "a.csv", rows[:5]),
        creditor_code="TESTBANK",
        today=TODAY,
    )
    result = service.import_portfolio(
        session,
        path=write_portfolio(tmp_path / "b.csv", rows),
        creditor_code="OTHERBANK",
        today=TODAY,
    )
    assert (result.accounts_created, result.debtors_touched, result.cases_touched) == (10, 10, 10)
    assert counts(session)[:3] == (10, 15, 15)
    both = session.scalars(
        select(Account).where(Account.account_number == rows[1]["account_number"])
    ).all()
    assert len({a.creditor_id for a in both}) == 2 and len({a.debtor_id for a in both}) == 1
    for account in both:
        case = session.get(Case, account.case_id)
        session.refresh(case)
        assert case.outstanding_fen == owed(rows[1])


def test_error_in_a_late_chunk_writes_nothing(session, tmp_path, small_chunks):
    make_creditor(session)
    rows = portfolio_rows(count=30, seed=8)
    rows[27]["opened_on"] = "not a date"
    before = counts(session)
    with pytest.raises(service.PortfolioRejected) as info:
        service.import_portfolio(
            session,
            path=write_portfolio(tmp_path / "p.csv", rows),
            creditor_code="TESTBANK",
            today=TODAY,
        )
    assert [(e.row, e.column) for e in info.value.errors] == [(29, "opened_on")]
    assert counts(session) == before


def test_skip_invalid_across_chunks_imports_the_rest(session, tmp_path, small_chunks):
    make_creditor(session)
    rows = portfolio_rows(count=30, seed=9)
    rows[5]["phone"] = "12"
    rows[21]["account_number"] = rows[1]["account_number"]
    result = service.import_portfolio(
        session,
        path=write_portfolio(tmp_path / "p.csv", rows),
        creditor_code="TESTBANK",
        today=TODAY,
        skip_invalid=True,
    )
    assert result.accounts_created == 28
    assert [e.row for e in result.errors] == [7, 23]
    assert session.scalar(select(func.count()).select_from(Account)) == 28


def test_history_json_is_what_the_json_encoder_writes():
    from debtflow.core.portfolio.records import MonthRecord

    history = (MonthRecord(-2, 0, 0), MonthRecord(9, 2110572, 15), MonthRecord(-1, 1, 100))
    encoded = preparation._history_json(history)
    as_dicts = [
        {"status": m.status, "statement_fen": m.statement_fen, "paid_fen": m.paid_fen}
        for m in history
    ]
    assert encoded == preparation._json(as_dicts)
    assert preparation._history_json(()) == preparation._json([]) == "[]"


def test_quoted_fields_spanning_lines_are_read_and_rows_numbered_as_in_the_file(
    session, tmp_path, small_chunks
):
    make_creditor(session)
    rows = portfolio_rows(count=12, seed=10)
    rows[3]["address"] = "朝阳区\n建国路 8 号, 3 楼"
    rows[9]["phone"] = "123"
    path = write_portfolio(tmp_path / "p.csv", rows)
    with pytest.raises(service.PortfolioRejected) as info:
        service.import_portfolio(session, path=path, creditor_code="TESTBANK", today=TODAY)
    # the quoted line break is inside row 5: the bad phone is still on row 11
    assert [(e.row, e.column) for e in info.value.errors] == [(11, "phone")]
    rows[9]["phone"] = rows[8]["phone"]
    write_portfolio(path, rows)
    service.import_portfolio(session, path=path, creditor_code="TESTBANK", today=TODAY)
    lines = session.scalars(select(Address.line).order_by(Address.id))
    assert "朝阳区\n建国路 8 号, 3 楼" in set(lines)


@pytest.mark.skipif(preparation._usable_cores() < 2, reason="workers need two cores")
def test_closing_the_chunks_early_stops_the_workers_at_once(tmp_path, small_chunks, monkeypatch):
    """An import stopped early (Ctrl-C, an error while writing) terminates the workers
    instead of waiting for the chunks they hold; they ignore SIGINT themselves."""
    import multiprocessing
    import signal
    import time

    from debtflow.db import utcnow
    from debtflow.portfolio.reader import read_portfolio

    # every chunk but the first is slow: waiting for the workers to finish would take
    # minutes (the forked workers find the module as patched here)
    validate = preparation.validate_chunk

    def slow(header, rows, *, first_row, **kwargs):
        if first_row > 2:
            time.sleep(120)
        return validate(header, rows, first_row=first_row, **kwargs)

    monkeypatch.setattr(preparation, "validate_chunk", slow)
    sheet = read_portfolio(write_portfolio(tmp_path / "p.csv", portfolio_rows(count=30, seed=2)))
    before = set(multiprocessing.active_children())
    chunks = preparation.prepared_chunks(sheet, today=TODAY, dialect="sqlite", stamp=utcnow())
    assert next(chunks).rows_read == 4
    workers = [p for p in multiprocessing.active_children() if p not in before]
    assert len(workers) == 2
    for worker in workers:  # Ctrl-C reaches them too, from the terminal: they ignore it
        assert worker.pid is not None
        with open(f"/proc/{worker.pid}/status") as status:
            ignored = int(next(x for x in status if x.startswith("SigIgn:")).split()[1], 16)
        assert ignored & (1 << (signal.SIGINT - 1))
    started = time.monotonic()
    chunks.close()
    assert time.monotonic() - started < preparation.WORKER_STOP_SECONDS
    assert not any(w.is_alive() for w in workers)
    assert [p for p in multiprocessing.active_children() if p not in before] == []
