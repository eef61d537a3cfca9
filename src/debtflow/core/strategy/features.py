"""Features for the propensity-to-pay model, built from a neutral monthly repayment history.

The neutral structure is :class:`RepaymentHistory`: for ``n`` cases and ``m`` months (index 0 is
the most recent month) it holds the repayment status, the statement amount and the amount paid,
plus the credit line and the debtor's age.  Any source format maps onto it: the UCI "default of
credit card clients" layout through :func:`history_from_uci_columns`, the production portfolio
format (same six months of status / statement / paid amounts) through its importer.

Status codes follow the UCI convention: ``-2`` no use of the line, ``-1`` paid in full,
``0`` revolving (minimum paid), ``k >= 1`` payment ``k`` months late (``9`` = nine or more).
Amounts are integer minor units (fen for the portfolio; the UCI amounts are whole NT$, carried
as given because the model only sees ratios and logarithms of them).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

HISTORY_MONTHS = 6
"""Months of history the shipped model is trained on (most recent first)."""

UCI_STATUS_COLUMNS: tuple[str, ...] = ("PAY_0", "PAY_2", "PAY_3", "PAY_4", "PAY_5", "PAY_6")
UCI_STATEMENT_COLUMNS: tuple[str, ...] = tuple(f"BILL_AMT{k}" for k in range(1, 7))
UCI_PAID_COLUMNS: tuple[str, ...] = tuple(f"PAY_AMT{k}" for k in range(1, 7))
UCI_LIMIT_COLUMN = "LIMIT_BAL"
UCI_AGE_COLUMN = "AGE"
UCI_TARGET_COLUMN = "default.payment.next.month"
UCI_REQUIRED_COLUMNS: tuple[str, ...] = (
    UCI_LIMIT_COLUMN,
    UCI_AGE_COLUMN,
    *UCI_STATUS_COLUMNS,
    *UCI_STATEMENT_COLUMNS,
    *UCI_PAID_COLUMNS,
)


class HistoryShapeError(ValueError):
    """The arrays of a repayment history do not line up."""


@dataclass(frozen=True)
class RepaymentHistory:
    """Monthly repayment history of ``n`` cases over ``m`` months, month 0 the most recent."""

    status: npt.NDArray[np.int64]
    """(n, m) repayment status codes (-2 no use, -1 paid in full, 0 revolving, k months late)."""
    statement_amount: npt.NDArray[np.int64]
    """(n, m) statement balance of each month, integer minor units (may be negative: credit)."""
    paid_amount: npt.NDArray[np.int64]
    """(n, m) amount paid during each month, integer minor units."""
    credit_limit: npt.NDArray[np.int64]
    """(n,) credit line, integer minor units."""
    age_years: npt.NDArray[np.float64]
    """(n,) debtor's age in years; NaN where unknown."""

    def __post_init__(self) -> None:
        if self.status.ndim != 2:
            raise HistoryShapeError("status must be a 2-D array (cases x months)")
        n, m = self.status.shape
        if m < 2:
            raise HistoryShapeError("at least two months of history are needed")
        for name in ("statement_amount", "paid_amount"):
            if getattr(self, name).shape != (n, m):
                raise HistoryShapeError(f"{name} must have shape {(n, m)}")
        for name in ("credit_limit", "age_years"):
            if getattr(self, name).shape != (n,):
                raise HistoryShapeError(f"{name} must have shape {(n,)}")

    @property
    def cases(self) -> int:
        return int(self.status.shape[0])

    @property
    def months(self) -> int:
        return int(self.status.shape[1])


