"""Repayment schedules in exact integer fen: equal-instalment (annuity) and equal-principal.

Rules (docs/strategy.md, "Schedule arithmetic"):

* money is integer fen; the monthly rate is a :class:`~decimal.Decimal` with at most
  :data:`RATE_DECIMALS` decimal places (``Decimal("0.005")`` = 0.5 % a month);
* interest of a month = balance x rate, rounded half-up to the fen;
* equal principal: the principal is split into ``n`` parts of ``principal // n`` fen, the
  first ``principal % n`` parts one fen more;
* annuity: the level payment is ``principal x factor`` rounded half-up, where
  ``factor = r / (1 - (1 + r) ** -n)`` is fixed to :data:`FACTOR_SCALE` (12 decimals); with a
  zero rate the payment follows the equal-principal split; the last instalment takes
  whatever balance is left, so the principal parts always sum to the principal;
* grace months come first: with :attr:`GraceInterest.WAIVED` nothing is due and no interest
  runs, with :attr:`GraceInterest.INTEREST_ONLY` the month's interest is due.

Every instalment is ``principal_fen + interest_fen``; the schedule total is their sum.  No fen is
lost or invented: the principal parts sum exactly to the principal.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

RATE_DECIMALS = 8
RATE_SCALE = 10**RATE_DECIMALS
FACTOR_SCALE = 10**12
MAX_TERM_MONTHS = 360


class ScheduleError(ValueError):
    """Schedule terms that cannot be turned into a schedule."""


class ScheduleMethod(enum.StrEnum):
    ANNUITY = "annuity"
    """等额本息: equal total instalments."""
    EQUAL_PRINCIPAL = "equal_principal"
    """等额本金: equal principal parts, falling interest."""


class GraceInterest(enum.StrEnum):
    WAIVED = "waived"
    """Nothing is due in a grace month and no interest runs."""
    INTEREST_ONLY = "interest_only"
    """Only the month's interest is due in a grace month."""


@dataclass(frozen=True)
class Instalment:
    number: int
    """1-based month number counted from the start of the plan (grace months included)."""
    principal_fen: int
    interest_fen: int
    balance_after_fen: int
    grace: bool = False

    @property
    def total_fen(self) -> int:
        return self.principal_fen + self.interest_fen


@dataclass(frozen=True)
class ScheduleTerms:
    principal_fen: int
    months: int
    """Repayment months after the grace period."""
    monthly_rate: Decimal = Decimal(0)
    method: ScheduleMethod = ScheduleMethod.ANNUITY
    grace_months: int = 0
    grace_interest: GraceInterest = GraceInterest.WAIVED

    def __post_init__(self) -> None:
        if isinstance(self.principal_fen, bool) or not isinstance(self.principal_fen, int):
            raise ScheduleError("principal_fen must be an integer number of fen")
        if self.principal_fen < 0:
            raise ScheduleError("principal_fen must not be negative")
        if self.months < 1:
            raise ScheduleError("a schedule needs at least one repayment month")
        if self.grace_months < 0:
            raise ScheduleError("grace_months must not be negative")
        if self.months + self.grace_months > MAX_TERM_MONTHS:
            raise ScheduleError(f"term longer than {MAX_TERM_MONTHS} months")
        rate_units(self.monthly_rate)


@dataclass(frozen=True)
class RepaymentSchedule:
    terms: ScheduleTerms
    instalments: tuple[Instalment, ...]

    @property
    def total_fen(self) -> int:
        return sum(i.total_fen for i in self.instalments)

    @property
    def total_interest_fen(self) -> int:
        return sum(i.interest_fen for i in self.instalments)

    @property
    def term_months(self) -> int:
        return len(self.instalments)

    @property
    def largest_instalment_fen(self) -> int:
        """The heaviest monthly payment once grace is over (the burden a debtor plans for)."""
        return max(i.total_fen for i in self.instalments if not i.grace)

    @property
    def first_payment_fen(self) -> int:
        return self.instalments[0].total_fen


def rate_units(monthly_rate: Decimal) -> int:
    """The rate as an integer count of 1e-8; refuses negative or over-precise rates."""
    if not isinstance(monthly_rate, Decimal) or not monthly_rate.is_finite():
        raise ScheduleError("monthly_rate must be a finite Decimal")
    if monthly_rate < 0:
        raise ScheduleError("monthly_rate must not be negative")
    if monthly_rate >= 1:
        raise ScheduleError("monthly_rate must be a fraction below 1 (0.01 = 1 % a month)")
    scaled = monthly_rate * RATE_SCALE
    if scaled != scaled.to_integral_value():
        raise ScheduleError(f"monthly_rate has more than {RATE_DECIMALS} decimal places")
    return int(scaled)


def monthly_rate_from_annual_bp(annual_bp: int) -> Decimal:
    """A nominal annual rate in basis points as a monthly rate (÷ 12), rounded to 1e-8."""
    if annual_bp < 0:
        raise ScheduleError("annual rate must not be negative")
    return (Decimal(annual_bp) / Decimal(120_000)).quantize(
        Decimal(1).scaleb(-RATE_DECIMALS), rounding=ROUND_HALF_UP
    )


def divide_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half-up, for numerator >= 0 and denominator > 0."""
    return (2 * numerator + denominator) // (2 * denominator)


def interest_fen(balance_fen: int, rate: int) -> int:
    """A month's interest on balance_fen at ``rate`` (units of 1e-8), half-up to the fen."""
    return divide_half_up(balance_fen * rate, RATE_SCALE)


