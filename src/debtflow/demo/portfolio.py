"""A realistic synthetic portfolio: rows in the documented portfolio format, so the demo
goes through the same intake path as a creditor's file."""

from __future__ import annotations

import csv
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from faker import Faker

from debtflow.core.money import fen_to_yuan
from debtflow.core.portfolio.columns import BY_NAME, CONTACT_SLOTS, HISTORY_MONTHS
from debtflow.core.portfolio.identifiers import resident_id_check_char, uscc_check_char
from debtflow.core.strategy.ageing import add_months
from debtflow.demo.cities import CITIES, REGION_CODES, City

MOBILE_PREFIXES = ("130", "131", "132", "135", "136", "137", "138", "139", "150", "151",
                   "152", "155", "158", "159", "176", "177", "180", "186", "187", "188",
                   "189", "199")  # fmt: skip
INDUSTRIES = ("零售", "餐饮", "物流", "建筑", "制造", "教育", "医疗", "信息技术", "农业", "批发",
              "服装", "汽车服务")  # fmt: skip
RELATIONS = ("配偶", "父亲", "母亲", "兄弟", "姐妹", "同事", "朋友")
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@dataclass(frozen=True)
class CreditorProfile:
    code: str
    name: str
    product_mix: tuple[tuple[str, int], ...]
    # mandate: maximum relief (bp), maximum plan term (months), minimum first payment (bp)
    mandate: tuple[int, int, int] = (3000, 48, 200)


CREDITORS: tuple[CreditorProfile, ...] = (
    CreditorProfile("ZHAOYANG", "朝阳消费金融有限公司", (("consumer", 100),), (4000, 48, 200)),
    CreditorProfile("CHANGJIANG", "长江农村商业银行", (("rural", 60), ("consumer", 25),
                                                    ("small_business", 15)), (3000, 60, 100)),
    CreditorProfile("LIANRONG", "链融供应链金融平台", (("small_business", 85), ("consumer", 15)),
                    (2500, 36, 300)),
)  # fmt: skip


def _pick_city(rng: random.Random) -> City:
    return rng.choices(CITIES, weights=[c.weight for c in CITIES])[0]


def resident_id(rng: random.Random, city: City, birth: date) -> str:
    first17 = f"{REGION_CODES[city.name]}{birth:%Y%m%d}{rng.randint(0, 999):03d}"
    return first17 + resident_id_check_char(first17)


def business_code(rng: random.Random, city: City) -> str:
    body = "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
    first17 = f"91{REGION_CODES[city.name]}{body}"
    return first17 + uscc_check_char(first17)


def mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randint(0, 99_999_999):08d}"


