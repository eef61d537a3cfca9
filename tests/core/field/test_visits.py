"""Check-in distance, micro-degree conversion and name masking, without a database."""

from __future__ import annotations

import pytest

from debtflow.core.dispatch.geo import GeoPoint
from debtflow.core.field.visits import (
    CONNECTED_OUTCOMES,
    VisitOutcome,
    checkin_distance,
    from_micro,
    mask_name,
    to_micro,
)

HOME = GeoPoint(30.2741, 120.1551)


def test_micro_degrees_round_half_away_from_zero_and_back():
    assert to_micro(30.2741) == 30_274_100
    assert to_micro(-33.8688197) == -33_868_820
    assert to_micro(0.0000005) == 1
    assert to_micro(-0.0000005) == -1
    assert from_micro(120_155_100) == pytest.approx(120.1551)


def test_one_thousandth_of_a_degree_of_latitude_is_about_111_metres():
    near = checkin_distance(latitude=30.2751, longitude=120.1551, address=HOME)
    assert near.metres == 111
    assert near.far is False


def test_beyond_the_threshold_is_far_and_the_threshold_itself_is_not():
    # 0.005 degree of latitude north: 556 m
    far = checkin_distance(latitude=30.2791, longitude=120.1551, address=HOME)
    assert far.metres == 556
    assert far.far is True
    assert (
        checkin_distance(latitude=30.2791, longitude=120.1551, address=HOME, far_metres=556).far
        is False
    )
    assert (
        checkin_distance(latitude=30.2791, longitude=120.1551, address=HOME, far_metres=555).far
        is True
    )


def test_longitude_degrees_shrink_with_latitude():
    # 0.01 degree of longitude at 30.27° N is 1112.0 m x cos(30.27°) = 960.3 m
    east = checkin_distance(latitude=30.2741, longitude=120.1651, address=HOME)
    assert east.metres == 960


def test_unknown_address_gives_no_distance_and_no_flag():
    result = checkin_distance(latitude=30.0, longitude=120.0, address=None)
    assert result.metres is None and result.far is False


@pytest.mark.parametrize(("lat", "lon"), [(91.0, 120.0), (30.0, 181.0), (-90.5, 0.0)])
def test_a_position_off_the_globe_is_refused(lat, lon):
    with pytest.raises(ValueError):
        checkin_distance(latitude=lat, longitude=lon, address=HOME)


def test_negative_threshold_is_refused():
    with pytest.raises(ValueError):
        checkin_distance(latitude=30.0, longitude=120.0, address=HOME, far_metres=-1)


@pytest.mark.parametrize(
    ("name", "shown"),
    [("王小明", "王*明"), ("张三", "张*"), ("欧阳娜娜", "欧**娜"), ("李", "李"), ("", "")],
)
def test_names_are_masked_keeping_the_surname(name, shown):
    assert mask_name(name) == shown


def test_only_meeting_the_debtor_counts_as_connected():
    assert VisitOutcome.NOT_HOME not in CONNECTED_OUTCOMES
    assert VisitOutcome.WRONG_ADDRESS not in CONNECTED_OUTCOMES
    assert VisitOutcome.MET_THIRD_PARTY not in CONNECTED_OUTCOMES
    assert VisitOutcome.PROMISE in CONNECTED_OUTCOMES
