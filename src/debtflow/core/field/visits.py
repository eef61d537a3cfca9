"""Field visits without a database: the outcomes an agent records, and how far a check-in
was from the debtor's address.

Coordinates travel as integer micro-degrees (1e-6 degree, about 0.11 m at the equator)
wherever they are stored or hashed, so the evidence log never carries a float.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from debtflow.core.dispatch.geo import GeoPoint, haversine_km

MICRO = 1_000_000
DEFAULT_FAR_METRES = 500


class VisitStatus(StrEnum):
    """Where a field-visit request stands."""

    REQUESTED = "requested"
    SCHEDULED = "scheduled"
    VISITED = "visited"
    CANCELLED = "cancelled"


OPEN_REQUEST_STATUSES = frozenset({VisitStatus.REQUESTED, VisitStatus.SCHEDULED})


class VisitOutcome(StrEnum):
    """What happened at the door."""

    MET_DEBTOR = "met_debtor"
    PROMISE = "promise"
    REFUSED = "refused"
    NOT_HOME = "not_home"
    WRONG_ADDRESS = "wrong_address"
    MET_THIRD_PARTY = "met_third_party"


# outcomes in which the agent spoke with the debtor (the contact "connected")
CONNECTED_OUTCOMES = frozenset(
    {VisitOutcome.MET_DEBTOR, VisitOutcome.PROMISE, VisitOutcome.REFUSED}
)


def to_micro(degrees: float) -> int:
    """Degrees as integer micro-degrees (rounded half away from zero)."""
    scaled = abs(degrees) * MICRO
    whole = int(scaled + 0.5)
    return -whole if degrees < 0 else whole


def from_micro(micro: int) -> float:
    return micro / MICRO


@dataclass(frozen=True)
class CheckinDistance:
    """How far a check-in was from the visited address; ``metres`` is None when the
    address has no map position (then nothing can be said, and it is not flagged far)."""

    metres: int | None
    far: bool


def checkin_distance(
    *,
    latitude: float,
    longitude: float,
    address: GeoPoint | None,
    far_metres: int = DEFAULT_FAR_METRES,
) -> CheckinDistance:
    """Great-circle distance (whole metres) from the reported position to the address,
    flagged ``far`` when it exceeds ``far_metres``. Raises ValueError for a position that
    is not a coordinate or a negative threshold."""
    if far_metres < 0:
        raise ValueError("the far threshold cannot be negative")
    here = GeoPoint(latitude, longitude)
    if address is None:
        return CheckinDistance(metres=None, far=False)
    metres = round(haversine_km(here, address) * 1000)
    return CheckinDistance(metres=metres, far=metres > far_metres)


def mask_name(name: str) -> str:
    """A debtor's name as a route sheet shows it: the first character (a Chinese surname,
    or a business name's first word character) and, for three or more characters, the
    last; everything between as ``*``. '张三' → '张*', '王小明' → '王*明'."""
    text = name.strip()
    if len(text) <= 1:
        return text
    if len(text) == 2:
        return text[0] + "*"
    return text[0] + "*" * (len(text) - 2) + text[-1]
