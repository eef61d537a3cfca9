"""Portfolio intake against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from debtflow.core.portfolio.columns import BY_NAME
from debtflow.models import Account, Address, Case, ContactPoint, Debtor
from debtflow.models.debtor import personal_data_index
from debtflow.models.enums import ContactParty
from debtflow.portfolio import service
from factories import TODAY, make_creditor, portfolio_rows, write_portfolio


def counts(session):
    return tuple(
        session.scalar(select(func.count()).select_from(m))
        for m in (Debtor, Account, Case, ContactPoint, Address)
    )


def test_valid_file_creates_debtors_cases_accounts_and_contacts(session, tmp_path):
    make_creditor(session)
    rows = portfolio_rows(count=25)
    path = write_portfolio(tmp_path / "p.csv", rows)
    result = service.import_portfolio(session, path=path, creditor_code="TESTBANK", today=TODAY)
    assert (result.rows_read, result.rows_valid, result.accounts_created) == (25, 25, 25)
    assert session.scalar(select(func.count()).select_from(Account)) == 25
    account = session.scalars(
        select(Account).where(Account.account_number == rows[0]["account_number"])
    ).one()
    assert account.principal_fen == int(rows[0]["principal"].replace(".", ""))
    case = session.get(Case, account.case_id)
    assert case.outstanding_fen == account.outstanding_fen
    third_parties = session.scalar(
        select(func.count())
        .select_from(ContactPoint)
        .where(ContactPoint.party == ContactParty.THIRD_PARTY)
    )
    assert third_parties == sum(1 for r in rows for k in (1, 2, 3) if r.get(f"contact{k}_name"))


def test_file_with_bad_rows_changes_nothing_and_lists_every_error(session, tmp_path):
    make_creditor(session)
    rows = portfolio_rows(count=6)
    rows[1]["id_number"] = "110105194912310021"
    rows[3]["principal"] = "-1"
    rows[4]["first_due_date"] = "2026-13-01"
    rows[5]["account_number"] = rows[0]["account_number"]
    path = write_portfolio(tmp_path / "bad.csv", rows)
    before = counts(session)
    with pytest.raises(service.PortfolioRejected) as info:
        service.import_portfolio(session, path=path, creditor_code="TESTBANK", today=TODAY)
    assert [(e.row, e.column) for e in info.value.errors] == [
        (3, "id_number"),
        (5, "principal"),
        (6, "first_due_date"),
        (7, "account_number"),
    ]
    assert counts(session) == before


def test_skip_invalid_imports_the_rest_and_writes_rejects(session, tmp_path):
    make_creditor(session)
    rows = portfolio_rows(count=5)
    rows[2]["phone"] = "999"
    path = write_portfolio(tmp_path / "mixed.csv", rows)
    result = service.import_portfolio(
        session, path=path, creditor_code="TESTBANK", today=TODAY, skip_invalid=True
    )
    assert result.accounts_created == 4
    assert result.rejects_path == tmp_path / "mixed.rejects.csv"
    with result.rejects_path.open(encoding="utf-8-sig") as handle:
        rejects = list(csv.reader(handle))
    assert rejects[0][:2] == ["row", "errors"]
    assert rejects[1][0] == "4" and "phone" in rejects[1][1]
    assert rows[2]["account_number"] in rejects[1]


@pytest.mark.parametrize("dry_run", [False, True])
def test_rejects_file_that_cannot_be_written_is_refused_before_anything_is_imported(
    session, tmp_path, dry_run
):
    make_creditor(session)
    rows = portfolio_rows(count=5)
    rows[2]["phone"] = "999"
    path = write_portfolio(tmp_path / "mixed.csv", rows)
    before = counts(session)
    for target, problem in (
        (tmp_path / "missing" / "rej.csv", f"the folder {tmp_path / 'missing'} does not exist"),
        (tmp_path, "it is a folder"),
    ):
        with pytest.raises(service.UnwritableRejects, match=problem):
            service.import_portfolio(
                session,
                path=path,
                creditor_code="TESTBANK",
                today=TODAY,
                skip_invalid=True,
                dry_run=dry_run,
                rejects_path=target,
            )
    assert counts(session) == before
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize("dry_run", [False, True])
def test_rejects_file_that_is_the_portfolio_file_is_refused_before_anything_is_imported(
    session, tmp_path, monkeypatch, dry_run
):
    make_creditor(session)
    rows = portfolio_rows(count=5)
    rows[2]["phone"] = "999"
    path = write_portfolio(tmp_path / "mixed.csv", rows)
    original = path.read_bytes()
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.csv").symlink_to(path)
    (tmp_path / "hard.csv").hardlink_to(path)
    monkeypatch.chdir(tmp_path / "sub")
    before = counts(session)
    for target in (
        path,  # the same path
        Path("../mixed.csv"),  # relative to another folder
        tmp_path / "sub" / ".." / "mixed.csv",
        tmp_path / "link.csv",  # a symbolic link to it
        tmp_path / "hard.csv",  # another name of the same file
    ):
        with pytest.raises(service.UnwritableRejects, match="it is the portfolio file"):
            service.import_portfolio(
                session,
                path=path,
                creditor_code="TESTBANK",
                today=TODAY,
                skip_invalid=True,
                dry_run=dry_run,
                rejects_path=target,
            )
    # the file named through a link, the rejects to the file itself
    with pytest.raises(service.UnwritableRejects, match="it is the portfolio file"):
        service.import_portfolio(
            session,
            path=tmp_path / "link.csv",
            creditor_code="TESTBANK",
            today=TODAY,
            skip_invalid=True,
            dry_run=dry_run,
            rejects_path=path,
        )
    assert counts(session) == before
    assert path.read_bytes() == original


def test_reimport_updates_and_never_duplicates(session, tmp_path):
    make_creditor(session)
    rows = portfolio_rows(count=10)
    path = write_portfolio(tmp_path / "p.csv", rows)
    service.import_portfolio(session, path=path, creditor_code="TESTBANK", today=TODAY)
    first = counts(session)
    rows[0]["principal"] = "1.00"
    rows[0]["interest"] = "0.00"
    rows[0]["fees"] = "0.00"
    rows[0]["penalty"] = "0.00"
    write_portfolio(path, rows)
    again = service.import_portfolio(session, path=path, creditor_code="TESTBANK", today=TODAY)
    assert (again.accounts_created, again.accounts_updated) == (0, 10)
    assert counts(session) == first
    account = session.scalars(
        select(Account).where(Account.account_number == rows[0]["account_number"])
    ).one()
    session.refresh(account)
    assert account.principal_fen == 100
    assert session.get(Case, account.case_id).outstanding_fen == 100


def test_dry_run_reports_and_writes_nothing(session, tmp_path):
    make_creditor(session)
    path = write_portfolio(tmp_path / "p.csv", portfolio_rows(count=4))
    before = counts(session)
    result = service.import_portfolio(
        session, path=path, creditor_code="TESTBANK", today=TODAY, dry_run=True
    )
    assert (result.dry_run, result.accounts_created) == (True, 4)
    assert counts(session) == before


def test_gbk_file_with_chinese_headers(session, tmp_path):
    make_creditor(session)
    rows = portfolio_rows(count=3)
    columns = sorted({k for r in rows for k in r})
    path = tmp_path / "gbk.csv"
    with path.open("w", encoding="gbk", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([BY_NAME[c].zh for c in columns])
        for row in rows:
            writer.writerow([row.get(c, "") for c in columns])
    result = service.import_portfolio(session, path=path, creditor_code="TESTBANK", today=TODAY)
    assert result.encoding == "gbk"
    assert result.accounts_created == 3
    names = set(session.scalars(select(Debtor.name)))
    assert {r["name"] for r in rows} <= names


def test_xlsx_file(session, tmp_path):
    make_creditor(session)
    rows = portfolio_rows(count=3)
    columns = sorted({k for r in rows for k in r})
    book = Workbook()
    sheet = book.active
    sheet.append(columns)
    for row in rows:
        sheet.append([row.get(c, "") for c in columns])
    path = tmp_path / "p.xlsx"
    book.save(path)
    result = service.import_portfolio(session, path=path, creditor_code="TESTBANK", today=TODAY)
    assert result.accounts_created == 3


def test_unknown_creditor_is_refused(session, tmp_path):
    path = write_portfolio(tmp_path / "p.csv", portfolio_rows(count=1))
    with pytest.raises(service.UnknownCreditor, match="creditor add"):
        service.import_portfolio(session, path=path, creditor_code="NOPE", today=TODAY)


def test_id_number_known_under_another_name_is_refused(session, tmp_path):
    make_creditor(session)
    rows = portfolio_rows(count=2)
    service.import_portfolio(
        session,
        path=write_portfolio(tmp_path / "a.csv", rows),
        creditor_code="TESTBANK",
        today=TODAY,
    )
    rows[1]["name"] = "张冒名"
    with pytest.raises(service.PortfolioRejected) as info:
        service.import_portfolio(
            session,
            path=write_portfolio(tmp_path / "b.csv", rows),
            creditor_code="TESTBANK",
            today=TODAY,
        )
    assert info.value.errors[0].row == 3
    assert "already on file" in info.value.errors[0].reason


def test_undecodable_and_empty_files_are_refused(session, tmp_path):
    from debtflow.portfolio.reader import UnreadableFile

    make_creditor(session)
    binary = tmp_path / "x.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81\x30\x81")
    with pytest.raises(UnreadableFile):
        service.import_portfolio(session, path=binary, creditor_code="TESTBANK", today=TODAY)
    empty = tmp_path / "e.csv"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(UnreadableFile, match="empty"):
        service.import_portfolio(session, path=empty, creditor_code="TESTBANK", today=TODAY)


REQUIRED_COLUMNS = [c.name for c in BY_NAME.values() if c.required]


def _stored(session, account_number):
    session.expire_all()
    account = session.scalars(select(Account).where(Account.account_number == account_number)).one()
    debtor = session.get(Debtor, account.debtor_id)
    address = session.scalars(select(Address).where(Address.debtor_id == debtor.id)).one()
    return (
        debtor.employer,
        debtor.monthly_income_fen,
        debtor.timezone,
        address.line,
        address.latitude,
        address.longitude,
        account.credit_limit_fen,
        account.interest_fen,
        account.repayment_history,
        session.get(Case, account.case_id).overdue_cause,
    )


def test_update_file_without_optional_columns_keeps_what_is_stored(session, tmp_path):
    make_creditor(session)
    make_creditor(session, code="OTHER", name="另一银行")
    rows = portfolio_rows(count=3)
    row = rows[0]
    row.update(
        employer="长江机械厂",
        monthly_income="8000.00",
        credit_limit="50000.00",
        interest="12.34",
        timezone="Asia/Urumqi",
        overdue_cause="失业",
    )
    path = write_portfolio(tmp_path / "full.csv", rows)
    service.import_portfolio(session, path=path, creditor_code="TESTBANK", today=TODAY)
    before = _stored(session, row["account_number"])
    assert before[0] == "长江机械厂" and before[6] == 5_000_000 and before[8] != []
    assert None not in before[3:6]

    base = write_portfolio(tmp_path / "base.csv", rows, columns=REQUIRED_COLUMNS)
    again = service.import_portfolio(session, path=base, creditor_code="TESTBANK", today=TODAY)
    assert again.accounts_updated == 3
    assert _stored(session, row["account_number"]) == before

    # another creditor placing the same debtor with fewer columns states nothing either
    other = [dict(r, account_number="X-" + r["account_number"]) for r in rows]
    path = write_portfolio(tmp_path / "other.csv", other, columns=REQUIRED_COLUMNS)
    service.import_portfolio(session, path=path, creditor_code="OTHER", today=TODAY)
    assert _stored(session, row["account_number"]) == before

    # an empty cell in a present column still clears the value
    row["employer"] = ""
    cleared = write_portfolio(
        tmp_path / "cleared.csv", rows, columns=[*REQUIRED_COLUMNS, "employer"]
    )
    service.import_portfolio(session, path=cleared, creditor_code="TESTBANK", today=TODAY)
    assert _stored(session, row["account_number"])[0] is None


def test_update_file_without_contact_details_keeps_them(session, tmp_path):
    make_creditor(session)
    rows = portfolio_rows(count=2)
    for row in rows:
        row.update(
            contact1_name="王芳", contact1_relation="配偶", contact1_phone="13912345678",
            contact1_authorised="是",
        )  # fmt: skip
    path = write_portfolio(tmp_path / "full.csv", rows)
    service.import_portfolio(session, path=path, creditor_code="TESTBANK", today=TODAY)

    def contacts() -> list[tuple[object, ...]]:
        return session.execute(
            select(ContactPoint.contact_name, ContactPoint.relation, ContactPoint.authorised)
            .where(ContactPoint.value_index == personal_data_index("13912345678"))
            .order_by(ContactPoint.id)
        ).all()

    before = contacts()
    assert before == [("王芳", "配偶", True)] * 2
    # the contact again, without the column that says the debtor authorised contacting them
    columns = [*REQUIRED_COLUMNS, "contact1_name", "contact1_relation", "contact1_phone"]
    path = write_portfolio(tmp_path / "contacts.csv", rows, columns=columns)
    service.import_portfolio(session, path=path, creditor_code="TESTBANK", today=TODAY)
    assert contacts() == before


@pytest.mark.parametrize("final", ["settled", "closed", "written_off"])
def test_new_account_for_a_case_in_a_final_status_is_refused(session, tmp_path, final):
    from debtflow.models.enums import CaseStatus

    make_creditor(session)
    rows = portfolio_rows(count=3)
    path = write_portfolio(tmp_path / "p.csv", rows)
    service.import_portfolio(session, path=path, creditor_code="TESTBANK", today=TODAY)
    account = session.scalars(
        select(Account).where(Account.account_number == rows[0]["account_number"])
    ).one()
    case = session.get(Case, account.case_id)
    case.status = CaseStatus(final)
    session.flush()

    new_debt = dict(rows[0], account_number="NEW-" + rows[0]["account_number"])
    other = dict(rows[1], account_number="NEW-" + rows[1]["account_number"])
    path = write_portfolio(tmp_path / "new.csv", [new_debt, other])
    with pytest.raises(service.PortfolioRejected) as info:
        service.import_portfolio(session, path=path, creditor_code="TESTBANK", today=TODAY)
    [error] = info.value.errors
    assert error.row == 2 and error.column == "account_number"
    assert f"case {case.id}" in error.reason and final in error.reason

    result = service.import_portfolio(
        session, path=path, creditor_code="TESTBANK", today=TODAY, skip_invalid=True
    )
    assert (result.accounts_created, [e.row for e in result.errors]) == (1, [2])
    session.expire_all()
    assert session.get(Case, case.id).status == CaseStatus(final)
    assert [
        a.account_number for a in session.scalars(select(Account).where(Account.case_id == case.id))
    ] == [rows[0]["account_number"]]


def test_xlsx_identifiers_stored_as_numbers_that_lost_digits_are_refused(session, tmp_path):
    make_creditor(session)
    rows = portfolio_rows(count=3)
    columns = sorted({k for r in rows for k in r})
    book = Workbook()
    sheet = book.active
    sheet.append(columns)
    for row in rows:
        sheet.append([row.get(c, "") for c in columns])
    at = {c: columns.index(c) + 1 for c in columns}
    # Excel keeps 15 significant digits: an 18-digit ID typed into a General cell
    sheet.cell(row=2, column=at["id_number"]).value = 4.4010619850313e17
    sheet.cell(row=3, column=at["phone"]).value = float(rows[1]["phone"])  # exact: kept
    sheet.cell(row=4, column=at["fees"]).value = 300.305  # truly three decimals
    path = tmp_path / "p.xlsx"
    book.save(path)
    with pytest.raises(service.PortfolioRejected) as info:
        service.import_portfolio(session, path=path, creditor_code="TESTBANK", today=TODAY)
    errors = [(e.row, e.column) for e in info.value.errors]
    assert errors == [(2, "id_number"), (4, "fees")]
    reason = info.value.errors[0].reason
    assert "stored" in reason and "as a number" in reason and "Excel rounded" in reason
    assert "text" in reason
    result = service.import_portfolio(
        session, path=path, creditor_code="TESTBANK", today=TODAY, skip_invalid=True
    )
    assert result.accounts_created == 1
