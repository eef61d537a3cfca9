import numpy as np
import pytest

from debtflow.core.strategy.features import (
    UCI_REQUIRED_COLUMNS,
    HistoryShapeError,
    RepaymentHistory,
    build_features,
    feature_names,
    history_from_uci_columns,
)


def _one_case() -> RepaymentHistory:
    # month 0 is the latest: two months late now, paid in full three months ago
    return RepaymentHistory(
        status=np.array([[2, 1, 0, -1, -2, -2]], dtype=np.int64),
        statement_amount=np.array([[5_000, 4_000, 2_000, 1_000, 0, 0]], dtype=np.int64),
        paid_amount=np.array([[0, 1_000, 1_000, 0, 0, 0]], dtype=np.int64),
        credit_limit=np.array([10_000], dtype=np.int64),
        age_years=np.array([35.0]),
    )


def test_engineered_features_follow_their_definitions() -> None:
    row = dict(zip(feature_names(), build_features(_one_case())[0], strict=True))
    assert row["utilisation_m0"] == pytest.approx(0.5)
    assert row["pay_ratio_m0"] == pytest.approx(0.0)  # paid 0 against last month's 4,000 bill
    assert row["pay_ratio_m1"] == pytest.approx(0.5)  # 1,000 against 2,000
    assert row["pay_ratio_m3"] == pytest.approx(1.0)  # no bill to pay: counts as settled
    assert row["months_late"] == 2
    assert row["months_two_plus_late"] == 1
    assert row["max_status"] == 2
    assert row["months_paid_in_full"] == 1
    assert row["months_no_use"] == 2
    assert row["months_since_late"] == 0
    assert row["status_trend"] > 0  # getting worse towards the latest month
    assert row["headroom_ratio"] == pytest.approx(0.5)
    assert row["age_years"] == 35.0


def test_features_do_not_depend_on_other_cases_in_the_batch() -> None:
    one = build_features(_one_case())
    rng = np.random.default_rng(3)
    n = 50
    others = RepaymentHistory(
        status=rng.integers(-2, 9, (n, 6)),
        statement_amount=rng.integers(-1_000, 100_000, (n, 6)),
        paid_amount=rng.integers(0, 50_000, (n, 6)),
        credit_limit=rng.integers(1, 500_000, n),
        age_years=rng.uniform(20, 70, n),
    )
    case = _one_case()
    mixed = RepaymentHistory(
        status=np.vstack([others.status, case.status]),
        statement_amount=np.vstack([others.statement_amount, case.statement_amount]),
        paid_amount=np.vstack([others.paid_amount, case.paid_amount]),
        credit_limit=np.r_[others.credit_limit, case.credit_limit],
        age_years=np.r_[others.age_years, case.age_years],
    )
    matrix = build_features(mixed)
    np.testing.assert_array_equal(matrix[-1], one[0])
    assert np.isfinite(matrix).all()


def test_unknown_age_stays_missing_for_the_model() -> None:
    case = _one_case()
    unknown = RepaymentHistory(
        case.status, case.statement_amount, case.paid_amount, case.credit_limit, np.array([np.nan])
    )
    row = dict(zip(feature_names(), build_features(unknown)[0], strict=True))
    assert np.isnan(row["age_years"])


def test_misshapen_histories_are_refused() -> None:
    case = _one_case()
    with pytest.raises(HistoryShapeError, match="statement_amount"):
        RepaymentHistory(
            case.status,
            case.statement_amount[:, :5],
            case.paid_amount,
            case.credit_limit,
            case.age_years,
        )
    with pytest.raises(HistoryShapeError, match="credit_limit"):
        RepaymentHistory(
            case.status, case.statement_amount, case.paid_amount, np.array([1, 2]), case.age_years
        )


def test_uci_columns_map_month_one_to_the_latest_month() -> None:
    columns = {name: ["0"] for name in UCI_REQUIRED_COLUMNS}
    columns["PAY_0"] = ["3"]
    columns["BILL_AMT1"] = ["1e+05"]  # the published file writes some amounts like this
    columns["LIMIT_BAL"] = ["200000"]
    history = history_from_uci_columns(columns)
    assert history.status[0, 0] == 3
    assert history.statement_amount[0, 0] == 100_000
    assert history.credit_limit[0] == 200_000


def test_uci_mapping_names_missing_and_bad_columns() -> None:
    columns = {name: ["0"] for name in UCI_REQUIRED_COLUMNS if name != "PAY_AMT6"}
    with pytest.raises(KeyError, match="PAY_AMT6"):
        history_from_uci_columns(columns)
    columns = {name: ["0"] for name in UCI_REQUIRED_COLUMNS}
    columns["BILL_AMT2"] = ["nan"]
    with pytest.raises(ValueError, match="BILL_AMT2"):
        history_from_uci_columns(columns)
