"""Page text in zh-CN (first) and English. The language comes from the ``lang`` cookie set
by ``/lang/{code}``; a missing key shows the key itself
(without its group prefix), so gaps are visible."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"

CATALOG: dict[str, tuple[str, str]] = {
    "accounts": ("账户", "Accounts"),
    "account_number": ("账号", "Account"),
    "actor": ("操作人", "By"),
    "amount_yuan": ("金额（元）", "Amount (¥)"),
    "bucket": ("账龄", "Bucket"),
    "capacity": ("还款能力报告", "Repayment-capacity report"),
    "capacity_unknown": ("暂无收入与支出信息", "Income and spending not known"),
    "case": ("案件", "Case"),
    "cases": ("案件", "Cases"),
    "channel": ("渠道", "Channel"),
    "code": ("验证码", "Code"),
    "code_sent": (
        "如果该号码已登记，验证码已发送。",
        "If this number is registered, a code has been sent.",
    ),
    "collector": ("催收员", "Collector"),
    "contact_history": ("联系记录", "Contact history"),
    "creditor": ("委托方", "Creditor"),
    "debt_to_income": ("负债收入比", "Debt-to-income"),
    "debtor": ("债务人", "Debtor"),
    "debtor_sign_in": ("债务人登录", "Debtor sign-in"),
    "disposable": ("可支配收入（元/月）", "Disposable income (¥/month)"),
    "dpd": ("逾期天数", "Days past due"),
    "due": ("到期日", "Due"),
    "due_date": ("承诺还款日期", "Promised date"),
    "id_number": ("证件号", "ID number"),
    "income": ("月收入（元）", "Monthly income (¥)"),
    "instalments_month": ("本平台月还款额（元）", "Instalments here (¥/month)"),
    "invalid_credentials": ("用户名或密码错误", "Wrong username or password"),
    "invalid_code": ("验证码错误或已过期", "Wrong or expired code"),
    "locked": ("登录失败次数过多，账户已锁定至", "Too many failed sign-ins; locked until"),
    "made_on": ("承诺日期", "Made on"),
    "my_debts": ("我的欠款", "My debts"),
    "my_queue": ("我的案件（按优先级）", "My cases (priority order)"),
    "all_queue": ("全部案件（按优先级）", "All cases (priority order)"),
    "no_cases": ("没有案件", "No cases"),
    "no_contacts": ("暂无联系记录", "No contacts yet"),
    "no_promises": ("暂无还款承诺", "No promises yet"),
    "no_payments": ("暂无还款记录", "No payments yet"),
    "other_debts": ("其他负债（元）", "Other debts (¥)"),
    "outcome": ("结果", "Outcome"),
    "outstanding": ("欠款（元）", "Outstanding (¥)"),
    "password": ("密码", "Password"),
    "payments": ("还款记录", "Payments"),
    "phone": ("手机号", "Phone"),
    "promise_recorded": ("已记录还款承诺", "Promise recorded"),
    "promises": ("还款承诺", "Promises to pay"),
    "record_promise": ("记录还款承诺", "Record a promise to pay"),
    "send_code": ("发送验证码", "Send code"),
    "sign_in": ("登录", "Sign in"),
    "sign_out": ("退出", "Sign out"),
    "spending": ("月支出（元）", "Monthly spending (¥)"),
    "staff_sign_in": ("员工登录", "Staff sign-in"),
    "status": ("状态", "Status"),
    "status_history": ("状态历史", "Status history"),
    "total": ("合计", "Total"),
    "username": ("用户名", "Username"),
    "when": ("时间", "When"),
    "dependents": ("供养人数", "Dependents"),
    "revenue": ("月营业收入（元）", "Monthly revenue (¥)"),
    "receivables": ("应收账款（元）", "Receivables (¥)"),
    "reason": ("原因", "Reason"),
    "save": ("保存", "Save"),
    "all": ("全部", "all"),
    "filter": ("筛选", "Filter"),
    "role": ("角色", "Role"),
    "state.new": ("新案", "new"),
    "state.active": ("催收中", "active"),
    "state.promised": ("已承诺还款", "promised"),
    "state.paying": ("还款中", "paying"),
    "state.settled": ("已结清", "settled"),
    "state.closed": ("已关闭", "closed"),
    "state.legal": ("法诉", "legal"),
    "state.on_hold": ("暂停", "on hold"),
    "state.written_off": ("已核销", "written off"),
    "role.admin": ("管理员", "admin"),
    "role.operations_manager": ("运营经理", "operations manager"),
    "role.online_agent": ("线上催收员", "online agent"),
    "role.field_agent": ("外访员", "field agent"),
    "role.compliance_auditor": ("合规审计", "compliance auditor"),
    "role.part_time_collector": ("兼职催收员", "part-time collector"),
    "role.partner": ("合作机构", "partner"),
    "role.debtor": ("债务人", "debtor"),
    "promise.pending": ("待履行", "pending"),
    "promise.kept": ("已履行", "kept"),
    "promise.broken": ("未履行", "broken"),
    "promise.cancelled": ("已取消", "cancelled"),
}


def language(request: Request) -> str:
    lang = request.cookies.get("lang", DEFAULT_LANGUAGE)
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def translator(lang: str) -> Callable[[str], str]:
    index = LANGUAGES.index(lang) if lang in LANGUAGES else 0

    def translate(key: str) -> str:
        """The text for ``key``; an unknown ``group.value`` shows ``value``."""
        entry = CATALOG.get(key)
        return entry[index] if entry else key.split(".", 1)[-1]

    return translate


def i18n_context(request: Request) -> dict[str, Any]:
    lang = language(request)
    return {"_": translator(lang), "lang": lang, "html_lang": "zh-CN" if lang == "zh" else "en"}
