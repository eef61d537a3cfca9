"""Segmentation of cases into potential / hardship / risk by versioned, ordered TOML rules.

A rule file (``rules/segmentation-v1.toml`` is shipped) holds a ``version``, a catalogue of
reasons (``[reasons.CODE]`` with ``en`` and ``zh`` text) and an ordered list of ``[[rules]]``.
Each rule names a ``segment``, the ``reasons`` it gives and ``conditions`` on named case
fields, all of which must hold; the first rule that matches decides.  The last rule must have
no conditions so that every case gets a segment.  Operations managers edit the file; the
loader refuses unknown fields, bad operators and values of the wrong type with a message that
names the rule.

Two evaluation paths give the same answer: :func:`segment_case` for one
:class:`CaseProfile`, :func:`segment_many` for column arrays of many cases.
"""

from __future__ import annotations

import enum
import operator
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt


class Segment(enum.StrEnum):
    POTENTIAL = "potential"
    """≤30 days, able to pay: instalments with interest / penalty relief."""
    HARDSHIP = "hardship"
    """Temporary loss of income or illness: restructuring."""
    RISK = "risk"
    """Deliberate or repeatedly unreachable: legal referral and asset preservation."""


class OverdueCause(enum.StrEnum):
    UNEMPLOYMENT = "unemployment"
    ILLNESS = "illness"
    BUSINESS_DOWNTURN = "business_downturn"
    DELIBERATE = "deliberate"
    UNKNOWN = "unknown"


CAUSE_CODES: dict[OverdueCause, int] = {cause: code for code, cause in enumerate(OverdueCause)}


class RuleFileError(ValueError):
    """A segmentation rule file that cannot be used; the message says where and why."""


class FieldKind(enum.Enum):
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    CAUSE = "cause"


FIELDS: dict[str, FieldKind] = {
    "days_past_due": FieldKind.INTEGER,
    "overdue_cause": FieldKind.CAUSE,
    "failed_contact_streak": FieldKind.INTEGER,
    "broken_promises": FieldKind.INTEGER,
    "late_months": FieldKind.INTEGER,
    "propensity": FieldKind.NUMBER,
    "income_stable": FieldKind.BOOLEAN,
}
"""Fields a condition may test (see :class:`CaseProfile` for their meaning)."""

_COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_MEMBERSHIP = ("in", "not_in")
OPERATORS: tuple[str, ...] = (*_COMPARISONS, *_MEMBERSHIP)
_ORDERED = {FieldKind.INTEGER, FieldKind.NUMBER}


@dataclass(frozen=True)
class CaseProfile:
    days_past_due: int
    overdue_cause: OverdueCause = OverdueCause.UNKNOWN
    failed_contact_streak: int = 0
    """Consecutive contact attempts that reached nobody, up to now."""
    broken_promises: int = 0
    """Promises to pay broken on this case."""
    late_months: int = 0
    """Months paid late in the repayment history window (credit history)."""
    propensity: float = 0.5
    """Probability of paying in the coming month (propensity model)."""
    income_stable: bool = False


@dataclass(frozen=True)
class Reason:
    code: str
    en: str
    zh: str


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any

    def holds(self, profile: CaseProfile) -> bool:
        actual = getattr(profile, self.field)
        if self.op == "in":
            return bool(actual in self.value)
        if self.op == "not_in":
            return bool(actual not in self.value)
        return bool(_COMPARISONS[self.op](actual, self.value))

    def describe(self) -> str:
        return f"{self.field} {self.op} {self.value!r}"


@dataclass(frozen=True)
class SegmentRule:
    name: str
    segment: Segment
    reasons: tuple[Reason, ...]
    conditions: tuple[Condition, ...]
    #: the rule's name in Chinese, for the Chinese explanation (optional ``name_zh``; without
    #: it the explanation quotes ``name``)
    name_zh: str | None = None

    def matches(self, profile: CaseProfile) -> bool:
        return all(c.holds(profile) for c in self.conditions)


