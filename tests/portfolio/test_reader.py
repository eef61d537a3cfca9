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
