"""Read a creditor's portfolio file: CSV in UTF-8 or GBK/GB18030, or XLSX."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import overload

from debtflow.core.errors import InvalidInput
from debtflow.core.portfolio.columns import COLUMNS, HEADER_LOOKUP, header_key
from debtflow.core.portfolio.identifiers import EXCEL_ROUNDED


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
    # cells that cannot be taken as stored: {spreadsheet row: [(column label, reason)]}
    cell_problems: dict[int, list[tuple[str, str]]] = field(default_factory=dict)


_CJK = re.compile("[\u3400-\u9fff\uf900-\ufaff]")


def _line_of(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


def _mixed_encodings(raw: bytes) -> str | None:
    """Why a file that is not all UTF-8 mixes encodings — a line of Chinese in valid UTF-8
    and another line that is not UTF-8 — naming the first line that differs from the lines
    before it; None when no line reads as UTF-8 Chinese."""
    first_utf8 = first_other = 0
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if line.isascii():
            continue
        try:
            utf8 = _CJK.search(line.decode("utf-8")) is not None
        except UnicodeDecodeError:
            utf8 = False
        if utf8:
            first_utf8 = first_utf8 or number
        else:
            first_other = first_other or number
        if first_utf8 and first_other:
            differs = max(first_utf8, first_other)
            other = "UTF-8" if differs == first_utf8 else "not UTF-8 (GBK?)"
            return (
                f"the file mixes encodings: line {differs} is {other}, unlike line "
                f"{min(first_utf8, first_other)}; save the whole file in one encoding "
                "(UTF-8 or GBK)"
            )
    return None


def decode(raw: bytes) -> tuple[str, str]:
    """UTF-8 (with or without BOM) first, then GB18030 (a superset of GBK). A file that
    mixes UTF-8 and GBK lines is refused rather than guessed."""
    if raw.startswith(b"\xef\xbb\xbf"):
        try:
            return raw[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            offset = exc.start + 3
            raise UnreadableFile(
                f"the file starts with a UTF-8 byte-order mark but byte 0x{raw[offset]:02x} at "
                f"offset {offset} (line {_line_of(raw, offset)}) is not UTF-8: the file mixes "
                "encodings; save the whole file as UTF-8"
            ) from exc
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    mixed = _mixed_encodings(raw)
    if mixed is not None:
        raise UnreadableFile(mixed)
    try:
        return raw.decode("gb18030"), "gbk"
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            f"the file is neither UTF-8 nor GBK text (undecodable byte at offset {exc.start}, "
            f"line {_line_of(raw, exc.start)})"
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


# columns whose numeric cells are kinds of their own: identifiers must be exact; amounts
# are read to the cent, without the binary noise of a formula's result
IDENTIFIER_COLUMNS = frozenset(
    {"account_number", "id_number"} | {c.name for c in COLUMNS if c.kind == "phone"}
)
AMOUNT_COLUMNS = frozenset(c.name for c in COLUMNS if c.kind == "yuan")
# Excel keeps 15 significant digits of a number; a longer one has lost digits
_EXACT_DIGITS = 15


def _column_kind(header_text: str) -> str:
    name = HEADER_LOOKUP.get(header_key(header_text or ""))
    if name in IDENTIFIER_COLUMNS:
        return "identifier"
    if name in AMOUNT_COLUMNS:
        return "yuan"
    return ""


def cell_text(value: object, kind: str = "") -> tuple[str, str | None]:
    """The text of an XLSX cell for a column of ``kind`` (``identifier``, ``yuan`` or
    other), and why it cannot be taken (None when it can). A number in an identifier column
    must be an exact integer of at most 15 digits; a number in an amount column is read to
    the cent when it is within 1e-6 of a value with at most two decimals."""
    if value is None:
        return "", None
    if isinstance(value, datetime):
        return value.date().isoformat(), None
    if isinstance(value, date):
        return value.isoformat(), None
    if isinstance(value, bool):
        return str(value), None
    if kind == "identifier" and isinstance(value, int | float):
        exact = isinstance(value, int) or value.is_integer()
        if not exact or abs(value) >= 10**_EXACT_DIGITS:
            return repr(value), f"Excel stored this cell as a number ({value!r}): {EXCEL_ROUNDED}"
        return str(int(value)), None
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value)), None
        if kind == "yuan":
            cents = round(value, 2)
            if abs(value - cents) <= 1e-6:
                return repr(cents), None
        return repr(value), None
    return str(value), None


def _xlsx_rows(path: Path, problems: dict[int, list[tuple[str, str]]]) -> Iterator[list[str]]:
    """The first sheet's rows as text; cells that cannot be taken as they are stored go to
    ``problems`` ({spreadsheet row: [(column as the file names it, reason)]})."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise UnreadableFile(f"{path.name} is not a readable XLSX workbook: {exc}") from exc
    try:
        sheet = workbook.worksheets[0]
        header: list[str] | None = None
        kinds: list[str] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if header is None:
                cells = [cell_text(v)[0] for v in values]
                if any(c.strip() for c in cells):
                    header = cells
                    kinds = [_column_kind(h) for h in header]
                yield cells
                continue
            cells = []
            for position, value in enumerate(values):
                kind = kinds[position] if position < len(kinds) else ""
                text, problem = cell_text(value, kind)
                if problem is not None:
                    problems.setdefault(number, []).append((header[position].strip(), problem))
                cells.append(text)
            yield cells
    finally:
        workbook.close()


def read_portfolio(path: Path) -> PortfolioSheet:
    if not path.exists():
        raise UnreadableFile(f"no such file: {path}")
    if path.is_dir():
        raise UnreadableFile(f"{path} is a directory, not a portfolio file")
    suffix = path.suffix.lower()
    rows: Sequence[list[str]]
    cell_problems: dict[int, list[tuple[str, str]]] = {}
    if suffix in (".xlsx", ".xlsm"):
        rows = list(_xlsx_rows(path, cell_problems))
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
        cell_problems=cell_problems,
    )
