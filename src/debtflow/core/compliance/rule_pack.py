"""Versioned rule packs (TOML data files) and creditor overrides that may only tighten them.

A pack lives in ``packs/<name>.toml`` beside this module. Every rule table carries a
``source`` citation. A creditor override is a TOML file of the same shape holding only the
fields it changes; :func:`apply_override` refuses, naming the rule, any change that would let
through a contact the pack forbids.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, time
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from debtflow.core.compliance.contact import Channel, ContactFlag

PACKS_PACKAGE = "debtflow.core.compliance"
PACKS_DIRECTORY = "packs"


class PackError(ValueError):
    """A pack or override file is malformed or cannot be found."""


class PackLoosenedError(PackError):
    """A creditor override tried to loosen a rule of its base pack."""

    def __init__(self, *, override: str, pack: str, rule: str, detail: str) -> None:
        self.override = override
        self.pack = pack
        self.rule = rule
        super().__init__(
            f"creditor override {override!r} would loosen rule {rule!r} of pack {pack!r}: "
            f"{detail}; an override may only tighten a pack"
        )


@dataclass(frozen=True, slots=True)
class QuietHoursRule:
    """Contact allowed only when the debtor's local wall-clock time is in [from, until)."""

    allowed_from: time
    allowed_until: time
    channels: frozenset[Channel]
    source: str


@dataclass(frozen=True, slots=True)
class DailyConnectedCallRule:
    """At most ``limit`` connected calls per debtor per local calendar day, all parties."""

    limit: int
    channels: frozenset[Channel]
    source: str


@dataclass(frozen=True, slots=True)
class SevenDayCallRule:
    """At most ``limit`` placed calls per debt in any ``days`` consecutive local days."""

    limit: int
    days: int
    channels: frozenset[Channel]
    source: str


@dataclass(frozen=True, slots=True)
class PostConversationRule:
    """No call for ``days`` local days after a telephone conversation (its day is day 1)."""

    days: int
    channels: frozenset[Channel]
    conversation_channels: frozenset[Channel]
    source: str


@dataclass(frozen=True, slots=True)
class HolidayRule:
    """When enabled, no contact on the listed local dates."""

    enabled: bool
    dates: frozenset[date]
    channels: frozenset[Channel]
    source: str


@dataclass(frozen=True, slots=True)
class ThirdPartyRule:
    permitted: bool
    requires_debtor_unreachable: bool
    requires_authorisation: bool
    forbidden_terms: tuple[str, ...]
    source: str


@dataclass(frozen=True, slots=True)
class StopFlagRule:
    """Flags that stop contact; ``non_overridable`` ones a supervisor may not override."""

    flags: frozenset[ContactFlag]
    non_overridable: frozenset[ContactFlag]
    source: str


@dataclass(frozen=True, slots=True)
class RulePack:
    name: str
    version: str
    jurisdiction: str
    default_timezone: ZoneInfo
    third_party: ThirdPartyRule
    stop_flags: StopFlagRule
    quiet_hours: QuietHoursRule | None = None
    daily_connected_calls: DailyConnectedCallRule | None = None
    seven_day_calls: SevenDayCallRule | None = None
    post_conversation: PostConversationRule | None = None
    holidays: HolidayRule | None = None
    retention_years: int = 0
    overrides: tuple[str, ...] = ()


# ---------------------------------------------------------------- reading TOML values

_T = TypeVar("_T")


def _field(table: Mapping[str, Any], key: str, kind: type[_T], where: str) -> _T:
    if key not in table:
        raise PackError(f"{where}: missing field {key!r}")
    value = table[key]
    if kind is int and isinstance(value, bool):
        raise PackError(f"{where}.{key}: expected an integer, got {value!r}")
    if not isinstance(value, kind):
        raise PackError(f"{where}.{key}: expected {kind.__name__}, got {value!r}")
    return value


def _clock(table: Mapping[str, Any], key: str, where: str) -> time:
    text = _field(table, key, str, where)
    try:
        hour, minute = (int(part) for part in text.split(":"))
        return time(hour, minute)
    except ValueError as exc:
        raise PackError(f"{where}.{key}: expected HH:MM, got {text!r}") from exc


