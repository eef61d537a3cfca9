from datetime import date

import pytest

from debtflow.core.portfolio.validation import parse_rate_bp, validate_portfolio
from debtflow.demo.portfolio import CREDITORS, generate_rows

TODAY = date(2026, 11, 20)


def sample(count=3):
    rows = generate_rows(CREDITORS[2], count=count, seed=3, today=TODAY)
    columns = sorted({k for r in rows for k in r})
    return columns, rows


def cells(columns, rows):
    return [[r.get(c, "") for c in columns] for r in rows]


def test_generated_rows_are_valid_and_typed():
    columns, rows = sample(20)
    report = validate_portfolio(columns, cells(columns, rows), today=TODAY)
    assert report.ok, report.errors
    assert len(report.rows) == 20
    first = report.rows[0]
    assert first.row == 2
    assert isinstance(first.principal_fen, int)
    assert first.outstanding_fen == (
        first.principal_fen + first.interest_fen + first.fees_fen + first.penalty_fen
    )


def test_chinese_headers_are_accepted():
    from debtflow.core.portfolio.columns import BY_NAME

    columns, rows = sample(2)
    chinese = [BY_NAME[c].zh for c in columns]
    report = validate_portfolio(chinese, cells(columns, rows), today=TODAY)
    assert report.ok, report.errors


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("account_number", "", "is required"),
        ("id_number", "110105194912310021", "checksum"),
        ("phone", "12345", "mobile"),
        ("principal", "-5.00", "negative"),
        ("principal", "12.345", "at most 2 decimals"),
        ("principal", "99999999999999999999.99", "more than the most accepted"),
        ("principal", "10000000000000.01", "more than the most accepted, 10,000,000,000,000.00"),
        ("original_amount", "¥99,999,999,999,999,999,999", "more than the most accepted"),
        ("statement_m1", "99999999999999999999", "more than the most accepted"),
        ("original_amount", "abc", "not an amount"),
        ("principal", "12,34", "'12,34' is not an amount in yuan"),  # not ¥1,234.00
        ("principal", "1,2,3,4", "'1,2,3,4' is not an amount in yuan"),
        ("interest", "1,23,456.00", "not an amount in yuan"),
        ("first_due_date", "2026-02-30", "not a real date"),
        ("opened_on", "2099-01-01", "in the future"),
        ("product_type", "mortgage", "unknown value"),
        ("instalment_count", "1.5", "whole number"),
        ("annual_rate", "140", "outside 0–100"),
        ("annual_rate", "nan", "not a percentage"),
        ("timezone", "Mars/Olympus", "IANA"),
    ],
)
def test_each_bad_cell_is_reported_with_row_column_and_reason(column, value, reason):
    columns, rows = sample(3)
    rows[1][column] = value
    report = validate_portfolio(columns, cells(columns, rows), today=TODAY)
    matching = [e for e in report.errors if e.column == column]
    assert matching, report.errors
    assert matching[0].row == 3  # header is row 1, the second data row is row 3
    assert reason in matching[0].reason
    assert [r.row for r in report.rows] == [2, 4]


def test_the_largest_accepted_amount_is_ten_trillion_yuan():
    columns, rows = sample(1)
    columns = sorted({*columns, "credit_limit"})
    rows[0]["credit_limit"] = "10000000000000.00"
    report = validate_portfolio(columns, cells(columns, rows), today=TODAY)
    assert report.ok, report.errors
    assert report.rows[0].credit_limit_fen == 10**15


def test_every_error_of_a_row_is_listed_not_just_the_first():
    columns, rows = sample(1)
    rows[0]["phone"] = "123"
    rows[0]["principal"] = "x"
    rows[0]["opened_on"] = "yesterday"
    report = validate_portfolio(columns, cells(columns, rows), today=TODAY)
    assert {e.column for e in report.errors} == {"phone", "principal", "opened_on"}


@pytest.mark.parametrize(
    ("latitude", "longitude", "expected"),
    [
        ("999", "116.4", [("latitude", "999.0 is outside -90.0..90.0")]),
        ("39.9", "north", [("longitude", "'north' is not a number")]),
        ("999", "999", [("latitude", "outside"), ("longitude", "outside")]),
        ("39.9", "", [("latitude", "latitude and longitude must be given together")]),
        ("", "116.4", [("latitude", "latitude and longitude must be given together")]),
    ],
)
def test_a_bad_coordinate_is_one_error_the_pair_rule_only_for_a_missing_one(
    latitude, longitude, expected
):
    columns, rows = sample(1)
    columns = sorted({*columns, "latitude", "longitude"})
    rows[0].update(latitude=latitude, longitude=longitude)
    report = validate_portfolio(columns, cells(columns, rows), today=TODAY)
    found = [(e.column, e.reason) for e in report.errors]
    assert len(found) == len(expected), found
    for (column, reason), (want_column, want_reason) in zip(found, expected, strict=True):
        assert column == want_column and want_reason in reason, found


def test_duplicate_account_numbers_in_one_file_are_refused():
    columns, rows = sample(3)
    rows[2]["account_number"] = rows[0]["account_number"]
    report = validate_portfolio(columns, cells(columns, rows), today=TODAY)
    assert len(report.errors) == 1
    assert report.errors[0].row == 4
    assert "first on row 2" in report.errors[0].reason


def test_one_id_number_under_two_names_is_refused():
    columns, rows = sample(2)
    rows[1]["id_number"] = rows[0]["id_number"]
    rows[1]["debtor_type"] = rows[0]["debtor_type"]
    rows[1]["name"] = rows[0]["name"] + "某"
    report = validate_portfolio(columns, cells(columns, rows), today=TODAY)
    assert any("belongs to" in e.reason for e in report.errors)


