"""A chosen offer as a dated plan, a payment split over accounts, and the agreement text.

Dates: the down payment (if any) is due on the start day (the day the plan is chosen);
instalment ``k`` (grace months included) is due ``k`` calendar months after the start day,
on the same day of the month or the month's last day when it is shorter (31 Jan + 1 month =
28/29 Feb). Grace months with nothing due are kept in the schedule with 0 fen.

How a plan is told to the debtor (:class:`PlanFigures`, the same words on the offer card, in
the agreement and in a refused choice): the **term** is the months from the day the plan is
chosen to its last instalment, grace months included — the number a choice names
(``term_months``) and the creditor's maximum term limits; within it, the months of grace,
the **number of instalments** (the down payment, due on the day chosen, is not one of them)
and their amount. The total to pay is *owed now − relief + the plan's interest*, exactly in
fen; the down payment is part of it, not added to it.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from debtflow.core.money import fen_to_yuan
from debtflow.core.strategy.schedules import GraceInterest
from debtflow.core.strategy.treatment import Offer


@dataclass(frozen=True)
class DatedInstalment:
    number: int
    """0 is the down payment; 1.. are the months of the schedule."""
    due_on: date
    principal_fen: int
    interest_fen: int

    @property
    def amount_fen(self) -> int:
        return self.principal_fen + self.interest_fen


@dataclass(frozen=True)
class PlanFigures:
    """A plan as the debtor reads it, in fen: what is owed, relief, the plan's interest and
    the total (``owed − relief + interest = total``), and how it is paid over the term."""

    term_months: int
    """Months from the day chosen to the last instalment, grace months included."""
    grace_months: int
    grace_interest_only: bool
    """In a grace month the month's interest is due (else nothing is)."""
    instalments: int
    """Repayment instalments after the grace months; the down payment is not one of them."""
    down_payment_fen: int
    smallest_instalment_fen: int
    largest_instalment_fen: int
    owed_fen: int
    relief_fen: int
    plan_interest_fen: int
    total_fen: int

    def describe_zh(self) -> str:
        """``期限14个月：首付¥1,015.73，宽限2个月，之后分12期，每期¥4,183.33``."""
        return f"期限{self.term_months}个月：{self.payments_zh()}"

    def describe_en(self) -> str:
        """``14 months: ¥1,015.73 down, 2 months' grace, then 12 instalments of ¥4,183.33``."""
        return f"{self.term_months} months: {self.payments_en()}"

    def payments_zh(self) -> str:
        """How the term is paid: down payment, grace, instalments and their amount."""
        parts = []
        if self.down_payment_fen > 0:
            parts.append(f"首付¥{fen_to_yuan(self.down_payment_fen)}")
        if self.grace_months > 0:
            only = "（仅付利息）" if self.grace_interest_only else ""
            parts.append(f"宽限{self.grace_months}个月{only}")
        then = "之后" if parts else ""
        parts.append(f"{then}分{self.instalments}期，每期{self._amount('至')}")
        return "，".join(parts)

    def payments_en(self) -> str:
        parts = []
        if self.down_payment_fen > 0:
            parts.append(f"¥{fen_to_yuan(self.down_payment_fen)} down")
        if self.grace_months > 0:
            only = " (interest only)" if self.grace_interest_only else ""
            months = "month's" if self.grace_months == 1 else "months'"
            parts.append(f"{self.grace_months} {months} grace{only}")
        then = "then " if parts else ""
        noun = "instalment" if self.instalments == 1 else "instalments"
        parts.append(f"{then}{self.instalments} {noun} of {self._amount(' to ')}")
        return ", ".join(parts)

    def _amount(self, to: str) -> str:
        low, high = self.smallest_instalment_fen, self.largest_instalment_fen
        if low == high:
            return f"¥{fen_to_yuan(low)}"
        return f"¥{fen_to_yuan(low)}{to}¥{fen_to_yuan(high)}"


def plan_figures(offer: Offer) -> PlanFigures:
    """The figures of ``offer`` as every page and the agreement state them; raises
    ``ValueError`` if they do not add up to the offer's total to the fen."""
    schedule = offer.schedule
    paying = [i.total_fen for i in schedule.instalments if not i.grace]
    figures = PlanFigures(
        term_months=offer.term_months,
        grace_months=schedule.terms.grace_months,
        grace_interest_only=schedule.terms.grace_interest is GraceInterest.INTEREST_ONLY,
        instalments=len(paying),
        down_payment_fen=offer.down_payment_fen,
        smallest_instalment_fen=min(paying),
        largest_instalment_fen=max(paying),
        owed_fen=offer.debt.total_fen,
        relief_fen=offer.relief_fen,
        plan_interest_fen=schedule.total_interest_fen,
        total_fen=offer.total_to_pay_fen,
    )
    if figures.owed_fen - figures.relief_fen + figures.plan_interest_fen != figures.total_fen:
        raise ValueError("owed − relief + plan interest is not the offer's total")
    return figures


