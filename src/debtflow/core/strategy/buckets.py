"""Delinquency buckets from days past due.

The default edges give M1 1–30, M2 31–60, M3 61–90, M4 91–120, M5 121–150 and M6+ beyond;
a case that is not past due is ``M0`` (current). Operators may configure other edges.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_EDGES: tuple[int, ...] = (30, 60, 90, 120, 150)
CURRENT = "M0"


@dataclass(frozen=True)
class BucketScheme:
    """Upper day limits of M1, M2, …; the last bucket is open-ended (``M{n+1}+``)."""

    edges: tuple[int, ...] = DEFAULT_EDGES

    def __post_init__(self) -> None:
        if not self.edges:
            raise ValueError("a bucket scheme needs at least one edge")
        if any(e <= 0 for e in self.edges):
            raise ValueError("bucket edges must be positive day counts")
        if list(self.edges) != sorted(set(self.edges)):
            raise ValueError("bucket edges must be strictly increasing")

    @classmethod
    def from_edges(cls, edges: Sequence[int]) -> BucketScheme:
        return cls(tuple(int(e) for e in edges))

    @property
    def names(self) -> tuple[str, ...]:
        inner = tuple(f"M{i + 1}" for i in range(len(self.edges)))
        return (CURRENT, *inner, f"M{len(self.edges) + 1}+")

    def bucket(self, days_past_due: int) -> str:
        if days_past_due < 0:
            raise ValueError("days past due cannot be negative")
        if days_past_due == 0:
            return CURRENT
        for i, edge in enumerate(self.edges):
            if days_past_due <= edge:
                return f"M{i + 1}"
        return f"M{len(self.edges) + 1}+"

    def rank(self, bucket: str) -> int:
        """Order of a bucket name: M0 is 0, M1 is 1, …; unknown names raise."""
        try:
            return self.names.index(bucket)
        except ValueError as exc:
            raise ValueError(f"unknown bucket {bucket!r} for edges {self.edges}") from exc