def test_missing_required_column_is_a_file_level_error():
    columns, rows = sample(2)
    columns = [c for c in columns if c != "principal"]
    report = validate_portfolio(columns, cells(columns, rows), today=TODAY)
    assert [(e.row, e.column) for e in report.errors] == [(1, "principal")]
    assert report.rows == []


def test_birth_date_must_agree_with_the_id_number():
    columns, rows = sample(3)
    person = next(r for r in rows if r["debtor_type"] == "person")
    person["birth_date"] = "1900-01-01"
    columns = sorted(set(columns) | {"birth_date"})
    report = validate_portfolio(columns, cells(columns, rows), today=TODAY)
    assert any(e.column == "birth_date" and "disagrees" in e.reason for e in report.errors)


def test_unknown_columns_are_reported_as_ignored():
    columns, rows = sample(1)
    report = validate_portfolio([*columns, "备注"], cells(columns, rows), today=TODAY)
    assert report.ok
    assert report.ignored_columns == ["备注"]


@pytest.mark.parametrize(("text", "bp"), [("14.6", 1460), ("14.6%", 1460), ("0", 0), ("7.25", 725)])
def test_rates_are_read_in_percent_to_basis_points(text, bp):
    assert parse_rate_bp(text) == bp


def test_blank_lines_are_skipped_without_shifting_row_numbers():
    columns, rows = sample(2)
    body = cells(columns, rows)
    body.insert(1, [""] * len(columns))
    body[2][columns.index("phone")] = "000"
    report = validate_portfolio(columns, body, today=TODAY)
    assert [e.row for e in report.errors] == [4]


# The fast path (plain rows read in one pass) must accept only rows the full reader accepts,
# with the same values; everything else falls through to the full reader.
TRICKY = (
    "",
    " ",
    "0",
    "00",
    "007",
    "-1",
    "-0",
    "1.",
    ".5",
    "12.5",
    "12.50",
    "12.505",
    "1,234.56",
    "12,34",
    "1,2,3,4",
    "12,345,678",
    "¥12",
    "12元",
    "１２",
    "١٢",
    "1e3",
    "nan",
    "x",
    "X",
    "是",
    "否",
    "YES",
    "n",
    "maybe",
    "2026-02-30",
    "2026/01/01",
    "20260101",
    "2026-1-01",
    "2099-01-01",
    "1899-12-31",
    "2026-11-20 08:00:00",
    "13800138000",
    "+86 138-0013-8000",
    "12800138000",
    "010-12345678",
    "Asia/Tokyo",
    "Mars/Olympus",
    "91.0",
    "-181",
    "100",
    "100.5",
    "14.6%",
    "14.600",
    "601",
    "31",
    "-3",
    "10",
    "消费贷",
    "Small Business",
    "企业",
    "失业",
    "a@b.c",
    "a@b",
    "甲;乙；丙",
    "10000000000000",
    "10000000000000.01",
    "99999999999999999999.99",
)


def _quick_and_full(columns, row_cells):
    from debtflow.core.portfolio.fast_path import _QuickReader
    from debtflow.core.portfolio.records import HeaderMap
    from debtflow.core.portfolio.validation import validate_row

    headers = HeaderMap(columns)
    quick = _QuickReader(headers).read(5, row_cells, today=TODAY, latest_birth=date.today())
    return quick, validate_row(5, row_cells, headers, today=TODAY)


@pytest.mark.parametrize("creditor", range(len(CREDITORS)))
def test_fast_path_reads_plain_rows_exactly_as_the_full_reader(creditor):
    rows = generate_rows(CREDITORS[creditor], count=60, seed=5, today=TODAY)
    columns = sorted({k for r in rows for k in r} | {"birth_date", "dependents"})
    for row_cells in cells(columns, rows):
        quick, (full, errors) = _quick_and_full(columns, row_cells)
        assert errors == []
        assert quick is not None  # the generator writes plain rows: the fast path takes them
        assert quick == full


def test_fast_path_never_accepts_what_the_full_reader_refuses_or_reads_differently():
    import random

    rng = random.Random(7)
    rows = [
        *generate_rows(CREDITORS[0], count=40, seed=8, today=TODAY),
        *generate_rows(CREDITORS[2], count=40, seed=9, today=TODAY),
    ]
    columns = sorted({k for r in rows for k in r} | {"birth_date", "dependents"})
    body = cells(columns, rows)
    refused = taken = 0
    for _ in range(6000):
        row_cells = list(rng.choice(body))
        for _ in range(rng.randint(1, 2)):
            row_cells[rng.randrange(len(columns))] = rng.choice(TRICKY)
        quick, (full, errors) = _quick_and_full(columns, row_cells)
        if quick is None:
            refused += 1
            continue
        taken += 1
        assert errors == [], (row_cells, errors)
        assert quick == full
    assert refused > 500 and taken > 500  # both branches were exercised


def test_a_missing_required_column_names_the_headers_that_were_not_recognised():
    from debtflow.core.portfolio.columns import BY_NAME
    from debtflow.core.portfolio.records import HeaderMap
    from debtflow.core.portfolio.validation import header_errors

    header = [c.name for c in BY_NAME.values() if c.required and c.name != "principal"]
    errors = header_errors(HeaderMap([*header, "未还本金（元）"]))
    assert [e.column for e in errors] == ["principal"]
    assert "未还本金（元）" in errors[0].reason and "not recognised" in errors[0].reason
