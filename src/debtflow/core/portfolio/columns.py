# ruff: noqa: E501  (a table of columns reads best one column per line)
"""The columns of a portfolio file (docs/portfolio-format.md is generated from the same list).

Each column has a canonical English header, a Chinese header and accepted aliases; headers
are matched case-insensitively with spaces, dashes and underscores ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    zh: str
    required: bool
    kind: str  # text, yuan, date, int, rate, phone, id, enum, bool, float, zone
    description: str
    aliases: tuple[str, ...] = ()


HISTORY_MONTHS = 6
CONTACT_SLOTS = 3

BASE_COLUMNS: tuple[Column, ...] = (
    Column("account_number", "合同编号", True, "text", "the creditor's loan / contract number", ("借据号", "账号", "account_no", "loan_id")),
    Column("debtor_type", "债务人类型", False, "enum", "person (个人, default) or business (企业)", ("客户类型",)),
    Column("name", "姓名", True, "text", "person's name or business's registered name", ("客户姓名", "名称", "debtor_name")),
    Column("id_number", "证件号码", True, "id", "resident ID (18, checksum) for a person; unified social credit code for a business", ("身份证号", "统一社会信用代码", "id_no")),
    Column("birth_date", "出生日期", False, "date", "person's birth date; must agree with the ID number", ()),
    Column("registered_on", "成立日期", False, "date", "business's registration date", ("注册日期",)),
    Column("employer", "工作单位", False, "text", "employer (person)", ("单位名称",)),
    Column("industry", "行业", False, "text", "industry of the employer or business", ("所属行业",)),
    Column("phone", "手机号", True, "phone", "debtor's own phone (mobile or landline with area code)", ("手机号码", "联系电话", "mobile")),
    Column("email", "邮箱", False, "text", "debtor's e-mail", ("电子邮箱",)),
    Column("province", "省份", True, "text", "province of the home / business address", ("省",)),
    Column("city", "城市", True, "text", "city of the home / business address", ("市",)),
    Column("address", "地址", False, "text", "street address", ("详细地址", "家庭地址")),
    Column("latitude", "纬度", False, "float", "WGS-84 latitude of the address", ("lat",)),
    Column("longitude", "经度", False, "float", "WGS-84 longitude of the address", ("lng", "lon")),
    Column("timezone", "时区", False, "zone", "IANA time zone of the debtor (default Asia/Shanghai)", ("tz",)),
    Column("product_type", "产品类型", True, "enum", "consumer (消费贷), small_business (小微经营贷) or rural (农户贷)", ("产品",)),
    Column("original_amount", "原始金额", True, "yuan", "amount lent, yuan", ("贷款金额", "借款金额")),
    Column("principal", "未还本金", True, "yuan", "principal outstanding, yuan", ("剩余本金",)),
    Column("interest", "未还利息", False, "yuan", "interest outstanding, yuan (default 0)", ("利息",)),
    Column("fees", "未还费用", False, "yuan", "fees outstanding, yuan (default 0)", ("费用",)),
    Column("penalty", "罚息", False, "yuan", "penalty interest outstanding, yuan (default 0)", ("未还罚息",)),
    Column("annual_rate", "年利率", True, "rate", "nominal annual rate in percent, e.g. 14.6 or 14.6%", ("利率",)),
    Column("instalment_amount", "每期应还", True, "yuan", "scheduled monthly instalment, yuan", ("月供", "期供")),
    Column("instalment_count", "期数", True, "int", "number of monthly instalments", ("总期数",)),
    Column("first_due_date", "首期还款日", True, "date", "due date of the first instalment", ("首次还款日",)),
    Column("paid_amount", "已还金额", False, "yuan", "paid towards the schedule before placement, yuan (default 0)", ("累计已还",)),
    Column("opened_on", "放款日期", True, "date", "date the loan was paid out", ("放款日", "开户日期")),
    Column("maturity_date", "到期日", False, "date", "final contractual due date", ("到期日期",)),
    Column("credit_limit", "授信额度", False, "yuan", "credit line, yuan", ("额度",)),
    Column("monthly_income", "月收入", False, "yuan", "debtor's monthly income, yuan", ()),
    Column("other_debts", "其他负债月供", False, "yuan", "monthly repayments on other debts, yuan", ("其他负债",)),
    Column("dependents", "供养人数", False, "int", "number of dependents", ()),
    Column("monthly_spending", "月支出", False, "yuan", "monthly living spending, yuan", ()),
    Column("monthly_revenue", "月营业额", False, "yuan", "business: monthly revenue, yuan", ("营业收入",)),
    Column("receivables", "应收账款", False, "yuan", "business: receivables outstanding, yuan", ()),
    Column("main_customers", "主要客户", False, "text", "business: main customers, separated by ; or ；", ()),
    Column("overdue_cause", "逾期原因", False, "enum", "unemployment (失业), illness (疾病), business_downturn (经营困难), deliberate (恶意拖欠) or unknown (未知)", ()),
)  # fmt: skip


def _contact_columns() -> tuple[Column, ...]:
    out: list[Column] = []
    for k in range(1, CONTACT_SLOTS + 1):
        out += [
            Column(f"contact{k}_name", f"联系人{k}姓名", False, "text", f"third-party contact {k}: name"),
            Column(f"contact{k}_relation", f"联系人{k}关系", False, "text", f"contact {k}: relation to the debtor (配偶, 父母, 同事, …)"),
            Column(f"contact{k}_phone", f"联系人{k}电话", False, "phone", f"contact {k}: phone"),
            Column(f"contact{k}_authorised", f"联系人{k}已授权", False, "bool", f"contact {k}: debtor authorised contacting them (是/否, yes/no)"),
        ]  # fmt: skip
    return tuple(out)


def _history_columns() -> tuple[Column, ...]:
    out: list[Column] = []
    for m in range(1, HISTORY_MONTHS + 1):
        out += [
            Column(f"status_m{m}", f"还款状态_m{m}", False, "int", f"repayment status {m} month(s) ago: -2 no use, -1 paid duly, 0 revolving, 1–9 months late"),
            Column(f"statement_m{m}", f"账单金额_m{m}", False, "yuan", f"statement amount {m} month(s) ago, yuan"),
            Column(f"paid_m{m}", f"还款金额_m{m}", False, "yuan", f"amount paid {m} month(s) ago, yuan"),
        ]  # fmt: skip
    return tuple(out)


COLUMNS: tuple[Column, ...] = BASE_COLUMNS + _contact_columns() + _history_columns()
BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}


def header_key(text: str) -> str:
    return re.sub(r"[\s_\-（）()]", "", text.strip().lstrip("\ufeff")).lower()


HEADER_LOOKUP: dict[str, str] = {}
for _c in COLUMNS:
    for _h in (_c.name, _c.zh, *_c.aliases):
        HEADER_LOOKUP.setdefault(header_key(_h), _c.name)

PRODUCT_TYPES: dict[str, str] = {
    "consumer": "consumer", "消费贷": "consumer", "消费": "consumer", "消费贷款": "consumer",
    "small_business": "small_business", "smallbusiness": "small_business", "小微经营贷": "small_business",
    "小微": "small_business", "经营贷": "small_business", "小微企业贷": "small_business",
    "rural": "rural", "农户贷": "rural", "涉农": "rural", "农户": "rural", "农村": "rural",
}  # fmt: skip
DEBTOR_TYPES: dict[str, str] = {
    "person": "person", "个人": "person", "individual": "person",
    "business": "business", "企业": "business", "company": "business", "对公": "business",
}  # fmt: skip
OVERDUE_CAUSES: dict[str, str] = {
    "unemployment": "unemployment", "失业": "unemployment",
    "illness": "illness", "疾病": "illness", "生病": "illness", "患病": "illness",
    "business_downturn": "business_downturn", "经营困难": "business_downturn", "经营不善": "business_downturn",
    "deliberate": "deliberate", "恶意拖欠": "deliberate", "故意": "deliberate",
    "unknown": "unknown", "未知": "unknown", "": "unknown",
}  # fmt: skip
YES_NO: dict[str, bool] = {
    "是": True, "yes": True, "y": True, "true": True, "1": True, "已授权": True,
    "否": False, "no": False, "n": False, "false": False, "0": False, "未授权": False,
}  # fmt: skip