def instalment_ordinals(schedule: Sequence[DatedInstalment]) -> dict[int, int]:
    """Schedule number (month of the plan, grace included) -> the instalment's ordinal as
    the debtor counts it (1 = the first instalment after the grace months). The down
    payment (number 0) and the grace months (the leading months that repay no principal)
    have none."""
    ordinals: dict[int, int] = {}
    in_grace = True
    for row in sorted(schedule, key=lambda r: r.number):
        if row.number == 0:
            continue
        if in_grace and row.principal_fen == 0:
            continue
        in_grace = False
        ordinals[row.number] = len(ordinals) + 1
    return ordinals


def add_months(start: date, months: int) -> date:
    """``start`` moved ``months`` calendar months, clamped to the month's last day."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def dated_schedule(offer: Offer, start: date) -> tuple[DatedInstalment, ...]:
    """Every payment of ``offer`` with its due date, the down payment first."""
    rows: list[DatedInstalment] = []
    if offer.down_payment_fen > 0:
        rows.append(DatedInstalment(0, start, offer.down_payment_fen, 0))
    for item in offer.schedule.instalments:
        rows.append(
            DatedInstalment(
                item.number, add_months(start, item.number), item.principal_fen, item.interest_fen
            )
        )
    return tuple(rows)


@dataclass(frozen=True)
class AccountDue:
    account_id: int
    outstanding_fen: int
    days_past_due: int


def split_payment(amount_fen: int, accounts: Sequence[AccountDue]) -> list[tuple[int, int]]:
    """(account id, fen) parts of one payment: the most overdue account first, each up to
    what it owes; anything left over goes to the last account (booked there as overpaid)."""
    if amount_fen <= 0:
        raise ValueError("a payment must be a positive amount of fen")
    if not accounts:
        raise ValueError("a payment needs at least one account")
    ordered = sorted(accounts, key=lambda a: (-a.days_past_due, a.account_id))
    parts: list[tuple[int, int]] = []
    left = amount_fen
    for account in ordered:
        take = min(left, max(account.outstanding_fen, 0))
        if take > 0:
            parts.append((account.account_id, take))
            left -= take
        if left == 0:
            break
    if left > 0:
        last = ordered[-1].account_id
        if parts and parts[-1][0] == last:
            parts[-1] = (last, parts[-1][1] + left)
        else:
            parts.append((last, left))
    return parts


def next_due(
    schedule: Sequence[DatedInstalment], paid_fen: int
) -> tuple[DatedInstalment, int] | None:
    """The first instalment not yet covered by ``paid_fen`` (paid since signing, applied in
    schedule order) and what is still owed on it; None when the plan is paid."""
    left = paid_fen
    for row in schedule:
        if row.amount_fen == 0:
            continue
        if left >= row.amount_fen:
            left -= row.amount_fen
            continue
        return row, row.amount_fen - left
    return None


def monthly_instalment(schedule: Sequence[DatedInstalment], paid_fen: int) -> int:
    """What the plan asks each month now: the first monthly instalment (not the down
    payment, not a grace month with nothing due) from the first payment ``paid_fen`` does
    not cover yet; 0 when the plan is paid."""
    left = paid_fen
    reached = False
    for row in schedule:
        if not reached:
            if row.amount_fen == 0 or left >= row.amount_fen:
                left -= row.amount_fen
                continue
            reached = True
        if row.number >= 1 and row.amount_fen > 0:
            return row.amount_fen
    return 0


#: the agreement's term 2: an instalment unpaid more than this many days after its due date
#: (the debtor's local dates) lets the creditor end the plan; the nightly step then does
BREACH_AFTER_DAYS = 30


@dataclass(frozen=True)
class Breach:
    """The first instalment of a plan still unpaid, and how late it is."""

    instalment: DatedInstalment
    owed_fen: int
    """what is still owed on it"""
    days_late: int


def breach(
    schedule: Sequence[DatedInstalment],
    paid_fen: int,
    today: date,
    *,
    after_days: int = BREACH_AFTER_DAYS,
) -> Breach | None:
    """The breach of a signed plan on the debtor's local date ``today``, or None: payments
    (``paid_fen`` since signing) cover the schedule in order, and the first instalment not
    covered is the most overdue one; it breaks the plan when ``today`` is more than
    ``after_days`` days after its due date (``after_days`` late is not yet a breach)."""
    due = next_due(schedule, paid_fen)
    if due is None:
        return None
    row, owed = due
    late = (today - row.due_on).days
    return Breach(row, owed, late) if late > after_days else None


def interest_not_due(schedule: Sequence[DatedInstalment], today: date) -> int:
    """The plan interest of the instalments due after ``today``: months the ended plan no
    longer runs."""
    return sum(row.interest_fen for row in schedule if row.due_on > today)


def yuan(fen: int) -> str:
    return fen_to_yuan(fen)


def schedule_label(row: DatedInstalment, ordinals: dict[int, int], grace: str) -> str:
    """How a schedule row is named in the agreement: the down payment, a grace month
    (``grace``), or the instalment's ordinal as the debtor counts it."""
    if row.number == 0:
        return "首付 down payment"
    ordinal = ordinals.get(row.number)
    return grace if ordinal is None else str(ordinal)