def _channels(table: Mapping[str, Any], key: str, where: str) -> frozenset[Channel]:
    names = _field(table, key, list, where)
    try:
        return frozenset(Channel(str(name)) for name in names)
    except ValueError as exc:
        raise PackError(f"{where}.{key}: {exc}") from exc


def _flags(table: Mapping[str, Any], key: str, where: str) -> frozenset[ContactFlag]:
    names = _field(table, key, list, where)
    try:
        return frozenset(ContactFlag(str(name)) for name in names)
    except ValueError as exc:
        raise PackError(f"{where}.{key}: {exc}") from exc


def _dates(table: Mapping[str, Any], key: str, where: str) -> frozenset[date]:
    values = _field(table, key, list, where)
    for value in values:
        if not isinstance(value, date):
            raise PackError(f"{where}.{key}: expected TOML dates (2025-01-01), got {value!r}")
    return frozenset(values)


def _positive(table: Mapping[str, Any], key: str, where: str) -> int:
    value = _field(table, key, int, where)
    if value < 0:
        raise PackError(f"{where}.{key}: must not be negative, got {value}")
    return value


def _check_known(table: Mapping[str, Any], known: set[str], where: str) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise PackError(f"{where}: unknown field(s) {', '.join(unknown)}")


def _quiet_hours(table: Mapping[str, Any], where: str) -> QuietHoursRule:
    _check_known(table, {"allowed_from", "allowed_until", "channels", "source"}, where)
    rule = QuietHoursRule(
        allowed_from=_clock(table, "allowed_from", where),
        allowed_until=_clock(table, "allowed_until", where),
        channels=_channels(table, "channels", where),
        source=_field(table, "source", str, where),
    )
    if rule.allowed_from >= rule.allowed_until:
        raise PackError(f"{where}: allowed_from must be earlier than allowed_until")
    return rule


def _daily(table: Mapping[str, Any], where: str) -> DailyConnectedCallRule:
    _check_known(table, {"limit", "channels", "source"}, where)
    return DailyConnectedCallRule(
        limit=_positive(table, "limit", where),
        channels=_channels(table, "channels", where),
        source=_field(table, "source", str, where),
    )


def _seven_day(table: Mapping[str, Any], where: str) -> SevenDayCallRule:
    _check_known(table, {"limit", "days", "channels", "source"}, where)
    rule = SevenDayCallRule(
        limit=_positive(table, "limit", where),
        days=_positive(table, "days", where),
        channels=_channels(table, "channels", where),
        source=_field(table, "source", str, where),
    )
    if rule.days < 1:
        raise PackError(f"{where}.days: must be at least 1")
    return rule


def _post_conversation(table: Mapping[str, Any], where: str) -> PostConversationRule:
    _check_known(table, {"days", "channels", "conversation_channels", "source"}, where)
    return PostConversationRule(
        days=_positive(table, "days", where),
        channels=_channels(table, "channels", where),
        conversation_channels=_channels(table, "conversation_channels", where),
        source=_field(table, "source", str, where),
    )


def _holidays(table: Mapping[str, Any], where: str) -> HolidayRule:
    _check_known(table, {"enabled", "dates", "channels", "source"}, where)
    return HolidayRule(
        enabled=_field(table, "enabled", bool, where),
        dates=_dates(table, "dates", where),
        channels=_channels(table, "channels", where),
        source=_field(table, "source", str, where),
    )


def _third_party(table: Mapping[str, Any], where: str) -> ThirdPartyRule:
    known = {"permitted", "requires_debtor_unreachable", "requires_authorisation"}
    _check_known(table, known | {"forbidden_terms", "source"}, where)
    terms = _field(table, "forbidden_terms", list, where)
    return ThirdPartyRule(
        permitted=_field(table, "permitted", bool, where),
        requires_debtor_unreachable=_field(table, "requires_debtor_unreachable", bool, where),
        requires_authorisation=_field(table, "requires_authorisation", bool, where),
        forbidden_terms=tuple(str(term).casefold() for term in terms),
        source=_field(table, "source", str, where),
    )


def _stop_flags(table: Mapping[str, Any], where: str) -> StopFlagRule:
    _check_known(table, {"flags", "non_overridable", "source"}, where)
    return StopFlagRule(
        flags=_flags(table, "flags", where),
        non_overridable=_flags(table, "non_overridable", where),
        source=_field(table, "source", str, where),
    )


