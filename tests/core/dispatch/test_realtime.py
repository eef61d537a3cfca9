"""Real-time single-case placement."""

from __future__ import annotations

import numpy as np
import pytest

from debtflow.core.dispatch.assignment import (
    NO_COLLECTOR,
    AssignmentPolicy,
    CandidateTable,
    solve_assignment,
)
from debtflow.core.dispatch.realtime import RealtimeAssignmentError, RealtimeDispatcher


def _ids(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int32)


def _fen(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def test_best_value_collector_with_hours_free_wins() -> None:
    dispatcher = RealtimeDispatcher(np.array([10.0, 10.0, 10.0]))
    choice = dispatcher.assign(1, _ids(0, 1, 2), _fen(500, 900, 700), 2.0)
    assert (choice.collector, choice.runner_up) == (1, 2)
    assert dispatcher.load_hours.tolist() == [0.0, 2.0, 0.0]
    assert dispatcher.collector_of(1) == 1


def test_full_collector_is_skipped_and_no_room_means_queue() -> None:
    dispatcher = RealtimeDispatcher(np.array([3.0, 1.0]))
    first = dispatcher.assign(1, _ids(0, 1), _fen(900, 100), 2.5)
    second = dispatcher.assign(2, _ids(0, 1), _fen(900, 100), 1.0)
    third = dispatcher.assign(3, _ids(0, 1), _fen(900, 100), 1.0)
    assert first.collector == 0
    assert second.collector == 1  # collector 0 has only 0.5 h left
    assert third.collector == NO_COLLECTOR and third.runner_up == NO_COLLECTOR
    assert dispatcher.assigned_cases == 2


def test_nightly_prices_steer_towards_cheaper_hours() -> None:
    dispatcher = RealtimeDispatcher(np.array([10.0, 10.0]), price_per_hour=np.array([300.0, 0.0]))
    choice = dispatcher.assign(1, _ids(0, 1), _fen(1_000, 800), 2.0)
    assert choice.collector == 1  # 1000 - 600 < 800


def test_returned_case_goes_back_to_its_collector_unless_gain_beats_threshold() -> None:
    policy = AssignmentPolicy(continuity_threshold_fen=300)
    dispatcher = RealtimeDispatcher(np.array([10.0, 10.0]), policy=policy)
    assert dispatcher.assign(7, _ids(0, 1), _fen(1_000, 900), 1.0).collector == 0
    dispatcher.release(7)
    assert dispatcher.load_hours.tolist() == [0.0, 0.0]
    # back with a better offer elsewhere, but not better by more than the threshold
    assert dispatcher.assign(7, _ids(0, 1), _fen(1_000, 1_200), 1.0).collector == 0
    dispatcher.release(7)
    assert dispatcher.assign(7, _ids(0, 1), _fen(1_000, 1_400), 1.0).collector == 1


def test_fair_share_penalty_moves_work_to_a_less_loaded_collector() -> None:
    policy = AssignmentPolicy(fair_share=0.5, fairness_penalty_fen_per_hour=200)
    dispatcher = RealtimeDispatcher(np.array([4.0, 4.0]), policy=policy)
    placed = [dispatcher.assign(i, _ids(0, 1), _fen(1_000, 900), 1.0).collector for i in range(4)]
    assert placed == [0, 0, 1, 1]


def test_plan_is_loaded_with_its_hours() -> None:
    dispatcher = RealtimeDispatcher(np.array([5.0, 5.0]))
    dispatcher.load_plan(
        np.array([10, 11, 12], dtype=np.int64),
        np.array([0, NO_COLLECTOR, 1], dtype=np.int32),
        np.array([2.0, 3.0, 4.5]),
    )
    assert dispatcher.load_hours.tolist() == [2.0, 4.5]
    assert dispatcher.assigned_cases == 2
    assert dispatcher.assign(13, _ids(0, 1), _fen(100, 900), 1.0).collector == 0


@pytest.mark.parametrize(
    ("candidates", "values", "effort", "message"),
    [
        (_ids(0, 5), _fen(1, 2), 1.0, "does not exist"),
        (_ids(0, 1), _fen(1), 1.0, "one value per candidate"),
        (_ids(0, 1), _fen(1, 2), 0.0, "positive"),
    ],
)
def test_bad_placement_input_is_rejected(
    candidates: np.ndarray, values: np.ndarray, effort: float, message: str
) -> None:
    dispatcher = RealtimeDispatcher(np.array([5.0, 5.0]))
    with pytest.raises(RealtimeAssignmentError, match=message):
        dispatcher.assign(1, candidates, values, effort)


def test_double_assignment_and_unknown_release_are_errors() -> None:
    dispatcher = RealtimeDispatcher(np.array([5.0]))
    dispatcher.assign(1, _ids(0), _fen(10), 1.0)
    with pytest.raises(RealtimeAssignmentError, match="already assigned"):
        dispatcher.assign(1, _ids(0), _fen(10), 1.0)
    with pytest.raises(RealtimeAssignmentError, match="not assigned"):
        dispatcher.release(2)
    with pytest.raises(RealtimeAssignmentError, match="capacities"):
        RealtimeDispatcher(np.array([-1.0]))


@pytest.mark.parametrize(
    ("values", "previous", "expected"),
    [
        ((-20_000, -30_000), NO_COLLECTOR, NO_COLLECTOR),  # worth nothing anywhere: queue
        ((0, 0), NO_COLLECTOR, NO_COLLECTOR),  # worth exactly nothing: queue too
        ((-3_000, 1_000), 0, 0),  # the continuity bonus lifts the old collector above 0
        ((-6_000, -1_000), 0, NO_COLLECTOR),  # ... but not this far
        ((-500, 300), NO_COLLECTOR, 1),
    ],
)
def test_a_case_worth_nothing_with_anyone_waits_as_in_the_nightly_plan(
    values: tuple[int, int], previous: int, expected: int
) -> None:
    """Real time places a case where the nightly plan would, also when the answer is
    nowhere: a score (value plus continuity bonus less priced hours and fairness) of zero
    or below leaves the case in the queue."""
    policy = AssignmentPolicy(continuity_threshold_fen=5_000)
    dispatcher = RealtimeDispatcher(np.array([5.0, 5.0]), policy=policy)
    choice = dispatcher.assign(1, _ids(0, 1), _fen(*values), 1.0, previous_collector=previous)
    assert choice.collector == expected
    table = CandidateTable(
        collector=_ids(0, 1).reshape(1, 2),
        value_fen=_fen(*values).reshape(1, 2),
        effort_hours=np.ones(1),
        capacity_hours=np.array([5.0, 5.0]),
        current_collector=_ids(previous),
    )
    assert int(solve_assignment(table, policy).collector_of_case[0]) == expected
    if expected == NO_COLLECTOR:
        assert dispatcher.load_hours.tolist() == [0.0, 0.0]
        assert dispatcher.collector_of(1) == NO_COLLECTOR
        assert dispatcher.assigned_cases == 0
