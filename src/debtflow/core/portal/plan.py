"""A chosen offer as a dated plan, a payment split over accounts, and the agreement text.

Dates: the down payment (if any) is due on the start day (the day the plan is chosen);
instalment ``k`` (grace months included) is due ``k`` calendar months after the start day,
on the same day of the month or the month's last day when it is shorter (31 Jan + 1 month =
28/29 Feb). Grace months with nothing due are kept in the schedule with 0 fen.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from debtflow.core.money import fen_to_yuan
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
    SHA-256 is stored with the signature, so it must be built only from stored values."""
    debt = offer.debt
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
        f"减免 / Relief: ¥{yuan(offer.relief_fen)}",
        f"减免后应还 / Due after relief: ¥{yuan(offer.due_after_relief_fen)}",
        f"期数 / Term: {offer.term_months} 个月 months",
        f"月供变化 / Monthly change: {monthly_change_zh} / {monthly_change_en}",
        "",
        "还款计划 / Schedule"
        " (期数 No. | 到期日 Due | 本金 Principal | 利息 Interest | 应还 Amount):",
    ]
    for row in schedule:
        label = "首付 down payment" if row.number == 0 else str(row.number)
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
