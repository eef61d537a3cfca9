"""From database rows to the matching core's profiles, and who may work which case.

The documented rules (docs/dispatch.md):

* a case *needs* a law firm when it is in the legal status or channel or its treatment is
  legal; a field visit when its channel is field, or when it is more than 90 days past
  due with at least ¥10,000 outstanding and a known address position; else online work;
* legal cases go to law firms and to online agents with legal skill; field cases to field
  agents and part-time collectors who cover the debtor's city or province and sit within
  100 km; online cases to online agents. A case with nobody eligible falls back to the
  online agents.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from debtflow.core.dispatch.features import (
    LEGAL_SKILL_NEEDED,
    CaseProfile,
    Channel,
    CollectorProfile,
    CollectorType,
    ProductType,
    Segment,
    collector_regions,
    covers_region,
    region_key,
)
from debtflow.core.dispatch.geo import GeoPoint, haversine_km

FIELD_RANGE_KM = 100.0
FIELD_MIN_DAYS_PAST_DUE = 90
FIELD_MIN_BALANCE_FEN = 1_000_000

CHANNELS_BY_KIND: dict[CollectorType, frozenset[Channel]] = {
    CollectorType.ONLINE_AGENT: frozenset({Channel.PHONE, Channel.SMS, Channel.APP, Channel.VIDEO}),
    CollectorType.FIELD_AGENT: frozenset({Channel.VISIT, Channel.PHONE, Channel.LETTER}),
    CollectorType.PART_TIME: frozenset({Channel.VISIT, Channel.PHONE}),
    CollectorType.LAW_FIRM: frozenset({Channel.LETTER, Channel.PHONE}),
}
COST_PER_CASE_FEN = {
    CollectorType.ONLINE_AGENT: 1_500,
    CollectorType.FIELD_AGENT: 6_000,
    CollectorType.PART_TIME: 2_000,
    CollectorType.LAW_FIRM: 30_000,
}
COST_PER_KM_FEN = {CollectorType.FIELD_AGENT: 80, CollectorType.PART_TIME: 50}
COMMISSION_BP = {CollectorType.PART_TIME: 1_500}
# weekly hours one case takes, by who works it: a phone agent's case is light, a field
# visit or a lawsuit is not. Capacity in cases = weekly hours / effort.
EFFORT_HOURS = {
    CollectorType.ONLINE_AGENT: 0.25,
    CollectorType.FIELD_AGENT: 3.0,
    CollectorType.PART_TIME: 3.0,
    CollectorType.LAW_FIRM: 1.5,
}


@dataclass(frozen=True)
class CollectorEntry:
    """A collector as dispatch sees it: the core profile plus what eligibility needs."""

    profile: CollectorProfile
    code: str
    name: str
    capacity_hours: float
    effort_hours: float  # weekly hours of one case for this collector
    covers: frozenset[str]  # cities / provinces as region keys (`collector_regions`)
    nationwide: bool


def capacity_cases(capacity_hours: float, kind: CollectorType) -> int:
    return int(capacity_hours / EFFORT_HOURS[kind] + 1e-9)


def _tagged(tags: Sequence[str], prefix: str) -> frozenset[str]:
    return frozenset(t.split(":", 1)[1] for t in tags if t.startswith(prefix + ":"))


def collector_entry(row: Any) -> CollectorEntry:
    kind = CollectorType(str(row.kind))
    tags = list(row.tags or ())
    skills = _tagged(tags, "skill")
    styles = set(_tagged(tags, "style"))
    if "rural" in skills:
        styles.add("rural")
    legal = 0.0
    if kind is CollectorType.LAW_FIRM:
        legal = 1.0
    elif "legal" in skills:
        legal = 0.8
    elif "retired_judge" in _tagged(tags, "background"):
        legal = 0.6
    regions = [r for r in (row.regions or ()) if r]
    covers, nationwide = collector_regions(regions)
    location = None
    if row.latitude is not None and row.longitude is not None:
        location = GeoPoint(float(row.latitude), float(row.longitude))
    capacity = float(row.capacity_hours_week)
    profile = CollectorProfile(
        collector_id=int(row.id),
        kind=kind,
        regions=frozenset(regions),  # '全国' kept: the core's region rule reads it
        channels=CHANNELS_BY_KIND[kind],
        open_cases=0,
        capacity_cases=capacity_cases(capacity, kind),
        cost_per_case_fen=COST_PER_CASE_FEN[kind],
        style_tags=frozenset(styles),
        legal_skill=legal,
        industries=_tagged(tags, "industry"),
        dialects=_tagged(tags, "dialect"),
        location=location,
        commission_bp=COMMISSION_BP.get(kind, 0),
        cost_per_km_fen=COST_PER_KM_FEN.get(kind, 0),
    )
    return CollectorEntry(
        profile=profile,
        code=str(row.code),
        name=str(row.name),
        capacity_hours=capacity,
        effort_hours=EFFORT_HOURS[kind],
        covers=covers,
        nationwide=nationwide,
    )


@dataclass(frozen=True)
class CaseEntry:
    profile: CaseProfile
    need: str  # online, field, legal
    province: str | None
    current_collector_id: int | None


def case_entry(
    row: Any,
    *,
    address: Any | None,
    has_phone: bool,
    product: str | None,
    emotions: Mapping[str, int] | None = None,
    intents: Mapping[str, int] | None = None,
) -> CaseEntry:
    """``emotions`` and ``intents`` count the debtor's analysed utterances (conversation
    analysis) in the history window; absent history reads as neutral."""
    location = None
    if address is not None and address.latitude is not None and address.longitude is not None:
        location = GeoPoint(float(address.latitude), float(address.longitude))
    reachable: set[Channel] = set()
    if has_phone:
        reachable |= {Channel.PHONE, Channel.SMS, Channel.APP}
    if address is not None:
        reachable.add(Channel.LETTER)
        if location is not None:
            reachable.add(Channel.VISIT)
    treatment = row.treatment or {}
    status, channel = str(row.status), str(row.channel)
    if status == "legal" or channel == "legal" or treatment.get("kind") == "legal":
        need = "legal"
    elif channel == "field" or (
        row.days_past_due > FIELD_MIN_DAYS_PAST_DUE
        and row.outstanding_fen >= FIELD_MIN_BALANCE_FEN
        and location is not None
    ):
        need = "field"
    else:
        need = "online"
    propensity = row.propensity if row.propensity is not None else 0.5
    profile = CaseProfile(
        case_id=int(row.id),
        days_past_due=max(0, int(row.days_past_due)),
        balance_fen=max(0, int(row.outstanding_fen)),
        segment=Segment(row.segment) if row.segment else Segment.POTENTIAL,
        propensity=min(1.0, max(0.0, float(propensity))),
        product=ProductType(product) if product else ProductType.CONSUMER,
        region=address.city if address is not None else "",
        province=address.province if address is not None else None,
        reachable=frozenset(reachable),
        industry=row.industry if product == ProductType.SMALL_BUSINESS.value else None,
        location=location,
        timezone=row.timezone or "Asia/Shanghai",
        emotions=dict(emotions or {}),
        intents=dict(intents or {}),
    )
    return CaseEntry(
        profile=profile,
        need=need,
        province=address.province if address is not None else None,
        current_collector_id=row.assigned_collector_id,
    )


def eligible(case: CaseEntry, collector: CollectorEntry) -> bool:
    """May this collector work this case (region and licence), before the fallback."""
    kind = collector.profile.kind
    if case.need == "legal":
        return kind is CollectorType.LAW_FIRM or (
            kind is CollectorType.ONLINE_AGENT
            and collector.profile.legal_skill >= LEGAL_SKILL_NEEDED
        )
    if case.need == "field":
        if kind not in (CollectorType.FIELD_AGENT, CollectorType.PART_TIME):
            return False
        if not covers_region(
            collector.covers, collector.nationwide, case.profile.region, case.province
        ):
            return False
        here, there = case.profile.location, collector.profile.location
        return here is None or there is None or haversine_km(here, there) <= FIELD_RANGE_KM
    return kind is CollectorType.ONLINE_AGENT


class CollectorPool:
    """The active collectors with lookups that make eligibility O(candidates) per case."""

    def __init__(self, collectors: Sequence[CollectorEntry]) -> None:
        self.collectors = list(collectors)
        self.position = {k.profile.collector_id: i for i, k in enumerate(self.collectors)}
        self.online: list[int] = []
        self.legal: list[int] = []
        self.field_nationwide: list[int] = []
        self.field_by_place: dict[str, list[int]] = {}
        # online agents and law firms with the same profile get the same match value
        # (their position plays no part): one of them is scored for all
        self.representative = np.arange(len(self.collectors), dtype=np.int64)
        first: dict[tuple[object, ...], int] = {}
        for i, k in enumerate(self.collectors):
            p = k.profile
            if p.kind in (CollectorType.ONLINE_AGENT, CollectorType.LAW_FIRM):
                signature = (
                    p.kind,
                    p.regions,
                    p.channels,
                    p.style_tags,
                    p.legal_skill,
                    p.industries,
                    p.dialects,
                    p.cost_per_case_fen,
                    p.commission_bp,
                    p.cost_per_km_fen,
                    p.open_cases,
                    p.capacity_cases,
                    tuple(sorted(p.recovery_by_segment.items())),
                )
                self.representative[i] = first.setdefault(signature, i)
        for i, k in enumerate(self.collectors):
            kind = k.profile.kind
            if kind is CollectorType.ONLINE_AGENT:
                self.online.append(i)
            if kind is CollectorType.LAW_FIRM or (
                kind is CollectorType.ONLINE_AGENT and k.profile.legal_skill >= LEGAL_SKILL_NEEDED
            ):
                self.legal.append(i)
            if kind in (CollectorType.FIELD_AGENT, CollectorType.PART_TIME):
                if k.nationwide:
                    self.field_nationwide.append(i)
                for place in k.covers:
                    self.field_by_place.setdefault(place, []).append(i)

    def candidates(self, case: CaseEntry) -> list[int]:
        """Indices of the collectors who may work the case; online agents as the fallback."""
        if case.need == "legal":
            chosen = list(self.legal)
        elif case.need == "field":
            places = {region_key(case.profile.region), region_key(case.province)}
            found = set(self.field_nationwide)
            for place in places:
                found.update(self.field_by_place.get(place, ()))
            chosen = [i for i in sorted(found) if eligible(case, self.collectors[i])]
        else:
            chosen = list(self.online)
        return chosen if chosen else list(self.online)
