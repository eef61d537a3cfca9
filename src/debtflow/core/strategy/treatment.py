"""Treatment plans per segment, in exact integer fen, within the creditor's mandate.

* potential -> instalments with interest / penalty relief;
* hardship  -> restructuring: longer term, lower rate, grace months;
* risk      -> legal referral and asset preservation (no repayment offer).

Parameters come from a versioned TOML file (``rules/treatment-v1.toml`` is shipped).  An offer
is built as: relief = owed interest x interest relief + owed penalty x penalty relief (each
rounded down to the fen, so relief is never more than the rule allows); the amount due after
relief is split into an optional down payment (paid on signing) and a schedule (see
:mod:`debtflow.core.strategy.schedules`).  The term is the shortest of the rule's candidate
terms whose heaviest instalment is at most ``target_burden_bp`` of the current monthly payment,
or the longest candidate if none is.

The creditor's :class:`Mandate` is a hard limit: :func:`check_mandate` lists every breach of an
offer, and :func:`propose_plan` refuses (``PlanRefused``) rather than bend it.
"""

from __future__ import annotations

import enum
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

from debtflow.core.money import fen_to_yuan
from debtflow.core.strategy.schedules import (
    BurdenChange,
    GraceInterest,
    RepaymentSchedule,
    ScheduleError,
    ScheduleMethod,
    ScheduleTerms,
    build_schedule,
    burden_change,
)
from debtflow.core.strategy.segmentation import Segment

BP = 10_000


class TreatmentRuleError(ValueError):
    """A treatment rule file that cannot be used."""


class TreatmentKind(enum.StrEnum):
    INSTALMENTS = "instalments"
    RESTRUCTURING = "restructuring"
    LEGAL = "legal"


class LegalAction(enum.StrEnum):
    LEGAL_REFERRAL = "legal_referral"
    ASSET_PRESERVATION = "asset_preservation"