@dataclass(frozen=True)
class AgreementParties:
    agreement_number: str
    creditor_name: str
    creditor_code: str
    debtor_name: str
    case_id: int


def agreement_text(
    parties: AgreementParties,
    offer: Offer,
    schedule: Sequence[DatedInstalment],
    monthly_change_zh: str,
    monthly_change_en: str,
) -> str:
    """The exact agreement text (Chinese first, English second) the debtor signs; its
    SHA-256 is stored with the signature, so it must be built only from stored values.
    ``monthly_change_*`` is the change alone ("月供减少20%"), empty when there is no
    current monthly payment to compare with."""
    debt = offer.debt
    figures = plan_figures(offer)
    lines = [
        "分期还款协议 / Instalment repayment agreement",
        f"协议编号 / Agreement no.: {parties.agreement_number}",
        f"债权方 / Creditor: {parties.creditor_name} ({parties.creditor_code})",
        f"债务人 / Debtor: {parties.debtor_name}",
        f"案件 / Case: {parties.case_id}",
        "",
        f"现欠款 / Owed now: ¥{yuan(debt.total_fen)}"
        f"（本金 principal ¥{yuan(debt.principal_fen)}，利息 interest ¥{yuan(debt.interest_fen)}，"
        f"罚息及费用 penalty and fees ¥{yuan(debt.penalty_fen)}）",
        f"减免 / Relief: ¥{yuan(figures.relief_fen)}",
        f"减免后应还 / Due after relief: ¥{yuan(offer.due_after_relief_fen)}",
        f"计划利息 / Plan interest: ¥{yuan(figures.plan_interest_fen)}",
        f"合计应还 / Total to pay: ¥{yuan(figures.total_fen)}"
        "（= 现欠款 − 减免 + 计划利息 / owed now − relief + plan interest）",
        f"期限 / Term: {figures.term_months} 个月 months",
        f"还款方式 / Payments: {figures.payments_zh()} / {figures.payments_en()}",
    ]
    if monthly_change_zh or monthly_change_en:
        lines.append(f"月供变化 / Monthly change: {monthly_change_zh} / {monthly_change_en}")
    lines += [
        "",
        "还款计划 / Schedule"
        " (期数 No. | 到期日 Due | 本金 Principal | 利息 Interest | 应还 Amount):",
    ]
    ordinals = instalment_ordinals(schedule)
    for row in schedule:
        label = schedule_label(row, ordinals, "宽限 grace")
        lines.append(
            f"  {label} | {row.due_on.isoformat()} | ¥{yuan(row.principal_fen)} | "
            f"¥{yuan(row.interest_fen)} | ¥{yuan(row.amount_fen)}"
        )
    total = sum(row.amount_fen for row in schedule)
    lines += [
        f"合计应还 / Total to pay: ¥{yuan(total)}",
        "",
        "条款 / Terms:",
        "1. 债务人按上表日期和金额还款；按期还清后，减免部分不再追偿。"
        " / The debtor pays the amounts on the dates above; once all are paid, the relief is"
        " waived for good.",
        "2. 逾期超过30天未还任一期，债权方可终止本协议，减免失效。"
        " / If any instalment is more than 30 days late, the creditor may end this agreement"
        " and the relief lapses.",
        "3. 债务人可随时提前还款，不收取额外费用。"
        " / The debtor may pay early at any time at no extra cost.",
        "4. 债务人保留就债务提出异议和申请免费法律咨询的权利。"
        " / The debtor keeps the right to dispute the debt and to ask for free legal advice.",
    ]
    if total != offer.total_to_pay_fen:
        raise ValueError("the dated schedule does not add up to the offer's total")
    return "\n".join(lines) + "\n"
