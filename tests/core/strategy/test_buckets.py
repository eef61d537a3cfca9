import pytest

from debtflow.core.strategy.buckets import BucketScheme


@pytest.mark.parametrize(
    ("dpd", "bucket"),
    [(0, "M0"), (1, "M1"), (30, "M1"), (31, "M2"), (60, "M2"), (61, "M3"), (90, "M3"),
     (91, "M4"), (120, "M4"), (121, "M5"), (150, "M5"), (151, "M6+"), (999, "M6+")],
)  # fmt: skip
def test_default_bucket_edges(dpd, bucket):
    assert BucketScheme().bucket(dpd) == bucket


def test_configured_edges():
    scheme = BucketScheme.from_edges([15, 45])
    assert [scheme.bucket(d) for d in (0, 15, 16, 45, 46)] == ["M0", "M1", "M2", "M2", "M3+"]
    assert scheme.names == ("M0", "M1", "M2", "M3+")
    assert scheme.rank("M3+") == 3


@pytest.mark.parametrize("edges", [[], [30, 30], [60, 30], [0, 30]])
def test_bad_edges_are_refused(edges):
    with pytest.raises(ValueError):
        BucketScheme.from_edges(edges)


def test_negative_days_are_refused():
    with pytest.raises(ValueError):
        BucketScheme().bucket(-1)
