"""Stored repayment-history JSON → (status, statement, paid) arrays, the nightly read path."""

import json

import numpy as np
import pytest

from debtflow.core.strategy.features import monthly_history_from_json


def _history(months: list[tuple[int, int, int]], *, order: tuple[str, ...] | None = None) -> str:
    keys = order or ("status", "statement_fen", "paid_fen")
    return json.dumps(
        [{k: v for k, v in zip(keys, _pick(keys, month), strict=True)} for month in months]
    )


def _pick(keys: tuple[str, ...], month: tuple[int, int, int]) -> list[int]:
    named = dict(zip(("status", "statement_fen", "paid_fen"), month, strict=True))
    return [named[k] for k in keys]


def _by_json(texts: list[str | None], months: int) -> tuple[np.ndarray, ...]:
    """The definition, one text at a time."""
    n = len(texts)
    status = np.full((n, months), -2, dtype=np.int64)
    statement = np.zeros((n, months), dtype=np.int64)
    paid = np.zeros((n, months), dtype=np.int64)
    for i, text in enumerate(texts):
        for m, month in enumerate((json.loads(text) if text else None or [])[:months]):
            status[i, m] = month["status"]
            statement[i, m] = month["statement_fen"]
            paid[i, m] = month["paid_fen"]
    return status, statement, paid


def _random_texts(rng: np.random.Generator, n: int, order: tuple[str, ...] | None = None):
    texts: list[str | None] = []
    for _ in range(n):
        count = int(rng.integers(0, 9))  # fewer and more months than the model uses
        months = [
            (
                int(rng.integers(-2, 10)),
                int(rng.integers(-50_000, 10**9)),
                int(rng.integers(0, 10**7)),
            )
            for _ in range(count)
        ]
        texts.append(_history(months, order=order))
    return texts


@pytest.mark.parametrize(
    "order",
    [
        None,
        ("status", "paid_fen", "statement_fen"),  # how PostgreSQL jsonb prints them
        ("paid_fen", "statement_fen", "status"),
    ],
)
def test_bulk_read_equals_reading_each_text(order: tuple[str, ...] | None) -> None:
    texts = _random_texts(np.random.default_rng(3), 400, order)
    texts[5] = None
    texts[6] = ""
    got = monthly_history_from_json(texts, 6)
    want = _by_json(texts, 6)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)


def test_missing_months_are_no_use_and_extra_months_are_ignored() -> None:
    text = _history([(3, 100, 0), (2, 90, 5)] + [(1, 1, 1)] * 6)
    status, statement, paid = monthly_history_from_json([text, "[]", "null", None], 6)
    assert status[0].tolist() == [3, 2, 1, 1, 1, 1]
    assert statement[0, :2].tolist() == [100, 90] and paid[0, 1] == 5
    assert status[1:].tolist() == [[-2] * 6] * 3
    assert statement[1:].sum() == 0 and paid[1:].sum() == 0
    status, _, _ = monthly_history_from_json([_history([(4, 1, 1)])], 6)
    assert status[0].tolist() == [4, -2, -2, -2, -2, -2]


def test_mixed_key_orders_and_non_integers_take_the_exact_path() -> None:
    texts = [
        _history([(1, 100, 2), (0, 50, 50)]),
        _history([(2, 300, 0)], order=("paid_fen", "status", "statement_fen")),
        '[{"status": 1, "statement_fen": 1e+05, "paid_fen": 0}]',
        '[{"status": -1, "statement_fen": 2500.0, "paid_fen": 12}]',
        '[{"status":0,"statement_fen":-7,"paid_fen":3}]',  # compact spacing
    ]
    status, statement, paid = monthly_history_from_json(texts, 3)
    assert status[:, 0].tolist() == [1, 2, 1, -1, 0]
    assert statement[:, 0].tolist() == [100, 300, 100_000, 2_500, -7]
    assert paid[:, 0].tolist() == [2, 0, 0, 12, 3]
    assert statement[0, 1] == 50 and status[1, 1] == -2


def test_a_month_without_its_amounts_is_an_error_not_a_zero() -> None:
    with pytest.raises(KeyError):
        monthly_history_from_json(['[{"status": 1, "paid_fen": 0}]'], 6)