@dataclass(frozen=True)
class SegmentationRules:
    version: str
    rules: tuple[SegmentRule, ...]

    def name_zh(self, name: str | None) -> str | None:
        """The Chinese name of the rule called ``name`` (a stored decision's rule), if the
        rules in force have it."""
        return next((r.name_zh for r in self.rules if r.name == name), None)


@dataclass(frozen=True)
class SegmentDecision:
    segment: Segment
    rule: str
    rules_version: str
    reasons: tuple[Reason, ...]
    rule_zh: str | None = None

    @property
    def reason_codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.reasons)


def _check_value(kind: FieldKind, value: Any, where: str) -> Any:
    if kind is FieldKind.BOOLEAN:
        if not isinstance(value, bool):
            raise RuleFileError(f"{where}: expected true or false, got {value!r}")
        return value
    if kind is FieldKind.CAUSE:
        try:
            return OverdueCause(value)
        except ValueError:
            known = ", ".join(c.value for c in OverdueCause)
            raise RuleFileError(
                f"{where}: unknown overdue cause {value!r} (known: {known})"
            ) from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RuleFileError(f"{where}: expected a number, got {value!r}")
    if kind is FieldKind.INTEGER and not isinstance(value, int):
        raise RuleFileError(f"{where}: expected a whole number, got {value!r}")
    if kind is FieldKind.NUMBER and not 0 <= value <= 1:  # the propensity, a probability
        raise RuleFileError(f"{where}: a probability lies between 0 and 1 (write 0.7 for 70 %)")
    if kind is FieldKind.INTEGER and value < 0:  # days and counts
        raise RuleFileError(f"{where}: days and counts are never negative, got {value!r}")
    return value


def _parse_condition(raw: Any, where: str) -> Condition:
    if not isinstance(raw, Mapping):
        raise RuleFileError(f"{where}: a condition is a table {{ field, op, value }}")
    unknown_keys = set(raw) - {"field", "op", "value"}
    if unknown_keys or not {"field", "op", "value"} <= set(raw):
        raise RuleFileError(f"{where}: a condition needs exactly the keys field, op and value")
    field, op, value = raw["field"], raw["op"], raw["value"]
    if field not in FIELDS:
        raise RuleFileError(
            f"{where}: unknown field {field!r} (known: {', '.join(sorted(FIELDS))})"
        )
    if op not in OPERATORS:
        raise RuleFileError(f"{where}: bad operator {op!r} (allowed: {', '.join(OPERATORS)})")
    kind = FIELDS[field]
    if op in _MEMBERSHIP:
        if not isinstance(value, list) or not value:
            raise RuleFileError(f"{where}: operator {op} needs a non-empty list of values")
        return Condition(field, op, frozenset(_check_value(kind, v, where) for v in value))
    if op not in ("==", "!=") and kind not in _ORDERED:
        raise RuleFileError(f"{where}: operator {op} cannot compare field {field!r}")
    return Condition(field, op, _check_value(kind, value, where))


