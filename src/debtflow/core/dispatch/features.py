"""Case, collector and scene features for case ↔ collector matching.

Profiles are plain dataclasses the dispatch service fills from the database. They are
turned once into column arrays (`CaseTable`, `CollectorTable`) so that pair features for
a million (case, collector) pairs are computed with numpy in one pass (`pair_features`).

Every pair feature is a documented prior from the founding study (docs/matching.md):
each column is scaled to [0, 1] (or [-1, 1]) so its weight reads as "logit points".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from debtflow.core.dispatch.geo import EARTH_RADIUS_KM, GeoPoint

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class MatchInputError(ValueError):
    """A profile or a pair list is malformed."""


class Segment(StrEnum):
    POTENTIAL = "potential"
    HARDSHIP = "hardship"
    RISK = "risk"


class ProductType(StrEnum):
    CONSUMER = "consumer"
    SMALL_BUSINESS = "small_business"
    RURAL = "rural"


class CollectorType(StrEnum):
    ONLINE_AGENT = "online_agent"
    FIELD_AGENT = "field_agent"
    PART_TIME = "part_time"
    LAW_FIRM = "law_firm"


class Channel(StrEnum):
    PHONE = "phone"
    SMS = "sms"
    APP = "app"
    VIDEO = "video"
    VISIT = "visit"
    LETTER = "letter"


# emotions read from conversations that call for a communicative collector
EMOTIONAL = frozenset({"angry", "anxious", "depressed", "fearful", "sad"})
# intents that mark a deliberate defaulter
DELIBERATE_INTENTS = frozenset({"refuse", "evade", "deliberate_default", "false_promise"})
COMMUNICATIVE_TAGS = frozenset({"communicative", "empathetic", "patient"})
EMPATHETIC_TAGS = frozenset({"empathetic", "patient"})
RURAL_TAGS = frozenset({"rural", "village"})
LEGAL_SKILL_NEEDED = 0.5  # legal_skill at which a collector counts as legal-minded
EMOTIONAL_SHARE = 0.3  # share of emotional contacts from which a debtor counts as emotional
CONTACT_HOURS = (8, 21)  # debtor local hours [start, end) when remote contact is allowed
FIELD_REACH_KM = 20.0  # distance scale for field agents: closeness = exp(-km / scale)
NATIONWIDE_REGION = "全国"  # a collector's region that covers every case


# ------------------------------------------------------------------ the region rule


def region_key(name: str | None) -> str:
    """How region names compare: trimmed, case-insensitive."""
    return (name or "").strip().lower()


def collector_regions(raw: Sequence[str] | frozenset[str]) -> tuple[frozenset[str], bool]:
    """A collector's regions as keys, and whether it works nationwide: it names '全国' or
    no region at all."""
    keys = frozenset(k for k in (region_key(r) for r in raw) if k)
    nationwide = NATIONWIDE_REGION in keys or not keys
    return keys - {NATIONWIDE_REGION}, nationwide


def covers_region(
    region_keys: frozenset[str], nationwide: bool, city: str | None, province: str | None
) -> bool:
    """The one region rule (eligibility, the fit rule and the `same_region` feature): a
    nationwide collector covers every case, any other one a case in a city or province it
    names. ``region_keys`` come from `collector_regions`."""
    if nationwide:
        return True
    places = {region_key(city), region_key(province)} - {""}
    return bool(places & region_keys)


@dataclass(frozen=True)
class CaseProfile:
    case_id: int
    days_past_due: int
    balance_fen: int
    segment: Segment
    propensity: float  # propensity to pay, 0..1, from the score model
    product: ProductType
    region: str  # the debtor's city
    reachable: frozenset[Channel]
    industry: str | None = None  # for small-business debtors
    dialect: str | None = None
    location: GeoPoint | None = None
    timezone: str = "Asia/Shanghai"
    emotions: Mapping[str, int] = field(default_factory=dict)  # emotion -> contacts seen
    intents: Mapping[str, int] = field(default_factory=dict)  # intent -> contacts seen
    province: str | None = None  # the debtor's province

    @property
    def emotional_share(self) -> float:
        total = sum(self.emotions.values())
        if total <= 0:
            return 0.0
        return sum(n for e, n in self.emotions.items() if e in EMOTIONAL) / total

    @property
    def deliberate(self) -> float:
        """0..1: how strongly the record points to deliberate default."""
        total = sum(self.intents.values())
        share = (
            sum(n for i, n in self.intents.items() if i in DELIBERATE_INTENTS) / total
            if total > 0
            else 0.0
        )
        return max(share, 1.0 if self.segment is Segment.RISK else 0.0)


@dataclass(frozen=True)
class CollectorProfile:
    collector_id: int
    kind: CollectorType
    regions: frozenset[str]  # cities / provinces; '全国' or none: nationwide (`covers_region`)
    channels: frozenset[Channel]
    open_cases: int
    capacity_cases: int
    cost_per_case_fen: int  # cost of working one case for a period
    style_tags: frozenset[str] = frozenset()
    legal_skill: float = 0.0  # 0..1
    industries: frozenset[str] = frozenset()
    dialects: frozenset[str] = frozenset()
    location: GeoPoint | None = None  # field agents: base or live position
    recovery_by_segment: Mapping[Segment, float] = field(default_factory=dict)  # recent rate
    commission_bp: int = 0  # share of recovered money paid out (part-time collectors)
    cost_per_km_fen: int = 0  # field agents: travel cost per km (round trip counted)

    def covers(self, case: CaseProfile) -> bool:
        """The region rule (`covers_region`): '全国' or no region covers every case."""
        keys, nationwide = collector_regions(self.regions)
        return covers_region(keys, nationwide, case.region, case.province)


def validate_case(case: CaseProfile) -> None:
    if case.days_past_due < 0:
        raise MatchInputError(f"case {case.case_id}: days past due must not be negative")
    if case.balance_fen < 0:
        raise MatchInputError(f"case {case.case_id}: balance must not be negative")
    if not 0.0 <= case.propensity <= 1.0:
        raise MatchInputError(f"case {case.case_id}: propensity must be within 0..1")
    try:
        ZoneInfo(case.timezone)
    except (KeyError, ValueError) as exc:
        raise MatchInputError(f"case {case.case_id}: unknown time zone {case.timezone!r}") from exc


def validate_collector(collector: CollectorProfile) -> None:
    cid = collector.collector_id
    if collector.capacity_cases < 0 or collector.open_cases < 0:
        raise MatchInputError(f"collector {cid}: case counts must not be negative")
    if not 0.0 <= collector.legal_skill <= 1.0:
        raise MatchInputError(f"collector {cid}: legal skill must be within 0..1")
    if collector.cost_per_case_fen < 0 or collector.cost_per_km_fen < 0:
        raise MatchInputError(f"collector {cid}: costs must not be negative")
    if not 0 <= collector.commission_bp <= 10_000:
        raise MatchInputError(f"collector {cid}: commission must be 0..10000 basis points")
    for segment, rate in collector.recovery_by_segment.items():
        if not 0.0 <= rate <= 1.0:
            raise MatchInputError(f"collector {cid}: recovery rate for {segment} not in 0..1")


@dataclass(frozen=True)
class CaseTable:
    """Column arrays over cases, index-aligned with `case_ids`."""

    case_ids: IntArray
    days_past_due: FloatArray
    balance_fen: IntArray
    propensity: FloatArray
    segment: IntArray  # index into SEGMENTS
    product: IntArray  # index into PRODUCTS
    region: IntArray  # vocabulary code of the city
    province: IntArray  # vocabulary code, -1 unknown
    dialect: IntArray  # vocabulary code, -1 unknown
    industry: IntArray  # vocabulary code, -1 unknown
    channels: IntArray  # bit mask over CHANNELS
    emotional: FloatArray
    deliberate: FloatArray
    latitude: FloatArray  # NaN when unknown
    longitude: FloatArray
    utc_offset_hours: FloatArray  # debtor's offset at the scene time


@dataclass(frozen=True)
class CollectorTable:
    collector_ids: IntArray
    kind: IntArray  # index into COLLECTOR_TYPES
    # (collector row, vocabulary code) memberships as sorted keys row * key_base + code
    region_keys: IntArray
    nationwide: BoolArray  # covers every region ('全国' or no region named)
    dialect_keys: IntArray
    industry_keys: IntArray
    key_base: int
    channels: IntArray
    communicative: FloatArray
    empathetic: FloatArray
    rural: FloatArray
    legal_skill: FloatArray
    load: FloatArray  # open / capacity, inf when capacity is 0
    recovery_by_segment: FloatArray  # (collectors, segments), NaN when unknown
    cost_per_case_fen: IntArray
    cost_per_km_fen: IntArray
    commission_bp: IntArray
    latitude: FloatArray
    longitude: FloatArray


SEGMENTS: tuple[Segment, ...] = tuple(Segment)
PRODUCTS: tuple[ProductType, ...] = tuple(ProductType)
COLLECTOR_TYPES: tuple[CollectorType, ...] = tuple(CollectorType)
CHANNELS: tuple[Channel, ...] = tuple(Channel)


def _mask(channels: frozenset[Channel]) -> int:
    return sum(1 << CHANNELS.index(channel) for channel in channels)


class Vocabulary:
    """Maps region / dialect / industry names to small integer codes shared by both tables."""

    def __init__(self) -> None:
        self._codes: dict[str, int] = {}

    def code(self, name: str | None) -> int:
        if name is None:
            return -1
        key = name.strip().lower()
        return self._codes.setdefault(key, len(self._codes))

    def codes(self, names: frozenset[str]) -> frozenset[int]:
        return frozenset(self.code(name) for name in names)

    @property
    def size(self) -> int:
        return len(self._codes)


def _keys(sets: Sequence[frozenset[int]], key_base: int) -> IntArray:
    keys = [row * key_base + code for row, members in enumerate(sets) for code in members]
    return np.unique(np.array(keys, dtype=np.int64))


def tabulate(
    cases: Sequence[CaseProfile],
    collectors: Sequence[CollectorProfile],
    *,
    scene_time: datetime,
) -> tuple[CaseTable, CollectorTable]:
    """Validate profiles and turn them into column arrays sharing one vocabulary."""
    if scene_time.tzinfo is None:
        raise MatchInputError("scene time must be timezone-aware")
    for case in cases:
        validate_case(case)
    for collector in collectors:
        validate_collector(collector)
    vocabulary = Vocabulary()
    offsets: dict[str, float] = {}

    def offset(zone: str) -> float:
        if zone not in offsets:
            delta = scene_time.astimezone(ZoneInfo(zone)).utcoffset()
            offsets[zone] = 0.0 if delta is None else delta.total_seconds() / 3600.0
        return offsets[zone]

    nan = math.nan
    case_table = CaseTable(
        case_ids=np.array([c.case_id for c in cases], dtype=np.int64),
        days_past_due=np.array([c.days_past_due for c in cases], dtype=np.float64),
        balance_fen=np.array([c.balance_fen for c in cases], dtype=np.int64),
        propensity=np.array([c.propensity for c in cases], dtype=np.float64),
        segment=np.array([SEGMENTS.index(c.segment) for c in cases], dtype=np.int64),
        product=np.array([PRODUCTS.index(c.product) for c in cases], dtype=np.int64),
        region=np.array([vocabulary.code(c.region) for c in cases], dtype=np.int64),
        province=np.array(
            [vocabulary.code(c.province) if region_key(c.province) else -1 for c in cases],
            dtype=np.int64,
        ),
        dialect=np.array([vocabulary.code(c.dialect) for c in cases], dtype=np.int64),
        industry=np.array([vocabulary.code(c.industry) for c in cases], dtype=np.int64),
        channels=np.array([_mask(c.reachable) for c in cases], dtype=np.int64),
        emotional=np.array([c.emotional_share for c in cases], dtype=np.float64),
        deliberate=np.array([c.deliberate for c in cases], dtype=np.float64),
        latitude=np.array([c.location.latitude if c.location else nan for c in cases]),
        longitude=np.array([c.location.longitude if c.location else nan for c in cases]),
        utc_offset_hours=np.array([offset(c.timezone) for c in cases], dtype=np.float64),
    )
    for collector in collectors:  # code every name first so the key base is final
        vocabulary.codes(collector.regions | collector.dialects | collector.industries)
    key_base = vocabulary.size + 1
    recovery = np.full((len(collectors), len(SEGMENTS)), nan)
    for row, collector in enumerate(collectors):
        for segment, rate in collector.recovery_by_segment.items():
            recovery[row, SEGMENTS.index(segment)] = rate
    collector_table = CollectorTable(
        collector_ids=np.array([k.collector_id for k in collectors], dtype=np.int64),
        kind=np.array([COLLECTOR_TYPES.index(k.kind) for k in collectors], dtype=np.int64),
        region_keys=_keys(
            [
                vocabulary.codes(frozenset(r for r in k.regions if region_key(r)))
                for k in collectors
            ],
            key_base,
        ),
        nationwide=np.array([collector_regions(k.regions)[1] for k in collectors], dtype=bool),
        dialect_keys=_keys([vocabulary.codes(k.dialects) for k in collectors], key_base),
        industry_keys=_keys([vocabulary.codes(k.industries) for k in collectors], key_base),
        key_base=key_base,
        channels=np.array([_mask(k.channels) for k in collectors], dtype=np.int64),
        communicative=np.array(
            [1.0 if k.style_tags & COMMUNICATIVE_TAGS else 0.0 for k in collectors]
        ),
        empathetic=np.array([1.0 if k.style_tags & EMPATHETIC_TAGS else 0.0 for k in collectors]),
        rural=np.array([1.0 if k.style_tags & RURAL_TAGS else 0.0 for k in collectors]),
        legal_skill=np.array([k.legal_skill for k in collectors], dtype=np.float64),
        load=np.array(
            [k.open_cases / k.capacity_cases if k.capacity_cases else math.inf for k in collectors],
            dtype=np.float64,
        ),
        recovery_by_segment=recovery,
        cost_per_case_fen=np.array([k.cost_per_case_fen for k in collectors], dtype=np.int64),
        cost_per_km_fen=np.array([k.cost_per_km_fen for k in collectors], dtype=np.int64),
        commission_bp=np.array([k.commission_bp for k in collectors], dtype=np.int64),
        latitude=np.array([k.location.latitude if k.location else nan for k in collectors]),
        longitude=np.array([k.location.longitude if k.location else nan for k in collectors]),
    )
    return case_table, collector_table


# ---------------------------------------------------------------- pair features

PAIR_FEATURES: tuple[str, ...] = (
    "emotional_communicative",  # emotional debtor × communicative collector
    "deliberate_legal",  # deliberate defaulter × legal skill
    "business_industry",  # small-business owner × experience in the debtor's industry
    "hardship_empathetic",  # hardship segment × empathetic collector
    "rural_rural",  # rural borrower × collector used to village work
    "same_region",  # collector covers the debtor's city or province, or works nationwide
    "same_dialect",  # collector speaks the debtor's dialect
    "field_nearby",  # field agent close to the debtor (exp(-km / 20))
    "field_far",  # field agent far from the debtor (1 - field_nearby), field agents only
    "contactable_now",  # remote collector and debtor's local time inside contact hours
    "no_shared_channel",  # no channel the debtor is reachable on and the collector works
    "overloaded",  # load beyond 80 % of capacity (0 at ≤ 80 %, 1 at ≥ 100 %)
    "segment_track_record",  # collector's recent recovery rate for this segment vs. 30 %
    "law_firm_late_risk",  # law firm on a risk case > 180 days past due
    "law_firm_early",  # law firm on a case that is not (yet) a legal case
    "field_large_balance",  # field visit for a large balance (≥ ¥50,000)
)
FEATURE_COUNT = len(PAIR_FEATURES)

_FIELD = COLLECTOR_TYPES.index(CollectorType.FIELD_AGENT)
_PART_TIME = COLLECTOR_TYPES.index(CollectorType.PART_TIME)
_LAW_FIRM = COLLECTOR_TYPES.index(CollectorType.LAW_FIRM)
_SMALL_BUSINESS = PRODUCTS.index(ProductType.SMALL_BUSINESS)
_RURAL = PRODUCTS.index(ProductType.RURAL)
_HARDSHIP = SEGMENTS.index(Segment.HARDSHIP)
_RISK = SEGMENTS.index(Segment.RISK)
LARGE_BALANCE_FEN = 5_000_000
BASELINE_RECOVERY = 0.3


def haversine_km_arrays(
    lat1: FloatArray, lon1: FloatArray, lat2: FloatArray, lon2: FloatArray
) -> FloatArray:
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    dphi = phi2 - phi1
    dlambda = np.radians(lon2 - lon1)
    h = np.sin(dphi / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlambda / 2) ** 2
    result: FloatArray = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    return result


def _membership(codes: IntArray, keys: IntArray, key_base: int, owners: IntArray) -> FloatArray:
    """1.0 where (owners[p], codes[p]) is among the sorted membership keys."""
    out = np.zeros(len(codes), dtype=np.float64)
    if len(codes) == 0 or len(keys) == 0:
        return out
    query = owners * key_base + codes
    position = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
    out[(codes >= 0) & (keys[position] == query)] = 1.0
    return out


@dataclass(frozen=True)
class PairFeatures:
    """Feature matrix for pairs (case_index[p], collector_index[p]) plus scene figures."""

    case_index: IntArray
    collector_index: IntArray
    matrix: FloatArray  # (pairs, FEATURE_COUNT), a transposed view of feature-major rows
    distance_km: FloatArray  # NaN where either location is unknown


def pair_features(
    cases: CaseTable,
    collectors: CollectorTable,
    case_index: IntArray,
    collector_index: IntArray,
    *,
    scene_time: datetime,
) -> PairFeatures:
    """Vectorised features for the listed pairs (indices into the two tables)."""
    case_index = np.asarray(case_index, dtype=np.int64)
    collector_index = np.asarray(collector_index, dtype=np.int64)
    if case_index.shape != collector_index.shape or case_index.ndim != 1:
        raise MatchInputError("case and collector index arrays must be 1-D and equally long")
    n_cases, n_collectors = len(cases.case_ids), len(collectors.collector_ids)
    if len(case_index) and (
        case_index.min() < 0
        or case_index.max() >= n_cases
        or collector_index.min() < 0
        or collector_index.max() >= n_collectors
    ):
        raise MatchInputError("pair index out of range")
    if scene_time.tzinfo is None:
        raise MatchInputError("scene time must be timezone-aware")
    ci, ki = case_index, collector_index
    kind = collectors.kind[ki]
    field_agent = (kind == _FIELD) | (kind == _PART_TIME)
    remote = ~field_agent & (kind != _LAW_FIRM)
    segment = cases.segment[ci]
    product = cases.product[ci]

    # feature-major storage: each feature is one contiguous row (fast column writes)
    x = np.zeros((FEATURE_COUNT, len(ci)), dtype=np.float64)
    x[0] = cases.emotional[ci] * collectors.communicative[ki]
    x[1] = cases.deliberate[ci] * collectors.legal_skill[ki]
    x[2] = (product == _SMALL_BUSINESS) * _membership(
        cases.industry[ci], collectors.industry_keys, collectors.key_base, ki
    )
    x[3] = (segment == _HARDSHIP) * collectors.empathetic[ki]
    x[4] = (product == _RURAL) * collectors.rural[ki]
    # the region rule (covers_region): nationwide, or the debtor's city or province named
    x[5] = np.maximum(
        _membership(cases.region[ci], collectors.region_keys, collectors.key_base, ki),
        _membership(cases.province[ci], collectors.region_keys, collectors.key_base, ki),
    )
    x[5][collectors.nationwide[ki]] = 1.0
    x[6] = _membership(cases.dialect[ci], collectors.dialect_keys, collectors.key_base, ki)

    distance = haversine_km_arrays(
        cases.latitude[ci], cases.longitude[ci], collectors.latitude[ki], collectors.longitude[ki]
    )
    known = np.isfinite(distance)
    nearby = np.where(known, np.exp(-np.where(known, distance, 0.0) / FIELD_REACH_KM), 0.0)
    x[7] = np.where(field_agent, nearby, 0.0)
    x[8] = np.where(field_agent & known, 1.0 - nearby, 0.0)

    utc_hour = scene_time.astimezone(ZoneInfo("UTC"))
    hour = (
        utc_hour.hour + utc_hour.minute / 60.0 + cases.utc_offset_hours[ci]
    ) % 24.0  # debtor's local clock
    in_hours = (hour >= CONTACT_HOURS[0]) & (hour < CONTACT_HOURS[1])
    x[9] = remote & in_hours
    x[10] = (cases.channels[ci] & collectors.channels[ki]) == 0
    x[11] = np.clip((collectors.load[ki] - 0.8) / 0.2, 0.0, 1.0)
    track = collectors.recovery_by_segment[ki, segment]
    x[12] = np.where(np.isfinite(track), track - BASELINE_RECOVERY, 0.0)
    legal_case = (segment == _RISK) & (cases.days_past_due[ci] > 180)
    x[13] = (kind == _LAW_FIRM) & legal_case
    x[14] = (kind == _LAW_FIRM) & ~legal_case
    x[15] = field_agent & (cases.balance_fen[ci] >= LARGE_BALANCE_FEN)
    return PairFeatures(
        case_index=ci, collector_index=ki, matrix=x.T, distance_km=np.where(known, distance, np.nan)
    )


# ------------------------------------------------------------- case context (learner)

CONTEXT_FEATURES: tuple[str, ...] = (
    "bias",
    "emotional",
    "deliberate",
    "hardship",
    "small_business",
    "rural",
    "days_past_due_years",  # DPD / 365, capped at 2
    "low_propensity",  # 1 - propensity
)
CONTEXT_COUNT = len(CONTEXT_FEATURES)


def case_context(cases: CaseTable, case_index: IntArray) -> FloatArray:
    """Per-case context vectors the learner fits one small model per collector on."""
    ci = np.asarray(case_index, dtype=np.int64)
    z = np.empty((len(ci), CONTEXT_COUNT), dtype=np.float64)
    z[:, 0] = 1.0
    z[:, 1] = cases.emotional[ci]
    z[:, 2] = cases.deliberate[ci]
    z[:, 3] = cases.segment[ci] == _HARDSHIP
    z[:, 4] = cases.product[ci] == _SMALL_BUSINESS
    z[:, 5] = cases.product[ci] == _RURAL
    z[:, 6] = np.minimum(cases.days_past_due[ci] / 365.0, 2.0)
    z[:, 7] = 1.0 - cases.propensity[ci]
    return z
