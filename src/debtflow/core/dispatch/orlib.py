"""Reader for Beasley's OR-Library Generalized Assignment Problem files.

Layout (whitespace separated integers): the number of problems P, then for each problem
``m n``, the m x n cost (or profit) matrix row by row, the m x n resource matrix and the m
agent capacities. Yagiura's large instances use the same layout without the leading P.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

IntMatrix = npt.NDArray[np.int64]


class GapFormatError(ValueError):
    """The text is not a well-formed OR-Library GAP file."""


@dataclass(frozen=True)
class GapInstance:
    """One GAP problem: ``cost[i, j]`` and ``resource[i, j]`` for agent i and job j."""

    cost: IntMatrix
    resource: IntMatrix
    capacity: IntMatrix

    @property
    def agents(self) -> int:
        return int(self.cost.shape[0])

    @property
    def jobs(self) -> int:
        return int(self.cost.shape[1])

    def __post_init__(self) -> None:
        if self.cost.ndim != 2 or self.cost.shape != self.resource.shape:
            raise GapFormatError("cost and resource must be matrices of the same shape")
        if self.capacity.shape != (self.cost.shape[0],):
            raise GapFormatError("there must be one capacity per agent")
        if self.cost.shape[0] < 1 or self.cost.shape[1] < 1:
            raise GapFormatError("a problem needs at least one agent and one job")
        if (self.resource < 0).any() or (self.capacity < 0).any():
            raise GapFormatError("resources and capacities must not be negative")


def _tokens_to_ints(text: str) -> list[int]:
    values: list[int] = []
    for position, token in enumerate(text.split()):
        try:
            values.append(int(token))
        except ValueError:
            try:
                number = float(token)
            except ValueError:
                raise GapFormatError(f"token {position + 1} ({token!r}) is not a number") from None
            if not number.is_integer():
                raise GapFormatError(
                    f"token {position + 1} ({token!r}) is not an integer"
                ) from None
            values.append(int(number))
    return values


def _read_problem(values: list[int], start: int, label: str) -> tuple[GapInstance, int]:
    if start + 2 > len(values):
        raise GapFormatError(f"{label}: missing the 'agents jobs' header")
    agents, jobs = values[start], values[start + 1]
    if agents < 1 or jobs < 1:
        raise GapFormatError(f"{label}: agents and jobs must be positive, got {agents} {jobs}")
    need = 2 * agents * jobs + agents
    body = values[start + 2 : start + 2 + need]
    if len(body) < need:
        raise GapFormatError(
            f"{label}: expected {need} numbers for {agents} agents x {jobs} jobs, found {len(body)}"
        )
    array = np.asarray(body, dtype=np.int64)
    size = agents * jobs
    instance = GapInstance(
        cost=array[:size].reshape(agents, jobs),
        resource=array[size : 2 * size].reshape(agents, jobs),
        capacity=array[2 * size :].copy(),
    )
    return instance, start + 2 + need


def parse_gap_text(text: str) -> list[GapInstance]:
    """All problems in an OR-Library GAP text (with or without the leading count)."""
    values = _tokens_to_ints(text)
    if not values:
        raise GapFormatError("the file is empty")
    # With a leading count P the rest must hold exactly P problems; a single Yagiura
    # problem starts directly with "m n".
    if len(values) >= 3:
        try:
            problems = _read_counted(values)
        except GapFormatError as counted_error:
            try:
                single, end = _read_problem(values, 0, "problem 0")
            except GapFormatError:
                raise counted_error from None
            if end != len(values):
                raise counted_error from None
            return [single]
        return problems
    raise GapFormatError("the file is too short to hold a GAP problem")


def _read_counted(values: list[int]) -> list[GapInstance]:
    count = values[0]
    if count < 1:
        raise GapFormatError(f"the problem count must be positive, got {count}")
    problems: list[GapInstance] = []
    position = 1
    for index in range(count):
        instance, position = _read_problem(values, position, f"problem {index}")
        problems.append(instance)
    if position != len(values):
        raise GapFormatError(f"{len(values) - position} numbers left over after {count} problem(s)")
    return problems


def read_gap_file(path: str | Path) -> list[GapInstance]:
    """Parse a file; raises :class:`GapFormatError` (also for an unreadable file)."""
    try:
        text = Path(path).read_text(encoding="ascii", errors="strict")
    except (OSError, UnicodeDecodeError) as error:
        raise GapFormatError(f"cannot read {path}: {error}") from error
    return parse_gap_text(text)