def parse_rules(document: Mapping[str, Any], source: str = "rules") -> SegmentationRules:
    """Validate a parsed TOML document; every error names the rule it is about."""
    version = document.get("version")
    if not isinstance(version, str) or not version:
        raise RuleFileError(f"{source}: missing 'version' (a string such as 'segmentation-v1')")
    unknown_top = set(document) - {"version", "description", "reasons", "rules"}
    if unknown_top:
        raise RuleFileError(f"{source}: unknown top-level keys: {', '.join(sorted(unknown_top))}")
    catalogue: dict[str, Reason] = {}
    raw_reasons = document.get("reasons", {})
    if not isinstance(raw_reasons, Mapping):
        raise RuleFileError(f"{source}: 'reasons' must be a table of [reasons.CODE]")
    for code, texts in raw_reasons.items():
        if not isinstance(texts, Mapping) or not all(
            isinstance(texts.get(k), str) and texts.get(k) for k in ("en", "zh")
        ):
            raise RuleFileError(f"{source}: reason {code} needs non-empty 'en' and 'zh' texts")
        if set(texts) - {"en", "zh"}:
            extra = ", ".join(sorted(set(texts) - {"en", "zh"}))
            raise RuleFileError(f"{source}: reason {code} has unknown keys: {extra}")
        catalogue[code] = Reason(code=code, en=texts["en"], zh=texts["zh"])
    raw_rules = document.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise RuleFileError(f"{source}: no [[rules]]")
    rules: list[SegmentRule] = []
    for position, raw in enumerate(raw_rules, start=1):
        name = raw.get("name") if isinstance(raw, Mapping) else None
        where = f"{source}: rule {position} ({name or 'unnamed'})"
        if not isinstance(raw, Mapping) or not isinstance(name, str) or not name:
            raise RuleFileError(f"{where}: each rule needs a 'name'")
        unknown_keys = set(raw) - {"name", "name_zh", "segment", "reasons", "conditions"}
        if unknown_keys:
            raise RuleFileError(f"{where}: unknown keys: {', '.join(sorted(unknown_keys))}")
        try:
            segment = Segment(str(raw.get("segment")))
        except ValueError:
            known = ", ".join(s.value for s in Segment)
            raise RuleFileError(
                f"{where}: unknown segment {raw.get('segment')!r} (known: {known})"
            ) from None
        name_zh = raw.get("name_zh")
        if name_zh is not None and (not isinstance(name_zh, str) or not name_zh.strip()):
            raise RuleFileError(f"{where}: 'name_zh' must be a non-empty string when given")
        codes = raw.get("reasons", [])
        if not isinstance(codes, list) or not codes:
            raise RuleFileError(f"{where}: give at least one reason code")
        if not all(isinstance(c, str) for c in codes):
            raise RuleFileError(f'{where}: reason codes are names such as "ILLNESS"')
        missing = [c for c in codes if c not in catalogue]
        if missing:
            raise RuleFileError(f"{where}: reason codes not in [reasons]: {', '.join(missing)}")
        raw_conditions = raw.get("conditions", [])
        if not isinstance(raw_conditions, list):
            raise RuleFileError(f"{where}: 'conditions' must be a list")
        conditions = tuple(
            _parse_condition(c, f"{where}, condition {k}")
            for k, c in enumerate(raw_conditions, start=1)
        )
        rules.append(
            SegmentRule(
                name,
                segment,
                tuple(catalogue[c] for c in codes),
                conditions,
                None if name_zh is None else name_zh.strip(),
            )
        )
    if rules[-1].conditions:
        raise RuleFileError(
            f"{source}: the last rule ({rules[-1].name}) must have no conditions, "
            "so that every case gets a segment"
        )
    for position, rule in enumerate(rules[:-1], start=1):
        if not rule.conditions:  # it takes every case: the rules after it never apply
            raise RuleFileError(
                f"{source}: rule {position} ({rule.name}) has no conditions, so it takes every "
                "case and the rules after it could never apply; give it conditions or make it "
                "the last rule"
            )
    names = [r.name for r in rules]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise RuleFileError(f"{source}: duplicate rule names: {', '.join(duplicates)}")
    return SegmentationRules(version=version, rules=tuple(rules))


def load_rules(path: Path) -> SegmentationRules:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8-sig"))  # a BOM is dropped
    except FileNotFoundError:
        raise RuleFileError(f"rule file not found: {path}") from None
    except OSError as error:  # a folder, no permission
        raise RuleFileError(f"{path}: cannot be read ({error.strerror})") from None
    except UnicodeDecodeError as error:
        raise RuleFileError(f"{path}: not UTF-8 ({error.reason} at byte {error.start})") from None
    except tomllib.TOMLDecodeError as error:
        raise RuleFileError(f"{path}: not valid TOML ({error})") from None
    return parse_rules(document, source=str(path))


