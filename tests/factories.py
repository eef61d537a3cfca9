"""Keyword-only factories: every test states the data it depends on."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from debtflow.creditor import service as creditor_service
from debtflow.demo.portfolio import CREDITORS, generate_rows
from debtflow.models import Creditor

TODAY = date(2026, 11, 20)


def make_creditor(session: Session, *, code: str = "TESTBANK", name: str = "测试银行") -> Creditor:
    return creditor_service.save(session, code=code, name=name)


def portfolio_rows(*, count: int, seed: int = 1, start: int = 0) -> list[dict[str, str]]:
    return generate_rows(CREDITORS[1], count=count, seed=seed, today=TODAY, start=start)


def write_portfolio(
    path: Path,
    rows: Sequence[dict[str, str]],
    *,
    columns: Sequence[str] | None = None,
    encoding: str = "utf-8",
) -> Path:
    cols = list(columns or sorted({k for r in rows for k in r}))
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(cols)
        for row in rows:
            writer.writerow([row.get(c, "") for c in cols])
    return path
