"""Read a creditor's portfolio file: CSV in UTF-8 or GBK/GB18030, or XLSX."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import overload

from debtflow.core.errors import InvalidInput


class UnreadableFile(InvalidInput):
    code = "unreadable_file"


class CsvLines(Sequence[list[str]]):
    """The rows of a CSV text in which no field is quoted, so each line is one row: split
    into cells only when read. A large file's rows are then parsed by the worker processes
    that validate them, not all up front by the importing process."""

    def __init__(self, lines: list[str], delimiter: str) -> None:
        self.lines = lines
        self.delimiter = delimiter

    def __len__(self) -> int:
        return len(self.lines)

    def __iter__(self) -> Iterator[list[str]]:
        return iter(csv.reader(self.lines, delimiter=self.delimiter))

    def from_line(self, start: int) -> CsvLines:
        """The rows from ``start`` on, still unparsed."""
        return CsvLines(self.lines[start:], self.delimiter)

    @overload
    def __getitem__(self, index: int) -> list[str]: ...

    @overload
    def __getitem__(self, index: slice) -> list[list[str]]: ...

    def __getitem__(self, index: int | slice) -> list[str] | list[list[str]]:
        if isinstance(index, slice):
            return list(csv.reader(self.lines[index], delimiter=self.delimiter))
        return next(csv.reader([self.lines[index]], delimiter=self.delimiter))


@dataclass
class PortfolioSheet:
    header: list[str]
    rows: Sequence[list[str]]
    encoding: str
    first_data_row: int = 2  # spreadsheet row number of rows[0]


def decode(raw: bytes) -> tuple[str, str]:
    """UTF-8 (with or without BOM) first, then GB18030 (a superset of GBK)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8"), "utf-8-sig"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030"), "gbk"
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            f"the file is neither UTF-8 nor GBK text (undecodable byte at offset {exc.start})"
        ) from exc


def _csv_rows(text: str) -> Sequence[list[str]]:
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first_line.count)
    if '"' not in text and text.count("\r") == text.count("\r\n"):
        # no quoted field and no line break but \n (\r\n): one line is one row
        lines = text.split("\n")
        if lines[-1] == "":
            lines.pop()
        return CsvLines(lines, delimiter)
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _xlsx_rows(path: Path) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise UnreadableFile(f"{path.name} is not a readable XLSX workbook: {exc}") from exc
    try:
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield [_cell_text(v) for v in values]
    finally:
        workbook.close()


def read_portfolio(path: Path) -> PortfolioSheet:
    if not path.exists():
        raise UnreadableFile(f"no such file: {path}")
    if path.is_dir():
        raise UnreadableFile(f"{path} is a directory, not a portfolio file")
    suffix = path.suffix.lower()
    rows: Sequence[list[str]]
    if suffix in (".xlsx", ".xlsm"):
        rows = list(_xlsx_rows(path))
        encoding = "xlsx"
    elif suffix in (".csv", ".txt", ".tsv", ""):
        text, encoding = decode(path.read_bytes())
        rows = _csv_rows(text)
    else:
        raise UnreadableFile(f"unsupported file type {suffix!r}: use CSV (UTF-8 or GBK) or XLSX")
    skipped = 0
    while skipped < len(rows) and not any(c.strip() for c in rows[skipped]):
        skipped += 1
    if skipped == len(rows):
        raise UnreadableFile(f"{path.name} is empty")
    return PortfolioSheet(
        header=rows[skipped],
        rows=rows.from_line(skipped + 1) if isinstance(rows, CsvLines) else rows[skipped + 1 :],
        encoding=encoding,
        first_data_row=skipped + 2,
    )