def history_from_uci_columns(columns: Mapping[str, npt.ArrayLike]) -> RepaymentHistory:
    """Map columns in the UCI layout (``PAY_0``, ``BILL_AMT1``… month 1 = most recent)."""
    missing = [c for c in UCI_REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise KeyError(f"missing UCI columns: {', '.join(missing)}")

    def whole(name: str) -> npt.NDArray[np.int64]:
        # the published file writes some amounts as "1e+05"; values are whole numbers
        values = np.asarray(columns[name], dtype=np.float64)
        if not np.isfinite(values).all():
            raise ValueError(f"column {name} has a missing or non-numeric value")
        return np.rint(values).astype(np.int64)

    def stack(names: Sequence[str]) -> npt.NDArray[np.int64]:
        return np.column_stack([whole(c) for c in names])

    return RepaymentHistory(
        status=stack(UCI_STATUS_COLUMNS),
        statement_amount=stack(UCI_STATEMENT_COLUMNS),
        paid_amount=stack(UCI_PAID_COLUMNS),
        credit_limit=whole(UCI_LIMIT_COLUMN),
        age_years=np.asarray(columns[UCI_AGE_COLUMN], dtype=np.float64),
    )


def feature_names(months: int = HISTORY_MONTHS) -> tuple[str, ...]:
    """Names of the columns :func:`build_features` returns, in order."""
    per_month = [
        *(f"status_m{k}" for k in range(months)),
        *(f"utilisation_m{k}" for k in range(months)),
        *(f"pay_ratio_m{k}" for k in range(months - 1)),
        *(f"log_paid_m{k}" for k in range(months)),
        *(f"spend_ratio_m{k}" for k in range(months - 1)),
    ]
    summary = [
        "log_credit_limit",
        "age_years",
        "log_statement_m0",
        "months_late",
        "months_two_plus_late",
        "max_status",
        "months_paid_in_full",
        "months_no_use",
        "months_since_late",
        "status_trend",
        "utilisation_trend",
        "mean_pay_ratio",
        "total_paid_over_statements",
        "months_paid_nothing",
        "headroom_ratio",
        "months_bill_paid_off",
        "paid_over_limit",
    ]
    return (*per_month, *summary)


def build_features(history: RepaymentHistory) -> npt.NDArray[np.float32]:
    """Engineered feature matrix (n, len(feature_names(m))) as float32.

    Utilisation is statement / credit line; the pay ratio of month k is the amount paid in
    month k over the statement of month k+1 (the bill it settles), capped at 2; the spend ratio
    of month k is the new spending (statement change plus payments) over the credit line;
    delinquency counts, the trend of the status over the window and the months since the last
    late payment summarise the history.
    """
    status = history.status.astype(np.float32)
    statement = history.statement_amount.astype(np.float64)
    paid = history.paid_amount.astype(np.float64)
    limit = np.maximum(history.credit_limit.astype(np.float64), 1.0)
    n, m = status.shape

    utilisation = statement / limit[:, None]
    previous_bill = statement[:, 1:]
    pay_ratio = np.where(
        previous_bill > 0,
        paid[:, :-1] / np.maximum(previous_bill, 1.0),
        np.where(paid[:, :-1] > 0, 2.0, 1.0),
    )
    pay_ratio = np.minimum(pay_ratio, 2.0)
    log_paid = np.log1p(np.maximum(paid, 0.0))
    # new spending of month k: statement change plus what was paid in between, per credit line
    spend_ratio = (statement[:, :-1] - statement[:, 1:] + paid[:, :-1]) / limit[:, None]

    late = status > 0
    months_late = late.sum(axis=1)
    any_late = late.any(axis=1)
    first_late = np.argmax(late, axis=1).astype(np.float32)
    months_since_late = np.where(any_late, first_late, float(m))
    weights = np.arange(m, dtype=np.float64) - (m - 1) / 2.0
    denominator = float((weights**2).sum())
    # slope over time with month 0 the latest: positive means getting worse recently
    status_trend = -(status.astype(np.float64) @ weights) / denominator
    utilisation_trend = -(utilisation @ weights) / denominator
    positive_bills = np.maximum(statement[:, 1:], 0.0).sum(axis=1)
    total_paid = np.maximum(paid[:, :-1], 0.0).sum(axis=1)
    total_ratio = np.where(positive_bills > 0, total_paid / np.maximum(positive_bills, 1.0), 1.0)

    summary = np.column_stack(
        [
            np.log1p(limit),
            history.age_years,
            np.sign(statement[:, 0]) * np.log1p(np.abs(statement[:, 0])),
            months_late,
            (status >= 2).sum(axis=1),
            status.max(axis=1),
            (status == -1).sum(axis=1),
            (status == -2).sum(axis=1),
            months_since_late,
            status_trend,
            utilisation_trend,
            pay_ratio.mean(axis=1),
            np.minimum(total_ratio, 5.0),
            (paid <= 0).sum(axis=1),
            (limit - statement[:, 0]) / limit,
            (paid[:, :-1] >= np.maximum(previous_bill, 0.0)).sum(axis=1),
            np.maximum(paid, 0.0).sum(axis=1) / limit,
        ]
    )
    matrix = np.hstack([status, utilisation, pay_ratio, log_paid, spend_ratio, summary]).astype(
        np.float32
    )
    assert matrix.shape == (n, len(feature_names(m)))
    return matrix


HISTORY_KEYS: tuple[str, str, str] = ("status", "statement_fen", "paid_fen")
"""Keys of one month in the portfolio's stored repayment history (JSON list, latest first)."""

_NUMBER_BYTES = bytes(c if chr(c) in "0123456789-" else 32 for c in range(256))
_DROP_FROM_SKELETON = b"0123456789- \t\r\n"


def monthly_history_from_json(
    texts: Sequence[str | None], months: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(status, statement, paid) arrays (n, months) from stored repayment-history JSON texts.

    Each text is a JSON list of ``{"status", "statement_fen", "paid_fen"}`` objects, latest
    month first (or empty / ``null`` / ``None``: no history).  Months beyond ``months`` are
    ignored; months a history does not have are "no use" (status -2, amounts 0).

    A million histories are read in a few seconds: when every text has the same key order and
    integer values (what the importer and PostgreSQL write), all numbers are taken from the
    texts at once; anything else is decoded one text at a time with :mod:`json`.
    """
    n = len(texts)
    status = np.full((n, months), -2, dtype=np.int64)
    statement = np.zeros((n, months), dtype=np.int64)
    paid = np.zeros((n, months), dtype=np.int64)
    cleaned = [t if t and t != "null" else "[]" for t in texts]
    fast = _numbers_in_key_order(cleaned)
    if fast is None:
        for i, text in enumerate(cleaned):
            for m, month in enumerate(json.loads(text)[:months]):
                status[i, m] = int(month["status"])
                statement[i, m] = int(month["statement_fen"])
                paid[i, m] = int(month["paid_fen"])
        return status, statement, paid
    values, counts = fast
    row = np.repeat(np.arange(n), counts)
    starts = np.cumsum(counts) - counts
    month = np.arange(row.size) - np.repeat(starts, counts)
    keep = month < months
    row, month, values = row[keep], month[keep], values[keep]
    status[row, month] = values[:, 0]
    statement[row, month] = values[:, 1]
    paid[row, month] = values[:, 2]
    return status, statement, paid


def _numbers_in_key_order(
    texts: Sequence[str],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None:
    """All months' (status, statement, paid) as one (total, 3) array plus months per text,
    or None when the texts are not all plain integer lists with one shared key order."""
    sample = next((t for t in texts if "{" in t), None)
    counts = np.fromiter((t.count("{") for t in texts), dtype=np.int64, count=len(texts))
    if sample is None:
        return np.zeros((0, 3), dtype=np.int64), counts
    first = sample[: sample.find("}") + 1]
    order = sorted(HISTORY_KEYS, key=lambda key: first.find(f'"{key}"'))
    if any(first.find(f'"{key}"') < 0 for key in order):
        return None
    month_skeleton = "{" + ",".join(f'"{key}":' for key in order) + "}"
    skeletons = {
        int(c): ("[" + ",".join([month_skeleton] * int(c)) + "]") for c in np.unique(counts)
    }
    expected = "\n".join(skeletons[int(c)] for c in counts).encode()
    joined = "\n".join(texts).encode()
    if joined.translate(None, _DROP_FROM_SKELETON) != expected.translate(None, b"\n"):
        return None
    numbers = np.array(joined.translate(_NUMBER_BYTES).split(), dtype=np.int64)
    if numbers.size != 3 * int(counts.sum()):
        return None
    values = numbers.reshape(-1, 3)[:, [order.index(key) for key in HISTORY_KEYS]]
    return np.ascontiguousarray(values), counts