def annuity_factor(rate: int, months: int) -> int:
    """r / (1 - (1 + r) ** -n) in units of 1e-12, half-up (rate in units of 1e-8)."""
    if rate == 0:
        return divide_half_up(FACTOR_SCALE, months)
    with localcontext() as context:
        context.prec = 60
        r = Decimal(rate) / RATE_SCALE
        factor = r / (1 - (1 + r) ** -months)
        return int((factor * FACTOR_SCALE).to_integral_value(rounding=ROUND_HALF_UP))


def annuity_payment_fen(principal_fen: int, rate: int, months: int) -> int:
    """The level payment of an annuity, the exact payment half-up to the fen (the last
    instalment absorbs the rounding; ``build_schedule`` takes one fen less where this would
    repay the loan before its last month)."""
    if rate == 0:
        return principal_fen // months + (1 if principal_fen % months else 0)
    return divide_half_up(principal_fen * annuity_factor(rate, months), FACTOR_SCALE)


def _annuity_rows(
    principal_fen: int, rate: int, months: int, payment: int, first: int
) -> tuple[list[Instalment], bool]:
    """The repayment months at ``payment`` (numbered from ``first``), and whether the loan
    is repaid before the last of them."""
    balance = principal_fen
    rows: list[Instalment] = []
    early = False
    for k in range(months):
        interest = interest_fen(balance, rate)
        part = balance if k == months - 1 else min(payment - interest, balance)
        balance -= part
        early = early or (balance == 0 and k < months - 1 and principal_fen > 0)
        rows.append(Instalment(first + k, part, interest, balance))
    return rows, early


def equal_principal_parts(principal_fen: int, months: int) -> list[int]:
    base, extra = divmod(principal_fen, months)
    return [base + 1 if k < extra else base for k in range(months)]


def build_schedule(terms: ScheduleTerms) -> RepaymentSchedule:
    """The month-by-month schedule for ``terms`` (see the module rules)."""
    rate = rate_units(terms.monthly_rate)
    balance = terms.principal_fen
    rows: list[Instalment] = []
    for month in range(1, terms.grace_months + 1):
        due = (
            interest_fen(balance, rate)
            if terms.grace_interest is GraceInterest.INTEREST_ONLY
            else 0
        )
        rows.append(Instalment(month, 0, due, balance, grace=True))

    n = terms.months
    if terms.method is ScheduleMethod.EQUAL_PRINCIPAL or rate == 0:
        parts = equal_principal_parts(terms.principal_fen, n)
        for k, part in enumerate(parts):
            interest = interest_fen(balance, rate)
            balance -= part
            rows.append(Instalment(terms.grace_months + k + 1, part, interest, balance))
    else:
        # a long term at a high rate multiplies each month's rounding: where the half-up
        # payment would repay the loan before its last month, one fen less, as often as needed
        payment = annuity_payment_fen(terms.principal_fen, rate, n)
        first_interest = interest_fen(terms.principal_fen, rate)
        repaying, early = _annuity_rows(balance, rate, n, payment, terms.grace_months + 1)
        while early and payment > first_interest:
            payment -= 1
            repaying, early = _annuity_rows(balance, rate, n, payment, terms.grace_months + 1)
        rows.extend(repaying)
    return RepaymentSchedule(terms=terms, instalments=tuple(rows))


@dataclass(frozen=True)
class BurdenChange:
    """How a plan's monthly payment compares with what the debtor owes a month now."""

    current_monthly_fen: int
    new_monthly_fen: int
    months: int

    @property
    def change_bp(self) -> int:
        """Change of the monthly payment in basis points (negative = lighter), half away from 0."""
        if self.current_monthly_fen <= 0:
            raise ScheduleError("the current monthly payment must be positive to compare")
        delta = self.new_monthly_fen - self.current_monthly_fen
        magnitude = divide_half_up(abs(delta) * 10_000, self.current_monthly_fen)
        return -magnitude if delta < 0 else magnitude

    @property
    def change_percent(self) -> int:
        """Whole percent of the exact change, half away from zero (200,000 → 119,010 fen is
        −40.495 %: −40; the basis points, already rounded, are not rounded again)."""
        if self.current_monthly_fen <= 0:
            raise ScheduleError("the current monthly payment must be positive to compare")
        delta = self.new_monthly_fen - self.current_monthly_fen
        magnitude = divide_half_up(abs(delta) * 100, self.current_monthly_fen)
        return -magnitude if delta < 0 else magnitude

    def describe_en(self) -> str:
        return f"{self.months} instalments, {self.change_en()}"

    def describe_zh(self) -> str:
        return f"分{self.months}期，{self.change_zh()}"

    def change_en(self) -> str:
        """The change alone, without the number of instalments: "−40 % a month"."""
        return f"{_signed(self.change_percent)} % a month"

    def change_zh(self) -> str:
        """The change alone, without the number of instalments: "月供减少40%"."""
        pct = self.change_percent
        if pct < 0:
            return f"月供减少{-pct}%"
        if pct > 0:
            return f"月供增加{pct}%"
        return "月供不变"


def _signed(value: int) -> str:
    return f"\u2212{-value}" if value < 0 else f"+{value}"


def burden_change(schedule: RepaymentSchedule, current_monthly_fen: int) -> BurdenChange:
    return BurdenChange(
        current_monthly_fen=current_monthly_fen,
        new_monthly_fen=schedule.largest_instalment_fen,
        months=schedule.terms.months,
    )
