"""Collectors: online agents, field agents, part-time collectors and law firms."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from debtflow.collector import repository
from debtflow.core.errors import InvalidInput
from debtflow.models import Collector
from debtflow.models.enums import CollectorKind


@dataclass(frozen=True)
class CollectorSpec:
    code: str
    name: str
    kind: CollectorKind
    home_province: str
    home_city: str
    regions: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    capacity_hours_week: int = 40
    latitude: float | None = None
    longitude: float | None = None
    active: bool = True
    extra: dict[str, str] = field(default_factory=dict)


def save_many(session: Session, *, specs: Sequence[CollectorSpec]) -> int:
    """Create or update collectors by code."""
    rows = []
    for spec in specs:
        if not spec.code.strip():
            raise InvalidInput("a collector needs a code")
        if not 0 < spec.capacity_hours_week <= 80:
            raise InvalidInput(f"{spec.code}: weekly capacity must be 1–80 hours")
        rows.append(
            {
                "code": spec.code,
                "name": spec.name,
                "kind": spec.kind.value,
                "home_province": spec.home_province,
                "home_city": spec.home_city,
                "regions": list(spec.regions),
                "tags": sorted(set(spec.tags)),
                "capacity_hours_week": spec.capacity_hours_week,
                "latitude": spec.latitude,
                "longitude": spec.longitude,
                "active": spec.active,
            }
        )
    for start in range(0, len(rows), 1000):
        repository.upsert(session, rows[start : start + 1000])
    return len(rows)


def count_by_kind(session: Session) -> dict[str, int]:
    return dict(repository.count_by_kind(session))


def active(session: Session) -> Sequence[Collector]:
    return repository.active(session)
