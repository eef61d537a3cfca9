"""A demo of any size from one case up, shared among the creditors to the last case; and
``--reset`` never leaves an emptied database behind a demo that could not be built without
saying so (what would stop the build is refused before the reset)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from typer.testing import CliRunner

from debtflow.cli.main import app as cli
from debtflow.core.errors import InvalidInput
from debtflow.db import get_engine
from debtflow.demo import service
from debtflow.models import Account, Case, Creditor, User

runner = CliRunner()


def demo(*args: str):
    return runner.invoke(cli, ["demo", "--no-serve", *args], catch_exceptions=False)


def stored(model: type) -> int:
    with get_engine().connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize(
    ("cases", "counts"),
    [(1, [1, 0, 0]), (2, [1, 1, 0]), (3, [1, 1, 1]), (7, [4, 2, 1]), (2000, [1000, 600, 400])],
)
def test_the_cases_are_shared_among_the_creditors_by_largest_remainder(cases, counts):
    assert service.portfolio_counts(cases) == counts


@given(st.integers(min_value=1, max_value=1_000_000))
def test_the_shares_add_up_to_the_cases_and_none_is_a_whole_case_off(cases):
    counts = service.portfolio_counts(cases)
    assert sum(counts) == cases
    total = sum(service.SHARES)
    for count, share in zip(counts, service.SHARES, strict=True):
        assert abs(count * total - cases * share) < total  # within one case of its share


@pytest.mark.parametrize("cases", ["1", "2"])
def test_a_demo_smaller_than_the_creditors_is_built_after_a_reset(database_url, cases):
    """``--cases 1`` gave a creditor an empty file, refused after --reset had emptied the
    database."""
    assert demo("--cases", "5", "--seed", "3").exit_code == 0
    result = demo("--cases", cases, "--seed", "3", "--reset")
    assert result.exit_code == 0, result.output
    assert (stored(Account), stored(Case)) == (int(cases), int(cases))
    assert stored(Creditor) == 3 and stored(User) > 0


def test_what_would_stop_the_build_is_refused_before_the_reset(database_url, tmp_path):
    assert demo("--cases", "5", "--seed", "3").exit_code == 0
    (tmp_path / "demo").rename(tmp_path / "demo-before")
    (tmp_path / "demo").write_text("a file where the demo's folder goes")
    result = demo("--cases", "5", "--reset")
    assert result.exit_code == 2, result.output
    assert "cannot create the demo's folder" in result.stderr
    assert (stored(Account), stored(Case)) == (5, 5)  # not reset


def test_a_build_that_fails_after_the_reset_says_the_database_was_reset(database_url, monkeypatch):
    assert demo("--cases", "5", "--seed", "3").exit_code == 0

    def failing_build(session, **kwargs):
        raise InvalidInput("the build went wrong")

    monkeypatch.setattr(service, "build", failing_build)
    result = demo("--cases", "5", "--reset")
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "error: the build went wrong"
    assert "the demo was not built, and --reset had already emptied" in lines[1]
    assert "it holds no data now" in lines[1]
    assert (stored(Account), stored(Case), stored(User)) == (0, 0, 0)
    # without --reset nothing was emptied, and nothing is said about it
    result = demo("--cases", "5")
    assert result.exit_code == 2 and "--reset" not in result.stderr
