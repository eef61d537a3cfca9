"""Read a creditor's portfolio file: CSV in UTF-8 or GBK/GB18030, or XLSX."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from debtflow.core.errors import InvalidInput


class UnreadableFile(InvalidInput):
    code = "unreadable_file"


@dataclass
class PortfolioSheet:
    header: list[str]
    rows: list[list[str]]
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


def _csv_rows(text: str) -> Iterator[list[str]]:
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first_line.count)
    yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


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
    if suffix in (".xlsx", ".xlsm"):
        rows = list(_xlsx_rows(path))
        encoding = "xlsx"
    elif suffix in (".csv", ".txt", ".tsv", ""):
        text, encoding = decode(path.read_bytes())
        rows = list(_csv_rows(text))
    else:
        raise UnreadableFile(f"unsupported file type {suffix!r}: use CSV (UTF-8 or GBK) or XLSX")
    skipped = 0
    while skipped < len(rows) and not any(c.strip() for c in rows[skipped]):
        skipped += 1
    if skipped == len(rows):
        raise UnreadableFile(f"{path.name} is empty")
    return PortfolioSheet(
        header=rows[skipped],
        rows=rows[skipped + 1 :],
        encoding=encoding,
        first_data_row=skipped + 2,
    )