def annuity_fen(principal_fen: int, annual_rate_bp: int, months: int) -> int:
    rate = Decimal(annual_rate_bp) / Decimal(120_000)
    if rate == 0:
        return -(-principal_fen // months)
    factor = (1 + rate) ** months
    payment = Decimal(principal_fen) * rate * factor / (factor - 1)
    return int(payment.to_integral_value(rounding=ROUND_HALF_UP))


def remaining_principal_fen(principal_fen: int, annual_rate_bp: int, months: int, paid: int) -> int:
    rate = Decimal(annual_rate_bp) / Decimal(120_000)
    if rate == 0:
        return principal_fen * (months - paid) // months
    factor = (1 + rate) ** months
    done = (1 + rate) ** paid
    left = Decimal(principal_fen) * (factor - done) / (factor - 1)
    return int(left.to_integral_value(rounding=ROUND_HALF_UP))


def _target_dpd(rng: random.Random) -> int:
    band = rng.choices(
        [(1, 30), (31, 60), (61, 90), (91, 120), (121, 150), (151, 360)],
        weights=[40, 20, 14, 9, 7, 10],
    )[0]
    return rng.randint(*band)


def generate_rows(
    creditor: CreditorProfile, *, count: int, seed: int, today: date, start: int = 0
) -> list[dict[str, str]]:
    """``count`` portfolio rows (canonical English headers) for one creditor."""
    rng = random.Random(f"{seed}:{creditor.code}")
    fake = Faker("zh_CN")
    fake.seed_instance(rng.randint(0, 2**31))
    products = [p for p, _ in creditor.product_mix]
    weights = [w for _, w in creditor.product_mix]
    rows: list[dict[str, str]] = []
    used_ids: set[str] = set()
    for n in range(start, start + count):
        product = rng.choices(products, weights=weights)[0]
        city = _pick_city(rng)
        business = product == "small_business" and rng.random() < 0.6
        if product == "consumer":
            original = rng.randint(30, 800) * 10_000
            rate_bp = rng.choice((1080, 1260, 1440, 1560, 1800, 2160, 2400))
            term = rng.choice((6, 12, 12, 24, 36))
        elif product == "small_business":
            original = rng.randint(50, 500) * 100_000
            rate_bp = rng.choice((600, 720, 850, 960, 1200, 1500))
            term = rng.choice((12, 24, 36))
        else:
            original = rng.randint(10, 200) * 100_000
            rate_bp = rng.choice((435, 520, 600, 720, 880))
            term = rng.choice((12, 24, 36, 60))
        dpd = _target_dpd(rng) if rng.random() > 0.03 else 0
        oldest_unpaid = today - timedelta(days=dpd) if dpd else today + timedelta(days=9)
        overdue_n = 0
        while dpd and add_months(oldest_unpaid, overdue_n) <= today:
            overdue_n += 1
        while term <= overdue_n:
            term += 12
        paid_n = rng.randint(0, term - max(overdue_n, 1))
        first_due = add_months(oldest_unpaid, -paid_n)
        opened = add_months(first_due, -1)
        instalment = annuity_fen(original, rate_bp, term)
        principal = remaining_principal_fen(original, rate_bp, term, paid_n)
        monthly_rate = Decimal(rate_bp) / Decimal(120_000)
        interest = int((Decimal(principal) * monthly_rate * max(overdue_n, 0)).to_integral_value())
        penalty = int(
            (Decimal(instalment * overdue_n) * Decimal("0.0005") * dpd).to_integral_value()
        )
        fees = rng.choice((0, 0, 0, 5_000, 10_000, 20_000)) if dpd > 30 else 0
        birth = date(rng.randint(1962, 2002), rng.randint(1, 12), rng.randint(1, 28))
        identity = business_code(rng, city) if business else resident_id(rng, city, birth)
        while identity in used_ids:  # one person per ID number in a generated file
            identity = business_code(rng, city) if business else resident_id(rng, city, birth)
        used_ids.add(identity)
        row: dict[str, str] = {
            "account_number": f"{creditor.code[:2]}{today:%y}{n:07d}",
            "debtor_type": "business" if business else "person",
            "name": fake.company() if business else fake.name(),
            "id_number": identity,
            "registered_on": (
                (today - timedelta(days=rng.randint(400, 6000))).isoformat() if business else ""
            ),
            "employer": "" if business or product == "rural" else fake.company(),
            "industry": rng.choice(INDUSTRIES) if product != "rural" else "农业",
            "phone": mobile(rng),
            "email": fake.free_email() if rng.random() < 0.3 else "",
            "province": city.province,
            "city": city.name,
            "address": fake.street_address(),
            "latitude": f"{city.latitude + rng.uniform(-0.12, 0.12):.5f}",
            "longitude": f"{city.longitude + rng.uniform(-0.12, 0.12):.5f}",
            "timezone": "Asia/Urumqi" if city.name == "乌鲁木齐" else "Asia/Shanghai",
            "product_type": product,
            "original_amount": fen_to_yuan(original).replace(",", ""),
            "principal": fen_to_yuan(principal).replace(",", ""),
            "interest": fen_to_yuan(interest).replace(",", ""),
            "fees": fen_to_yuan(fees).replace(",", ""),
            "penalty": fen_to_yuan(penalty).replace(",", ""),
            "annual_rate": f"{Decimal(rate_bp) / 100}",
            "instalment_amount": fen_to_yuan(instalment).replace(",", ""),
            "instalment_count": str(term),
            "first_due_date": first_due.isoformat(),
            "paid_amount": fen_to_yuan(instalment * paid_n).replace(",", ""),
            "opened_on": opened.isoformat(),
            "maturity_date": add_months(first_due, term - 1).isoformat(),
            "overdue_cause": rng.choices(
                ["", "unemployment", "illness", "business_downturn", "deliberate"],
                weights=[50, 14, 9, 12 if product != "consumer" else 4, 15],
            )[0],
        }
        if product == "consumer":
            row["credit_limit"] = fen_to_yuan(original * rng.choice((1, 2, 3))).replace(",", "")
        if business:
            revenue = rng.randint(50, 3000) * 10_000
            row["monthly_revenue"] = fen_to_yuan(revenue).replace(",", "")
            row["receivables"] = fen_to_yuan(revenue * rng.randint(1, 4)).replace(",", "")
            row["main_customers"] = "；".join(fake.company() for _ in range(rng.randint(1, 3)))
        elif rng.random() < 0.75:
            income = rng.randint(25, 300) * 10_000
            row["monthly_income"] = fen_to_yuan(income).replace(",", "")
            row["other_debts"] = fen_to_yuan(income * rng.randint(0, 60) // 100).replace(",", "")
            row["dependents"] = str(rng.randint(0, 4))
            row["monthly_spending"] = fen_to_yuan(income * rng.randint(30, 90) // 100).replace(
                ",", ""
            )
        for k in range(1, rng.choice((1, 2, 2, 3)) + 1):
            row[f"contact{k}_name"] = fake.name()
            row[f"contact{k}_relation"] = rng.choice(RELATIONS)
            row[f"contact{k}_phone"] = mobile(rng)
            row[f"contact{k}_authorised"] = rng.choice(("是", "否"))
        for m in range(1, HISTORY_MONTHS + 1):
            late = max(0, min(9, (dpd - 30 * (m - 1) + 29) // 30)) if dpd else 0
            statement = instalment * (1 + max(late - 1, 0))
            paid_month = 0 if late else instalment
            if late and rng.random() < 0.2:
                paid_month = instalment * rng.randint(10, 60) // 100
            row[f"status_m{m}"] = str(late if late else -1)
            row[f"statement_m{m}"] = fen_to_yuan(statement).replace(",", "")
            row[f"paid_m{m}"] = fen_to_yuan(paid_month).replace(",", "")
        rows.append(row)
    return rows


def write_csv(
    path: Path,
    rows: Sequence[dict[str, str]],
    *,
    chinese_headers: bool = False,
    encoding: str = "utf-8",
) -> None:
    columns = [c for c in BY_NAME if any(c in r for r in rows)]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([BY_NAME[c].zh if chinese_headers else c for c in columns])
        for row in rows:
            writer.writerow([row.get(c, "") for c in columns])


__all__ = ["CONTACT_SLOTS", "CREDITORS", "generate_rows", "write_csv"]
