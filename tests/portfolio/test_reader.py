"""Reading CSV files: rows split lazily when no field is quoted, exactly as the csv module
reads the whole file."""

from __future__ import annotations

import csv
import io

import pytest

from debtflow.portfolio.reader import CsvLines, read_portfolio


def whole_file(text: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text, newline="")))
    while rows and not any(c.strip() for c in rows[0]):
        rows.pop(0)
    return rows


@pytest.mark.parametrize(
    "text",
    [
        "account_number,name\nA1,张三\nA2,李四\n",
        "account_number,name\r\nA1,张三\r\n\r\nA2,李四",
        "\n , \naccount_number,name\nA1,张三\n,\nA2,\n\n",
        "account_number,name,city\nA1,张三,\nA2,李四,北京 朝阳\n",
    ],
)
def test_unquoted_csv_is_read_line_by_line_as_the_csv_module_reads_it(tmp_path, text):
    path = tmp_path / "p.csv"
    path.write_bytes(text.encode())
    sheet = read_portfolio(path)
    expected = whole_file(text)
    assert isinstance(sheet.rows, CsvLines)
    assert [sheet.header, *sheet.rows] == expected
    assert [sheet.rows[i] for i in range(len(sheet.rows))] == expected[1:]
    assert sheet.rows[1:3] == expected[2:4]
    assert (
        sheet.first_data_row
        == text.replace("\r\n", "\n").split("\n").index(",".join(expected[0])) + 2
    )


@pytest.mark.parametrize(
    "text",
    [
        'account_number,name,address\nA1,张三,"北京\n朝阳区"\nA2,李四,"a, b"\n',
        "account_number,name\rA1,张三\rA2,李四\r",
    ],
)
def test_quoted_fields_and_bare_carriage_returns_are_read_by_the_csv_module(tmp_path, text):
    path = tmp_path / "p.csv"
    path.write_bytes(text.encode())
    sheet = read_portfolio(path)
    assert not isinstance(sheet.rows, CsvLines)
    assert [sheet.header, *sheet.rows] == whole_file(text)


@pytest.mark.parametrize(
    ("value", "kind", "text"),
    [
        (300.29999999999995, "yuan", "300.3"),  # a formula's 100.1 * 3: Excel shows 300.30
        (0.30000000000000004, "yuan", "0.3"),
        (1234.0, "yuan", "1234"),
        (300.305, "yuan", "300.305"),  # three decimals: left for the validator to refuse
        (13800138000.0, "identifier", "13800138000"),
        (123456789012345, "identifier", "123456789012345"),
        (2.5, "float", "2.5"),
    ],
)
def test_numeric_xlsx_cells_are_read_as_their_column_needs(value, kind, text):
    from debtflow.portfolio.reader import cell_text

    assert cell_text(value, kind) == (text, None)


@pytest.mark.parametrize("value", [4.4010619850313e17, 440106198503129984, 1234567890123456, 12.5])
def test_identifier_cells_excel_stored_as_inexact_numbers_are_refused(value):
    from debtflow.portfolio.reader import cell_text

    _, problem = cell_text(value, "identifier")
    assert (
        problem is not None and "as a number" in problem and "format the column as text" in problem
    )