_OPTIONAL_RULES: dict[str, Callable[[Mapping[str, Any], str], Any]] = {
    "quiet_hours": _quiet_hours,
    "daily_connected_calls": _daily,
    "seven_day_calls": _seven_day,
    "post_conversation": _post_conversation,
    "holidays": _holidays,
}


def parse_pack(document: Mapping[str, Any]) -> RulePack:
    """Build a pack from a parsed TOML document."""
    _check_known(document, {"pack", "rules"}, "pack file")
    head = _field(document, "pack", dict, "pack file")
    _check_known(
        head, {"name", "version", "jurisdiction", "default_timezone", "retention_years"}, "[pack]"
    )
    rules = _field(document, "rules", dict, "pack file")
    _check_known(rules, set(_OPTIONAL_RULES) | {"third_party", "stop_flags"}, "[rules]")
    zone_name = _field(head, "default_timezone", str, "[pack]")
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise PackError(f"[pack].default_timezone: unknown time zone {zone_name!r}") from exc
    optional: dict[str, Any] = {
        key: parse(_field(rules, key, dict, "[rules]"), f"[rules.{key}]")
        for key, parse in _OPTIONAL_RULES.items()
        if key in rules
    }
    return RulePack(
        name=_field(head, "name", str, "[pack]"),
        version=_field(head, "version", str, "[pack]"),
        jurisdiction=_field(head, "jurisdiction", str, "[pack]"),
        default_timezone=zone,
        retention_years=_positive(head, "retention_years", "[pack]"),
        third_party=_third_party(
            _field(rules, "third_party", dict, "[rules]"), "[rules.third_party]"
        ),
        stop_flags=_stop_flags(_field(rules, "stop_flags", dict, "[rules]"), "[rules.stop_flags]"),
        **optional,
    )


def shipped_pack_names() -> list[str]:
    folder = resources.files(PACKS_PACKAGE).joinpath(PACKS_DIRECTORY)
    return sorted(
        entry.name.removesuffix(".toml")
        for entry in folder.iterdir()
        if entry.name.endswith(".toml")
    )