@dataclass(frozen=True)
class Debt:
    """What the debtor owes now, by component, and pays a month on the current schedule."""

    principal_fen: int
    interest_fen: int
    penalty_fen: int
    current_monthly_fen: int

    def __post_init__(self) -> None:
        for name in ("principal_fen", "interest_fen", "penalty_fen", "current_monthly_fen"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer number of fen")

    @property
    def total_fen(self) -> int:
        return self.principal_fen + self.interest_fen + self.penalty_fen


@dataclass(frozen=True)
class Mandate:
    """Limits the creditor set; an offer outside them is refused."""

    max_relief_bp: int
    """Relief at most this share of the total owed (basis points)."""
    max_term_months: int
    """Plan length including grace months."""
    min_first_payment_fen: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.max_relief_bp <= BP:
            raise ValueError("max_relief_bp must be between 0 and 10000")
        if self.max_term_months < 1:
            raise ValueError("max_term_months must be at least 1")
        if self.min_first_payment_fen < 0:
            raise ValueError("min_first_payment_fen must not be negative")


@dataclass(frozen=True)
class PlanRule:
    kind: TreatmentKind
    terms: tuple[int, ...] = ()
    """Candidate repayment terms in months, shortest first."""
    method: ScheduleMethod = ScheduleMethod.ANNUITY
    monthly_rate: Decimal = Decimal(0)
    interest_relief_bp: int = 0
    penalty_relief_bp: int = 0
    grace_months: int = 0
    grace_interest: GraceInterest = GraceInterest.WAIVED
    down_payment_bp: int = 0
    """Share of the amount due after relief paid on signing."""
    target_burden_bp: int = BP
    actions: tuple[LegalAction, ...] = ()


@dataclass(frozen=True)
class TreatmentRules:
    version: str
    by_segment: Mapping[Segment, PlanRule]


@dataclass(frozen=True)
class Offer:
    """A repayment offer: relief, down payment and schedule for the rest."""

    debt: Debt
    interest_relief_fen: int
    penalty_relief_fen: int
    down_payment_fen: int
    schedule: RepaymentSchedule

    @property
    def relief_fen(self) -> int:
        return self.interest_relief_fen + self.penalty_relief_fen

    @property
    def due_after_relief_fen(self) -> int:
        return self.debt.total_fen - self.relief_fen

    @property
    def total_to_pay_fen(self) -> int:
        return self.down_payment_fen + self.schedule.total_fen

    @property
    def term_months(self) -> int:
        return self.schedule.term_months

    @property
    def first_payment_fen(self) -> int:
        return (
            self.down_payment_fen if self.down_payment_fen > 0 else self.schedule.first_payment_fen
        )

    @property
    def relief_bp(self) -> int:
        """Relief as a share of the total owed, basis points rounded up (never understated)."""
        if self.debt.total_fen == 0:
            return 0
        return -(-self.relief_fen * BP // self.debt.total_fen)

    def burden(self) -> BurdenChange:
        return burden_change(self.schedule, self.debt.current_monthly_fen)


@dataclass(frozen=True)
class MandateBreach:
    code: str
    en: str
    zh: str


class PlanRefused(ValueError):
    """The plan breaks the creditor's mandate: ``breaches`` say how, ``offer`` is the offer
    that was refused (what a person with authority would be asked to approve)."""

    def __init__(self, breaches: Sequence[MandateBreach], offer: Offer | None = None) -> None:
        self.breaches = tuple(breaches)
        self.offer = offer
        super().__init__("; ".join(b.en for b in self.breaches))


@dataclass(frozen=True)
class TreatmentPlan:
    segment: Segment
    kind: TreatmentKind
    rules_version: str
    offer: Offer | None
    actions: tuple[LegalAction, ...] = ()


def check_mandate(offer: Offer, mandate: Mandate) -> tuple[MandateBreach, ...]:
    """Every way ``offer`` breaks ``mandate`` (empty when it keeps to it)."""
    breaches: list[MandateBreach] = []
    if offer.relief_fen * BP > mandate.max_relief_bp * offer.debt.total_fen:
        breaches.append(
            MandateBreach(
                "RELIEF_ABOVE_MANDATE",
                f"relief of {fen_to_yuan(offer.relief_fen)} yuan is "
                f"{offer.relief_bp / 100:.2f} % of the debt; "
                f"the creditor allows at most {mandate.max_relief_bp / 100:.2f} %",
                f"减免{fen_to_yuan(offer.relief_fen)}元，占欠款{offer.relief_bp / 100:.2f}%，"
                f"超过债权方上限{mandate.max_relief_bp / 100:.2f}%",
            )
        )
    if offer.term_months > mandate.max_term_months:
        breaches.append(
            MandateBreach(
                "TERM_ABOVE_MANDATE",
                f"the plan runs {offer.term_months} months; the creditor allows at most "
                f"{mandate.max_term_months}",
                f"方案期限{offer.term_months}个月，超过债权方上限{mandate.max_term_months}个月",
            )
        )
    if offer.first_payment_fen < mandate.min_first_payment_fen:
        breaches.append(
            MandateBreach(
                "FIRST_PAYMENT_BELOW_MANDATE",
                f"the first payment of {fen_to_yuan(offer.first_payment_fen)} yuan is below the "
                f"creditor's minimum of {fen_to_yuan(mandate.min_first_payment_fen)} yuan",
                f"首期还款{fen_to_yuan(offer.first_payment_fen)}元，低于债权方要求的最低"
                f"{fen_to_yuan(mandate.min_first_payment_fen)}元",
            )
        )
    return tuple(breaches)


def make_offer(
    debt: Debt,
    *,
    months: int,
    interest_relief_bp: int = 0,
    penalty_relief_bp: int = 0,
    down_payment_bp: int = 0,
    monthly_rate: Decimal = Decimal(0),
    method: ScheduleMethod = ScheduleMethod.ANNUITY,
    grace_months: int = 0,
    grace_interest: GraceInterest = GraceInterest.WAIVED,
    min_first_payment_fen: int = 0,
) -> Offer:
    """An offer from explicit terms (relief and down payment rounded down to the fen).

    Where the first payment is not an ordinary instalment — a down payment, or a grace
    month — and falls below the creditor's ``min_first_payment_fen``, the down payment is
    raised to that minimum (when it is less than what is due): the creditor's minimum is a
    floor the plan meets. Relief and term are never bent."""
    for name, value in (
        ("interest_relief_bp", interest_relief_bp),
        ("penalty_relief_bp", penalty_relief_bp),
        ("down_payment_bp", down_payment_bp),
    ):
        if not 0 <= value <= BP:
            raise ValueError(f"{name} must be between 0 and 10000")
    interest_relief = debt.interest_fen * interest_relief_bp // BP
    penalty_relief = debt.penalty_fen * penalty_relief_bp // BP
    due = debt.total_fen - interest_relief - penalty_relief

    def schedule_after(down: int) -> RepaymentSchedule:
        return build_schedule(
            ScheduleTerms(
                principal_fen=due - down,
                months=months,
                monthly_rate=monthly_rate,
                method=method,
                grace_months=grace_months,
                grace_interest=grace_interest,
            )
        )

    down = due * down_payment_bp // BP
    offer = Offer(debt, interest_relief, penalty_relief, down, schedule_after(down))
    if (down > 0 or grace_months > 0) and offer.first_payment_fen < min_first_payment_fen < due:
        down = min_first_payment_fen
        offer = Offer(debt, interest_relief, penalty_relief, down, schedule_after(down))
    return offer


def _offer_for_term(debt: Debt, rule: PlanRule, months: int, min_first_payment_fen: int) -> Offer:
    return make_offer(
        debt,
        months=months,
        min_first_payment_fen=min_first_payment_fen,
        interest_relief_bp=rule.interest_relief_bp,
        penalty_relief_bp=rule.penalty_relief_bp,
        down_payment_bp=rule.down_payment_bp,
        monthly_rate=rule.monthly_rate,
        method=rule.method,
        grace_months=rule.grace_months,
        grace_interest=rule.grace_interest,
    )


def chosen_offer(debt: Debt, rule: PlanRule, min_first_payment_fen: int = 0) -> Offer:
    """The offer for the shortest candidate term within the burden target, else for the
    longest candidate (each candidate's schedule is built once, twice where the down payment
    is raised to ``min_first_payment_fen``)."""
    for months in rule.terms[:-1]:
        offer = _offer_for_term(debt, rule, months, min_first_payment_fen)
        if (
            offer.schedule.largest_instalment_fen * BP
            <= rule.target_burden_bp * debt.current_monthly_fen
        ):
            return offer
    return _offer_for_term(debt, rule, rule.terms[-1], min_first_payment_fen)


def propose_plan(
    segment: Segment, debt: Debt, mandate: Mandate, rules: TreatmentRules
) -> TreatmentPlan:
    """The plan for a case of ``segment``; raises :class:`PlanRefused` if it breaks the mandate."""
    rule = rules.by_segment[segment]
    if rule.kind is TreatmentKind.LEGAL:
        return TreatmentPlan(segment, rule.kind, rules.version, None, rule.actions)
    offer = chosen_offer(debt, rule, mandate.min_first_payment_fen)
    breaches = check_mandate(offer, mandate)
    if breaches:
        raise PlanRefused(breaches, offer)
    return TreatmentPlan(segment, rule.kind, rules.version, offer)


_KIND_FOR_SEGMENT = {
    Segment.POTENTIAL: TreatmentKind.INSTALMENTS,
    Segment.HARDSHIP: TreatmentKind.RESTRUCTURING,
    Segment.RISK: TreatmentKind.LEGAL,
}
_PLAN_KEYS = {
    "kind",
    "terms",
    "method",
    "monthly_rate",
    "interest_relief_bp",
    "penalty_relief_bp",
    "grace_months",
    "grace_interest",
    "down_payment_bp",
    "target_burden_bp",
    "actions",
}


def _bp(raw: Mapping[str, Any], key: str, where: str) -> int:
    value = raw.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= BP:
        raise TreatmentRuleError(f"{where}: {key} must be whole basis points 0..10000")
    return value


def _parse_plan(segment: Segment, raw: Any, where: str) -> PlanRule:
    if not isinstance(raw, Mapping):
        raise TreatmentRuleError(f"{where}: expected a table")
    unknown = set(raw) - _PLAN_KEYS
    if unknown:
        raise TreatmentRuleError(f"{where}: unknown keys: {', '.join(sorted(unknown))}")
    try:
        kind = TreatmentKind(str(raw.get("kind")))
    except ValueError:
        raise TreatmentRuleError(f"{where}: unknown kind {raw.get('kind')!r}") from None
    if kind is not _KIND_FOR_SEGMENT[segment]:
        raise TreatmentRuleError(
            f"{where}: segment {segment.value} takes kind {_KIND_FOR_SEGMENT[segment].value}"
        )
    if kind is TreatmentKind.LEGAL:
        try:
            actions = tuple(LegalAction(a) for a in raw.get("actions", []))
        except ValueError as error:
            raise TreatmentRuleError(f"{where}: {error}") from None
        if not actions:
            raise TreatmentRuleError(f"{where}: a legal treatment lists its actions")
        return PlanRule(kind=kind, actions=actions)
    terms = raw.get("terms")
    if (
        not isinstance(terms, list)
        or not terms
        or not all(isinstance(t, int) and not isinstance(t, bool) and t >= 1 for t in terms)
        or terms != sorted(set(terms))
    ):
        raise TreatmentRuleError(f"{where}: terms must be whole months, shortest first, no repeats")
    try:
        rate = Decimal(str(raw.get("monthly_rate", "0")))
        method = ScheduleMethod(raw.get("method", "annuity"))
        grace_interest = GraceInterest(raw.get("grace_interest", "waived"))
    except (InvalidOperation, ValueError) as error:
        raise TreatmentRuleError(f"{where}: {error}") from None
    grace = raw.get("grace_months", 0)
    if isinstance(grace, bool) or not isinstance(grace, int) or grace < 0:
        raise TreatmentRuleError(f"{where}: grace_months must be a whole number >= 0")
    target = raw.get("target_burden_bp", BP)
    if isinstance(target, bool) or not isinstance(target, int) or target <= 0:
        raise TreatmentRuleError(f"{where}: target_burden_bp must be a positive whole number")
    rule = PlanRule(
        kind=kind,
        terms=tuple(terms),
        method=method,
        monthly_rate=rate,
        interest_relief_bp=_bp(raw, "interest_relief_bp", where),
        penalty_relief_bp=_bp(raw, "penalty_relief_bp", where),
        grace_months=grace,
        grace_interest=grace_interest,
        down_payment_bp=_bp(raw, "down_payment_bp", where),
        target_burden_bp=target,
    )
    try:  # surface bad rates / terms now, not at night
        ScheduleTerms(1, terms[-1], rate, method, grace, grace_interest)
    except ScheduleError as error:
        raise TreatmentRuleError(f"{where}: {error}") from None
    return rule


def parse_treatment_rules(document: Mapping[str, Any], source: str = "rules") -> TreatmentRules:
    version = document.get("version")
    if not isinstance(version, str) or not version:
        raise TreatmentRuleError(f"{source}: missing 'version'")
    unknown = set(document) - {"version", "description", *(s.value for s in Segment)}
    if unknown:
        raise TreatmentRuleError(f"{source}: unknown sections: {', '.join(sorted(unknown))}")
    by_segment: dict[Segment, PlanRule] = {}
    for segment in Segment:
        if segment.value not in document:
            raise TreatmentRuleError(f"{source}: no [{segment.value}] section")
        by_segment[segment] = _parse_plan(
            segment, document[segment.value], f"{source}: [{segment.value}]"
        )
    return TreatmentRules(version=version, by_segment=by_segment)


def load_treatment_rules(path: Path) -> TreatmentRules:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8-sig"))  # a BOM is dropped
    except FileNotFoundError:
        raise TreatmentRuleError(f"rule file not found: {path}") from None
    except OSError as error:  # a folder, no permission
        raise TreatmentRuleError(f"{path}: cannot be read ({error.strerror})") from None
    except UnicodeDecodeError as error:
        raise TreatmentRuleError(
            f"{path}: not UTF-8 ({error.reason} at byte {error.start})"
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise TreatmentRuleError(f"{path}: not valid TOML ({error})") from None
    return parse_treatment_rules(document, source=str(path))


def shipped_treatment_rules(name: str = "treatment-v1.toml") -> TreatmentRules:
    text = resources.files("debtflow.core.strategy").joinpath("rules", name).read_text("utf-8")
    return parse_treatment_rules(tomllib.loads(text), source=name)
