"""Checks across the rows of one portfolio file: an account number twice, one ID number
under two names.

:class:`CrossRowChecks` remembers every account number and ID number it has kept, so it can
run over a whole file in memory or over its chunks in order as intake writes them; a row that
clashes with an earlier one is dropped with a :class:`~debtflow.core.portfolio.records.RowError`
and its cells are kept for the creditor's rejected-rows file. :class:`KeyedRow` is what the
checks read of a row (a ``PortfolioRow`` or intake's prepared form).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from debtflow.core.portfolio.records import ChunkResult, HeaderMap, RowError


class KeyedRow(Protocol):
    """What the checks across rows read of a row (a ``PortfolioRow``, or the prepared form
    intake writes)."""

    @property
    def row(self) -> int: ...

    @property
    def account_number(self) -> str: ...

    @property
    def id_number(self) -> str: ...

    @property
    def name(self) -> str: ...


Keyed = TypeVar("Keyed", bound=KeyedRow)


class CrossRowChecks:
    """Checks that span rows: an account number twice, one ID number under two names."""

    def __init__(self, headers: HeaderMap) -> None:
        self.labels = headers.label
        self.accounts: dict[str, int] = {}
        self.names: dict[str, tuple[int, str]] = {}

    def check(self, row: KeyedRow) -> list[RowError]:
        errors: list[RowError] = []
        first = self.accounts.get(row.account_number)
        if first is not None:
            errors.append(
                RowError(
                    row.row,
                    self.labels["account_number"],
                    f"duplicate account number {row.account_number} (first on row {first})",
                )
            )
        known = self.names.get(row.id_number)
        if known is not None and known[1] != row.name:
            errors.append(
                RowError(
                    row.row,
                    self.labels["name"],
                    f"ID number {row.id_number} belongs to {known[1]!r} on row {known[0]}",
                )
            )
        if not errors:
            self.accounts[row.account_number] = row.row
            self.names.setdefault(row.id_number, (row.row, row.name))
        return errors

    def kept(
        self,
        rows: Sequence[Keyed],
        *,
        errors: list[RowError],
        rejected_rows: dict[int, list[str]],
        raw: Sequence[Sequence[str]],
        first_row: int,
    ) -> list[Keyed]:
        """``rows`` less those that clash with earlier rows; their errors are added to
        ``errors`` (kept in row order) and their cells to ``rejected_rows``."""
        kept: list[Keyed] = []
        for row in rows:
            clashes = self.check(row)
            if clashes:
                errors.extend(clashes)
                rejected_rows[row.row] = [c or "" for c in raw[row.row - first_row]]
            else:
                kept.append(row)
        errors.sort(key=lambda e: e.row)
        return kept

    def keep(self, chunk: ChunkResult, raw: Sequence[Sequence[str]], first_row: int) -> None:
        """Drop from ``chunk`` the rows that clash with earlier rows, recording why."""
        chunk.rows = self.kept(
            chunk.rows,
            errors=chunk.errors,
            rejected_rows=chunk.rejected_rows,
            raw=raw,
            first_row=first_row,
        )
