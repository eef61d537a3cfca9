"""Reading Beasley's OR-Library GAP format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from debtflow.core.dispatch.orlib import GapFormatError, parse_gap_text, read_gap_file

DATA = Path(__file__).resolve().parents[3] / "data" / "gap"

TWO_PROBLEMS = """2
2 3
1 2 3
4 5 6
7 8 9
10 11 12
20 30
1 2
5 6
9 8
9
"""


def test_counted_file_gives_each_problem_with_matrices_in_agent_rows() -> None:
    first, second = parse_gap_text(TWO_PROBLEMS)
    assert first.agents == 2 and first.jobs == 3
    np.testing.assert_array_equal(first.cost, [[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(first.resource, [[7, 8, 9], [10, 11, 12]])
    np.testing.assert_array_equal(first.capacity, [20, 30])
    assert second.agents == 1 and second.jobs == 2
    np.testing.assert_array_equal(second.capacity, [9])


def test_single_problem_without_count_as_in_yagiura_files() -> None:
    (problem,) = parse_gap_text("2 2\n1 2\n3 4\n5 6\n7 8\n10 11\n")
    np.testing.assert_array_equal(problem.cost, [[1, 2], [3, 4]])
    np.testing.assert_array_equal(problem.capacity, [10, 11])


def test_shipped_orlibrary_files_parse() -> None:
    problems = read_gap_file(DATA / "gap1.txt")
    assert len(problems) == 5
    assert all(p.agents == 5 and p.jobs == 15 for p in problems)
    type_a = read_gap_file(DATA / "gapa.txt")
    assert [(p.agents, p.jobs) for p in type_a] == [
        (5, 100),
        (5, 200),
        (10, 100),
        (10, 200),
        (20, 100),
        (20, 200),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("1\n2 2\n1 x\n", "not a number"),
        ("1\n2 2\n1 2.5 3 4 5 6 7 8 9 9\n", "not an integer"),
        ("1\n2 3\n1 2 3 4 5 6\n", "expected 14 numbers"),
        ("1\n1 1\n5 1 2 7\n", "left over"),
        ("1\n0 3\n", "must be positive"),
        ("1\n1 2\n5 5 -1 2 9\n", "must not be negative"),
    ],
)
def test_malformed_text_is_rejected_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(GapFormatError, match=message):
        parse_gap_text(text)


def test_missing_file_is_a_format_error(tmp_path: Path) -> None:
    with pytest.raises(GapFormatError, match="cannot read"):
        read_gap_file(tmp_path / "nope.txt")
