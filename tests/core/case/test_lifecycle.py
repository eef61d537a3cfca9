import pytest

from debtflow.core.case.lifecycle import (
    FINAL_STATUSES,
    CaseStatus,
    IllegalTransition,
    allowed_next,
    check_transition,
)

S = CaseStatus


@pytest.mark.parametrize(
    ("current", "requested"),
    [(S.NEW, S.ACTIVE), (S.ACTIVE, S.PROMISED), (S.PROMISED, S.PAYING), (S.PAYING, S.SETTLED),
     (S.PROMISED, S.ACTIVE), (S.ACTIVE, S.LEGAL), (S.LEGAL, S.SETTLED), (S.ACTIVE, S.WRITTEN_OFF)],
)  # fmt: skip
def test_the_normal_path_is_allowed(current, requested):
    check_transition(current, requested)


@pytest.mark.parametrize("final", sorted(FINAL_STATUSES))
def test_final_states_have_no_way_out(final):
    assert allowed_next(final) == frozenset()
    with pytest.raises(IllegalTransition, match=f"from {final.value} to active"):
        check_transition(final, S.ACTIVE)


def test_refusal_says_which_move_and_why():
    with pytest.raises(IllegalTransition) as info:
        check_transition(S.SETTLED, S.ACTIVE)
    assert "cannot move case from settled to active" in str(info.value)
    assert "final" in str(info.value)
    assert info.value.status_code == 409


def test_hold_needs_a_reason():
    with pytest.raises(IllegalTransition, match="needs a reason"):
        check_transition(S.ACTIVE, S.ON_HOLD, hold_reason="  ")
    check_transition(S.ACTIVE, S.ON_HOLD, hold_reason="debtor in hospital")


def test_leaving_a_hold_resumes_where_the_case_was():
    check_transition(S.ON_HOLD, S.PROMISED, held_from=S.PROMISED)
    with pytest.raises(IllegalTransition, match="resumes there"):
        check_transition(S.ON_HOLD, S.ACTIVE, held_from=S.PROMISED)
    check_transition(S.ON_HOLD, S.LEGAL, held_from=S.PROMISED)


def test_moving_to_the_same_state_is_refused():
    with pytest.raises(IllegalTransition, match="already active"):
        check_transition(S.ACTIVE, S.ACTIVE)


def test_legal_cannot_go_back_to_promised():
    with pytest.raises(IllegalTransition, match="legal proceedings"):
        check_transition(S.LEGAL, S.PROMISED)
