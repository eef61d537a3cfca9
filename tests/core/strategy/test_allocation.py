import pytest

from debtflow.core.strategy.allocation import Outstanding, allocate

OWED = Outstanding(fees_fen=50_00, penalty_fen=30_00, interest_fen=120_00, principal_fen=1000_00)


def test_payment_goes_fees_then_penalty_then_interest_then_principal():
    split = allocate(100_00, OWED)
    assert (split.to_fees_fen, split.to_penalty_fen, split.to_interest_fen) == (50_00, 30_00, 20_00)
    assert split.to_principal_fen == 0
    assert split.remaining == Outstanding(0, 0, 100_00, 1000_00)


def test_overpayment_is_reported_not_dropped():
    split = allocate(OWED.total_fen + 1, OWED)
    assert split.overpaid_fen == 1
    assert split.remaining.total_fen == 0
    assert split.applied_fen + split.overpaid_fen == OWED.total_fen + 1


@pytest.mark.parametrize("amount", [0, -1])
def test_non_positive_payments_are_refused(amount):
    with pytest.raises(ValueError):
        allocate(amount, OWED)


def test_no_fen_is_lost_for_any_amount():
    for amount in range(1, 1300_00, 977):
        split = allocate(amount, OWED)
        assert split.applied_fen + split.overpaid_fen == amount
        assert split.remaining.total_fen == OWED.total_fen - split.applied_fen