def load_pack(name: str) -> RulePack:
    """Load a shipped pack by name, e.g. ``cn-2025`` or ``us-regf``."""
    if name not in shipped_pack_names():
        raise PackError(
            f"unknown rule pack {name!r}; shipped packs: {', '.join(shipped_pack_names())}"
        )
    text = (
        resources.files(PACKS_PACKAGE)
        .joinpath(PACKS_DIRECTORY, f"{name}.toml")
        .read_text(encoding="utf-8")
    )
    try:
        pack = parse_pack(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise PackError(f"pack {name!r} is not valid TOML: {exc}") from exc
    if pack.name != name:
        raise PackError(f"pack file {name}.toml names itself {pack.name!r}")
    return pack


# ---------------------------------------------------------------- creditor overrides


class _Tightening:
    """Applies one override table to one rule, refusing any loosening change."""

    def __init__(self, override: str, pack: str, rule: str, table: Mapping[str, Any]) -> None:
        self.override = override
        self.pack = pack
        self.rule = rule
        self.table = table
        self.where = f"override [rules.{rule}]"

    def loosened(self, detail: str) -> PackLoosenedError:
        return PackLoosenedError(
            override=self.override, pack=self.pack, rule=self.rule, detail=detail
        )

    def has(self, key: str) -> bool:
        return key in self.table

    def channels_superset(self, key: str, base: frozenset[Channel]) -> frozenset[Channel]:
        if not self.has(key):
            return base
        wanted = _channels(self.table, key, self.where)
        dropped = base - wanted
        if dropped:
            names = ", ".join(sorted(channel.value for channel in dropped))
            raise self.loosened(f"{key} drops {names}")
        return wanted

    def not_above(self, key: str, base: int) -> int:
        if not self.has(key):
            return base
        value = _positive(self.table, key, self.where)
        if value > base:
            raise self.loosened(f"{key} {value} is more than the pack's {base}")
        return value

    def not_below(self, key: str, base: int) -> int:
        if not self.has(key):
            return base
        value = _positive(self.table, key, self.where)
        if value < base:
            raise self.loosened(f"{key} {value} is less than the pack's {base}")
        return value

    def stays_true(self, key: str, base: bool) -> bool:
        if not self.has(key):
            return base
        value = _field(self.table, key, bool, self.where)
        if base and not value:
            raise self.loosened(f"{key} cannot be switched off")
        return value

    def stays_false(self, key: str, base: bool) -> bool:
        if not self.has(key):
            return base
        value = _field(self.table, key, bool, self.where)
        if value and not base:
            raise self.loosened(f"{key} cannot be switched on")
        return value

    def source(self, base: str) -> str:
        if not self.has("source"):
            return base
        return (
            f"{base}; tightened by {self.override}: {_field(self.table, 'source', str, self.where)}"
        )


def _tighten_quiet_hours(step: _Tightening, base: QuietHoursRule | None) -> QuietHoursRule:
    if base is None:
        return _quiet_hours(step.table, step.where)
    _check_known(step.table, {"allowed_from", "allowed_until", "channels", "source"}, step.where)
    start = _clock(step.table, "allowed_from", step.where) if step.has("allowed_from") else None
    end = _clock(step.table, "allowed_until", step.where) if step.has("allowed_until") else None
    if start is not None and start < base.allowed_from:
        raise step.loosened(
            f"allowed_from {start:%H:%M} is earlier than the pack's {base.allowed_from:%H:%M}"
        )
    if end is not None and end > base.allowed_until:
        raise step.loosened(
            f"allowed_until {end:%H:%M} is later than the pack's {base.allowed_until:%H:%M}"
        )
    rule = QuietHoursRule(
        allowed_from=base.allowed_from if start is None else start,
        allowed_until=base.allowed_until if end is None else end,
        channels=step.channels_superset("channels", base.channels),
        source=step.source(base.source),
    )
    if rule.allowed_from >= rule.allowed_until:
        raise PackError(f"{step.where}: allowed_from must be earlier than allowed_until")
    return rule


def _tighten_daily(
    step: _Tightening, base: DailyConnectedCallRule | None
) -> DailyConnectedCallRule:
    if base is None:
        return _daily(step.table, step.where)
    _check_known(step.table, {"limit", "channels", "source"}, step.where)
    return DailyConnectedCallRule(
        limit=step.not_above("limit", base.limit),
        channels=step.channels_superset("channels", base.channels),
        source=step.source(base.source),
    )


def _tighten_seven_day(step: _Tightening, base: SevenDayCallRule | None) -> SevenDayCallRule:
    if base is None:
        return _seven_day(step.table, step.where)
    _check_known(step.table, {"limit", "days", "channels", "source"}, step.where)
    return SevenDayCallRule(
        limit=step.not_above("limit", base.limit),
        days=step.not_below("days", base.days),
        channels=step.channels_superset("channels", base.channels),
        source=step.source(base.source),
    )


def _tighten_post_conversation(
    step: _Tightening, base: PostConversationRule | None
) -> PostConversationRule:
    if base is None:
        return _post_conversation(step.table, step.where)
    _check_known(step.table, {"days", "channels", "conversation_channels", "source"}, step.where)
    return PostConversationRule(
        days=step.not_below("days", base.days),
        channels=step.channels_superset("channels", base.channels),
        conversation_channels=step.channels_superset(
            "conversation_channels", base.conversation_channels
        ),
        source=step.source(base.source),
    )


def _tighten_holidays(step: _Tightening, base: HolidayRule | None) -> HolidayRule:
    if base is None:
        return _holidays(step.table, step.where)
    _check_known(step.table, {"enabled", "dates", "channels", "source"}, step.where)
    added = _dates(step.table, "dates", step.where) if step.has("dates") else frozenset()
    return HolidayRule(
        enabled=step.stays_true("enabled", base.enabled),
        dates=base.dates | added,
        channels=step.channels_superset("channels", base.channels),
        source=step.source(base.source),
    )


def _tighten_third_party(step: _Tightening, base: ThirdPartyRule) -> ThirdPartyRule:
    known = {"permitted", "requires_debtor_unreachable", "requires_authorisation"}
    _check_known(step.table, known | {"forbidden_terms", "source"}, step.where)
    added: tuple[str, ...] = ()
    if step.has("forbidden_terms"):
        terms = _field(step.table, "forbidden_terms", list, step.where)
        added = tuple(str(term).casefold() for term in terms if str(term).casefold())
    return ThirdPartyRule(
        permitted=step.stays_false("permitted", base.permitted),
        requires_debtor_unreachable=step.stays_true(
            "requires_debtor_unreachable", base.requires_debtor_unreachable
        ),
        requires_authorisation=step.stays_true(
            "requires_authorisation", base.requires_authorisation
        ),
        forbidden_terms=base.forbidden_terms
        + tuple(term for term in added if term not in base.forbidden_terms),
        source=step.source(base.source),
    )


def _tighten_stop_flags(step: _Tightening, base: StopFlagRule) -> StopFlagRule:
    _check_known(step.table, {"flags", "non_overridable", "source"}, step.where)
    flags = _flags(step.table, "flags", step.where) if step.has("flags") else frozenset()
    locked = (
        _flags(step.table, "non_overridable", step.where)
        if step.has("non_overridable")
        else frozenset()
    )
    return StopFlagRule(
        flags=base.flags | flags,
        non_overridable=base.non_overridable | locked,
        source=step.source(base.source),
    )


def apply_override(pack: RulePack, document: Mapping[str, Any]) -> RulePack:
    """Return ``pack`` tightened by a creditor override document.

    Raises :class:`PackLoosenedError` (naming the rule) for any loosening change and
    :class:`PackError` for anything malformed. Lists of dates, flags and forbidden terms are
    added to the pack's; channel lists must keep every channel the pack covers.
    """
    _check_known(document, {"override", "rules"}, "override file")
    head = _field(document, "override", dict, "override file")
    _check_known(head, {"name", "base_pack", "retention_years"}, "[override]")
    name = _field(head, "name", str, "[override]")
    base_name = _field(head, "base_pack", str, "[override]")
    if base_name != pack.name:
        raise PackError(f"override {name!r} is written for pack {base_name!r}, not {pack.name!r}")
    rules = document.get("rules", {})
    if not isinstance(rules, dict):
        raise PackError("override [rules] must be a table")
    known = set(_OPTIONAL_RULES) | {"third_party", "stop_flags"}
    _check_known(rules, known, "override [rules]")
    for rule_name, table in rules.items():
        if not isinstance(table, dict):
            raise PackError(f"override [rules.{rule_name}] must be a table")

    def step(rule: str) -> _Tightening:
        return _Tightening(name, pack.name, rule, rules[rule])

    tightened = pack
    if "quiet_hours" in rules:
        rule_qh = _tighten_quiet_hours(step("quiet_hours"), pack.quiet_hours)
        tightened = replace(tightened, quiet_hours=rule_qh)
    if "daily_connected_calls" in rules:
        rule_daily = _tighten_daily(step("daily_connected_calls"), pack.daily_connected_calls)
        tightened = replace(tightened, daily_connected_calls=rule_daily)
    if "seven_day_calls" in rules:
        rule_seven = _tighten_seven_day(step("seven_day_calls"), pack.seven_day_calls)
        tightened = replace(tightened, seven_day_calls=rule_seven)
    if "post_conversation" in rules:
        rule_post = _tighten_post_conversation(step("post_conversation"), pack.post_conversation)
        tightened = replace(tightened, post_conversation=rule_post)
    if "holidays" in rules:
        tightened = replace(tightened, holidays=_tighten_holidays(step("holidays"), pack.holidays))
    if "third_party" in rules:
        rule_tp = _tighten_third_party(step("third_party"), pack.third_party)
        tightened = replace(tightened, third_party=rule_tp)
    if "stop_flags" in rules:
        rule_flags = _tighten_stop_flags(step("stop_flags"), pack.stop_flags)
        tightened = replace(tightened, stop_flags=rule_flags)
    retention = _Tightening(name, pack.name, "retention_years", head).not_below(
        "retention_years", pack.retention_years
    )
    return replace(
        tightened,
        retention_years=retention,
        version=f"{pack.version}+{name}",
        overrides=(*pack.overrides, name),
    )


def load_override_file(pack: RulePack, path: Path) -> RulePack:
    """Apply a creditor override file to ``pack``.  A leading UTF-8 byte-order mark (as
    Notepad writes) is dropped; a file that is not UTF-8 is a :class:`PackError`."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise PackError(f"cannot read override file {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise PackError(
            f"override file {path} is not UTF-8 ({exc.reason} at byte {exc.start})"
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise PackError(f"override file {path} is not valid TOML: {exc}") from exc
    return apply_override(pack, document)