def shipped_rules(name: str = "segmentation-v1.toml") -> SegmentationRules:
    """A rule file shipped in the package (``debtflow/core/strategy/rules/``)."""
    text = resources.files("debtflow.core.strategy").joinpath("rules", name).read_text("utf-8")
    return parse_rules(tomllib.loads(text), source=name)


def segment_case(profile: CaseProfile, rules: SegmentationRules) -> SegmentDecision:
    for rule in rules.rules:
        if rule.matches(profile):
            return SegmentDecision(
                rule.segment, rule.name, rules.version, rule.reasons, rule.name_zh
            )
    raise AssertionError("validated rules end with a catch-all")  # pragma: no cover


@dataclass(frozen=True)
class CaseColumns:
    """The fields of :class:`CaseProfile` as arrays of ``n`` cases; causes as CAUSE_CODES."""

    days_past_due: npt.NDArray[np.int64]
    overdue_cause: npt.NDArray[np.int8]
    failed_contact_streak: npt.NDArray[np.int64]
    broken_promises: npt.NDArray[np.int64]
    late_months: npt.NDArray[np.int64]
    propensity: npt.NDArray[np.float64]
    income_stable: npt.NDArray[np.bool_]

    def __post_init__(self) -> None:
        sizes = {np.shape(getattr(self, name)) for name in FIELDS}
        if len(sizes) != 1 or len(next(iter(sizes))) != 1:
            raise ValueError("all case columns must be 1-D arrays of the same length")

    @property
    def cases(self) -> int:
        return int(self.days_past_due.shape[0])


@dataclass(frozen=True)
class SegmentedColumns:
    segment: npt.NDArray[np.int8]
    """Index into :data:`SEGMENT_ORDER`."""
    rule: npt.NDArray[np.int16]
    """Index of the deciding rule in ``rules.rules`` (its reasons)."""


SEGMENT_ORDER: tuple[Segment, ...] = tuple(Segment)


def _condition_mask(condition: Condition, columns: CaseColumns) -> npt.NDArray[np.bool_]:
    actual: npt.NDArray[Any] = getattr(columns, condition.field)
    value = condition.value
    if FIELDS[condition.field] is FieldKind.CAUSE:
        if condition.op in _MEMBERSHIP:
            value = [CAUSE_CODES[v] for v in value]
        else:
            value = CAUSE_CODES[value]
    if condition.op == "in":
        return np.isin(actual, list(value))
    if condition.op == "not_in":
        return ~np.isin(actual, list(value))
    return np.asarray(_COMPARISONS[condition.op](actual, value), dtype=bool)


def segment_many(columns: CaseColumns, rules: SegmentationRules) -> SegmentedColumns:
    """Vectorised :func:`segment_case`: first matching rule per case."""
    n = columns.cases
    rule_of = np.full(n, -1, dtype=np.int16)
    undecided = np.ones(n, dtype=bool)
    for index, rule in enumerate(rules.rules):
        mask = undecided.copy()
        for condition in rule.conditions:
            mask &= _condition_mask(condition, columns)
        rule_of[mask] = index
        undecided &= ~mask
    segment_of_rule = np.array([SEGMENT_ORDER.index(r.segment) for r in rules.rules], dtype=np.int8)
    return SegmentedColumns(segment=segment_of_rule[rule_of], rule=rule_of)


def columns_from_profiles(profiles: Sequence[CaseProfile]) -> CaseColumns:
    return CaseColumns(
        days_past_due=np.array([p.days_past_due for p in profiles], dtype=np.int64),
        overdue_cause=np.array([CAUSE_CODES[p.overdue_cause] for p in profiles], dtype=np.int8),
        failed_contact_streak=np.array([p.failed_contact_streak for p in profiles], dtype=np.int64),
        broken_promises=np.array([p.broken_promises for p in profiles], dtype=np.int64),
        late_months=np.array([p.late_months for p in profiles], dtype=np.int64),
        propensity=np.array([p.propensity for p in profiles], dtype=np.float64),
        income_stable=np.array([p.income_stable for p in profiles], dtype=bool),
    )
