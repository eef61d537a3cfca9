"""The agent workbench through the app in-process, on SQLite and PostgreSQL: the queue in
dispatch priority order, the case page's strategy / plan / script / notes sections, and the
actions (contact through the compliance gate, note, next script) with and without htmx."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import func, select, text, update

from debtflow.auth import service as auth_service
from debtflow.case import service as case_service
from debtflow.compliance import service as compliance_service
from debtflow.core.conversation.scripts import CaseContext, PlanOffer, yuan
from debtflow.db import get_engine, unit_of_work
from debtflow.models import (
    Case,
    CaseNote,
    ContactAttempt,
    ContactDecision,
    Creditor,
    Debtor,
    DispatchAssignment,
    EvidenceLogLeaf,
    Role,
    User,
)
from debtflow.note.service import MAX_NOTE_LENGTH
from debtflow.strategy import service as strategy_service
from debtflow.web.deps import local_time
from debtflow.workbench import service as workbench_service

HTMX = {"HX-Request": "true"}
SHANGHAI = ZoneInfo("Asia/Shanghai")


def own_cases(world, role: Role = Role.ONLINE_AGENT) -> set[int]:  # type: ignore[no-untyped-def]
    return world.cases_of_collector[world.callers[role].collector_id]


def page_client(world, role: Role = Role.ONLINE_AGENT) -> TestClient:  # type: ignore[no-untyped-def]
    return world.client(role, cookie=True)


def csrf(world, role: Role = Role.ONLINE_AGENT) -> str:  # type: ignore[no-untyped-def]
    return world.callers[role].csrf_token


def open_case(world, *, role: Role = Role.ONLINE_AGENT) -> int:  # type: ignore[no-untyped-def]
    """The agent's first open case that is not the demo debtor's."""
    with unit_of_work() as session:
        ids = session.scalars(
            select(Case.id)
            .where(
                Case.id.in_(own_cases(world, role) - world.debtor_case_ids),
                Case.status.in_(["new", "active", "promised", "paying"]),
            )
            .order_by(Case.id)
        ).all()
    assert ids, "the agent has an open case in the demo"
    return ids[0]


@pytest.fixture
def business_hours(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """The workbench's clock set to the next 10:30 in Shanghai, so that contacts are inside
    the allowed hours whenever the test runs (the gate decides at that time)."""
    local_now = datetime.now(SHANGHAI)
    day = local_now.date() + timedelta(days=0 if local_now.time() < time(10, 0) else 1)
    moment = datetime.combine(day, time(10, 30), SHANGHAI).astimezone(UTC)
    monkeypatch.setattr(workbench_service, "utcnow", lambda: moment)
    return moment


def latest_values(case_ids: set[int]) -> dict[int, int]:
    with unit_of_work() as session:
        rows = session.execute(
            select(DispatchAssignment.case_id, DispatchAssignment.value_fen).order_by(
                DispatchAssignment.assigned_at, DispatchAssignment.id
            )
        ).all()
    values: dict[int, int] = {}
    for case_id, value in rows:
        if case_id in case_ids:
            values[case_id] = value  # the last one wins
    return values


# --- queue ------------------------------------------------------------------------------


def test_queue_is_in_dispatch_priority_order_and_scoped(demo_world):
    agent = page_client(demo_world)
    queue = agent.get("/cases")
    assert queue.status_code == 200
    rows = re.findall(r'<tr data-case="(\d+)" data-value-fen="(-?\d*)">', queue.text)
    shown = [int(c) for c, _ in rows]
    assert set(shown) == own_cases(demo_world), "an agent sees only their cases"
    expected = latest_values(set(shown))
    assert expected, "the demo's nightly cycle dispatched the agent's cases"
    for case_id, value in rows:
        assert (int(value) if value else None) == expected.get(int(case_id))
    dispatched = [int(v) for _, v in rows if v]
    assert dispatched == sorted(dispatched, reverse=True), "highest expected value first"
    first_undispatched = next((i for i, (_, v) in enumerate(rows) if not v), len(rows))
    assert all(not v for _, v in rows[first_undispatched:]), "never-dispatched cases come last"
    assert "预期回款" in queue.text and "客户分层" in queue.text and "下次可联系" in queue.text

    manager = page_client(demo_world, Role.OPERATIONS_MANAGER).get("/cases?page=1")
    total = re.search(r'class="count">[^<]*?(\d+)</span>', manager.text)
    assert total and int(total.group(1)) == len(demo_world.all_case_ids)
    auditor = page_client(demo_world, Role.COMPLIANCE_AUDITOR).get("/cases")
    assert auditor.status_code == 200 and 'action="/cases/' not in auditor.text


def test_queue_shows_when_a_denied_case_may_next_be_contacted(demo_world, business_hours):
    case_id = open_case(demo_world)
    agent = page_client(demo_world)
    for _ in range(3):  # the daily cap of connected calls (cn-2025: 3)
        done = agent.post(
            f"/cases/{case_id}/contacts",
            data={"channel": "call", "connected": "1", "csrf_token": csrf(demo_world)},
        )
        assert done.status_code == 303
    denied = agent.post(
        f"/cases/{case_id}/contacts",
        data={"channel": "call", "connected": "1", "csrf_token": csrf(demo_world)},
    )
    assert denied.status_code == 303
    page = agent.get(denied.headers["location"])
    assert 'class="error gate-deny"' in page.text
    assert 'data-reason="daily_connected_call_limit"' in page.text
    with unit_of_work() as session:
        decision = session.scalars(
            select(ContactDecision)
            .where(ContactDecision.case_id == case_id)
            .order_by(ContactDecision.id.desc())
            .limit(1)
        ).one()
        attempts = session.scalar(select(func.count()).where(ContactAttempt.case_id == case_id))
    assert not decision.allowed and decision.next_allowed_at is not None
    assert attempts == 3, "the refused contact was not logged"
    shown = local_time(decision.next_allowed_at)
    assert f'<span class="next-allowed">{shown}</span>' in page.text
    queue = agent.get("/cases").text
    row = re.search(rf'<tr data-case="{case_id}".*?</tr>', queue, re.S)
    assert row and 'class="blocked"' in row.group(0) and shown in row.group(0)


# --- case page --------------------------------------------------------------------------


def _case_with_plan(world, *, offerable: bool) -> int | None:  # type: ignore[no-untyped-def]
    with unit_of_work() as session:
        for case in session.scalars(
            select(Case).where(Case.id.in_(own_cases(world))).order_by(Case.id)
        ):
            treatment = case.treatment or {}
            kind = treatment.get("kind")
            if (
                kind in ("instalments", "restructuring")
                and (not treatment.get("refused")) == offerable
            ):
                return case.id
    return None


@pytest.mark.parametrize(
    ("largest_fen", "offered"),
    [(794_693, False), (387_784, True), (250_000, True)],
)
def test_plan_is_quoted_only_when_it_lowers_or_keeps_the_monthly_payment(
    largest_fen: int, offered: bool
) -> None:
    plan = workbench_service.PlanView(
        kind="instalments",
        repayment_months=12,
        term_months=12,
        monthly_fen=largest_fen,
        relief_fen=0,
        down_payment_fen=0,
        burden_change_percent=0,
        refused=(),
        legal_actions=(),
    )
    context = workbench_service.case_context(
        case=Case(outstanding_fen=9_000_000, segment=None),
        debtor=Debtor(name="张三"),
        creditor=Creditor(name="安心消费金融"),
        agent=User(display_name="小王"),
        plan=plan,
        current_monthly_fen=387_784,
    )
    assert (context.plan is not None) is offered
    if offered:
        assert context.plan is not None and context.plan.instalment_fen == largest_fen


def test_case_page_shows_strategy_plan_script_and_notes(demo_world):
    agent = page_client(demo_world)
    case_id = _case_with_plan(demo_world, offerable=True)
    assert case_id is not None, "the demo gives the agent a case with a plan in mandate"
    page = agent.get(f"/cases/{case_id}")
    assert page.status_code == 200
    with unit_of_work() as session:
        case = session.get(Case, case_id)
        assert case is not None
        treatment = dict(case.treatment or {})
        explanation = strategy_service.explain_case(session, case_id=case_id)
    for line in explanation.zh.splitlines():
        assert str(escape(line)) in page.text, "the explanation of `debtflow case explain` is shown"
    for code in explanation.reason_codes:
        assert f'<code class="reason">{code}</code>' in page.text
    offer = re.search(r'<dl class="facts plan" id="plan-offer">(.*?)</dl>', page.text, re.S)
    assert offer
    assert f"<dd>{treatment['repayment_months']}" in offer.group(1)
    assert yuan(treatment["largest_instalment_fen"]) in offer.group(1)
    assert yuan(treatment["relief_fen"]) in offer.group(1)
    bp = treatment["burden_change_bp"]
    percent = (abs(bp) + 50) // 100
    assert (f"−{percent} %" if bp < 0 else f"+{percent} %") in offer.group(1)
    script = re.search(
        r'<blockquote class="script" data-script-id="([^"]+)">(.*?)</blockquote>', page.text, re.S
    )
    assert script and "{" not in script.group(2)
    for section in ('id="strategy"', 'id="script"', 'id="contacts"', 'id="notes"', 'id="capacity"'):
        assert section in page.text
    assert 'id="plan-of-today"' not in page.text, "right after the night: the stored plan holds"

    agent.cookies.set("lang", "en")
    english = agent.get(f"/cases/{case_id}").text
    for line in explanation.en.splitlines():
        assert str(escape(line)) in english
    agent.cookies.delete("lang")

    # a plan outside the creditor's mandate is marked and never quoted in the script
    refused = _case_with_plan(demo_world, offerable=False)
    if refused is not None:
        other = agent.get(f"/cases/{refused}").text
        assert "超出债权方授权" in other
        quoted = re.search(r'<blockquote class="script"[^>]*>(.*?)</blockquote>', other, re.S)
        assert quoted and "每期" not in quoted.group(1)


@dataclass(frozen=True)
class Desk:
    """A case's workbench parts as the page builds them, and what a script may quote."""

    treatment: dict[str, object]
    desk: workbench_service.CaseDesk
    quoted: PlanOffer | None
    current_monthly_fen: int


def _desk(case_id: int) -> Desk:
    with unit_of_work() as session:
        user = auth_service.get_user(session, username="agent1")
        case, debtor, creditor, _ = case_service.get_row_for_user(
            session, case_id=case_id, user=user
        )
        accounts = case_service.get_with_accounts(session, case_id=case_id).accounts
        desk = workbench_service.desk(
            session, case=case, debtor=debtor, creditor=creditor, user=user, accounts=accounts
        )
        monthly = sum(a.instalment_fen for a in accounts)
        context = workbench_service.case_context(
            case=case,
            debtor=debtor,
            creditor=creditor,
            agent=user,
            plan=desk.strategy.plan,
            current_monthly_fen=monthly,
        )
        return Desk(dict(case.treatment or {}), desk, context.plan, monthly)


def _quoted_case(world) -> int:  # type: ignore[no-untyped-def]
    """The agent's first case whose plan, as the night stored it, a script quotes, with
    relief in it."""
    for case_id in sorted(own_cases(world) - world.debtor_case_ids):
        seen = _desk(case_id)
        if (
            seen.quoted is not None
            and not seen.desk.strategy.stored_plan_differs
            and int(seen.treatment.get("relief_fen") or 0) > 0
        ):
            assert seen.quoted.instalment_fen == seen.treatment["largest_instalment_fen"]
            return case_id
    raise AssertionError("the demo gives the agent a case with a plan a script quotes")


def _reply_plan(case_id: int, monkeypatch: pytest.MonkeyPatch) -> PlanOffer | None:
    """The plan the next-script reply may quote (what it hands the conversation service)."""
    handed: list[CaseContext] = []

    def analyze(turns, *, case):  # type: ignore[no-untyped-def]
        handed.append(case)
        action = {"script_id": "s", "library_version": "v", "purpose": "p", "text": "t"}
        return [{"next_action": action}], {}

    monkeypatch.setattr(workbench_service.conversation_service, "analyze", analyze)
    with unit_of_work() as session:
        user = auth_service.get_user(session, username="agent1")
        workbench_service.script_for_reply(session, case_id=case_id, user=user, said="能分期吗")
    monkeypatch.undo()
    assert len(handed) == 1
    return handed[0].plan


def _script_text(page: str) -> str:
    quoted = re.search(r'<blockquote class="script"[^>]*>(.*?)</blockquote>', page, re.S)
    assert quoted
    return quoted.group(1)


def test_a_mandate_tightened_during_the_day_is_kept_by_the_page_and_the_scripts(
    demo_world, monkeypatch
):
    """The creditor lowers its maximum relief below what the night offered: the case page
    shows the plan as the mandate now has it (refused: needs approval), says the night's
    stored plan differs, in both languages, and no script quotes a plan."""
    agent = page_client(demo_world)
    case_id = _quoted_case(demo_world)
    assert _reply_plan(case_id, monkeypatch) is not None
    with unit_of_work() as session:
        case = session.get(Case, case_id)
        assert case is not None
        session.execute(
            update(Creditor).where(Creditor.id == case.creditor_id).values(max_relief_bp=0)
        )

    seen = _desk(case_id)
    plan = seen.desk.strategy.plan
    assert plan is not None and plan.refused == ("relief",) and not plan.offerable
    assert seen.desk.strategy.stored_plan_differs
    assert seen.quoted is None, "a plan outside the creditor's mandate now is not quoted"
    assert _reply_plan(case_id, monkeypatch) is None

    page = agent.get(f"/cases/{case_id}").text
    assert 'id="plan-of-today"' in page
    assert "夜间处理保存的方案与此不同" in page and "债权方当前授权" in page
    assert "超出债权方授权" in page and "减免超限" in page
    assert "每期" not in _script_text(page)
    with unit_of_work() as session:
        explanation = strategy_service.explain_case(session, case_id=case_id)
    assert "注意" in explanation.zh
    for line in explanation.zh.splitlines():
        assert str(escape(line)) in page, "the page says what `case explain` says"

    agent.cookies.set("lang", "en")
    english = agent.get(f"/cases/{case_id}").text
    agent.cookies.delete("lang")
    assert "The plan the nightly run stored differs" in english
    assert "the creditor&#39;s current limits" in english
    assert "Outside the creditor&#39;s mandate" in english


def test_a_lowered_term_limit_refuses_the_plan_on_the_page(demo_world):
    case_id = _quoted_case(demo_world)
    with unit_of_work() as session:
        case = session.get(Case, case_id)
        assert case is not None
        term = int(case.treatment["term_months"])
        session.execute(
            update(Creditor).where(Creditor.id == case.creditor_id).values(max_term_months=term - 1)
        )
    seen = _desk(case_id)
    plan = seen.desk.strategy.plan
    assert plan is not None and "term" in plan.refused
    assert seen.desk.strategy.stored_plan_differs and seen.quoted is None
    page = page_client(demo_world).get(f"/cases/{case_id}").text
    assert 'id="plan-of-today"' in page and "期限超限" in page


def test_a_payment_during_the_day_shows_and_quotes_todays_plan(demo_world, monkeypatch):
    """Half the debt is paid after the night: the page shows the plan of what is owed now
    (lighter instalments), says the stored one differs, and a script quotes today's plan,
    never more than the debtor pays a month now."""
    case_id = _quoted_case(demo_world)
    with unit_of_work() as session:
        for account in case_service.get_with_accounts(session, case_id=case_id).accounts:
            account.principal_fen //= 2
    seen = _desk(case_id)
    plan = seen.desk.strategy.plan
    stored_monthly = int(seen.treatment["largest_instalment_fen"])
    assert plan is not None and plan.offerable and plan.monthly_fen is not None
    assert (plan.monthly_fen, plan.term_months) != (stored_monthly, seen.treatment["term_months"])
    assert seen.desk.strategy.stored_plan_differs
    assert seen.quoted is not None
    assert seen.quoted.instalment_fen == plan.monthly_fen <= seen.current_monthly_fen
    assert seen.quoted.instalment_count == plan.repayment_months
    assert _reply_plan(case_id, monkeypatch) == seen.quoted

    page = page_client(demo_world).get(f"/cases/{case_id}").text
    offer = re.search(r'<dl class="facts plan" id="plan-offer">(.*?)</dl>', page, re.S)
    assert offer and yuan(plan.monthly_fen) in offer.group(1)
    if plan.monthly_fen != stored_monthly:
        assert yuan(stored_monthly) not in offer.group(1)
    assert 'id="plan-of-today"' in page and "超出债权方授权" not in page


def test_next_script_for_what_the_debtor_said(demo_world):
    agent = page_client(demo_world)
    case_id = open_case(demo_world)
    answer = agent.post(
        f"/cases/{case_id}/script",
        data={"said": "你打错了，我不认识这个人", "csrf_token": csrf(demo_world)},
        headers=HTMX,
    )
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith('<section class="card" id="script"')
    assert 'data-script-id="wrong-number-close"' in answer.text
    assert "<html" not in answer.text, "htmx gets the section only"
    plain = agent.post(
        f"/cases/{case_id}/script", data={"said": "  ", "csrf_token": csrf(demo_world)}
    )
    assert plain.status_code == 422 and "<html" in plain.text
    forged = agent.post(f"/cases/{case_id}/script", data={"said": "好的"})
    assert forged.status_code == 403


# --- log a contact ----------------------------------------------------------------------


def _counts(case_id: int) -> tuple[int, int, int]:
    with unit_of_work() as session:
        attempts = session.scalar(select(func.count()).where(ContactAttempt.case_id == case_id))
        decisions = session.scalar(select(func.count()).where(ContactDecision.case_id == case_id))
        leaves = session.scalar(
            select(func.count()).where(
                EvidenceLogLeaf.case_id == case_id, EvidenceLogLeaf.kind == "contact_attempt"
            )
        )
    return int(attempts or 0), int(decisions or 0), int(leaves or 0)


def test_log_contact_allowed_then_denied_by_a_restriction(demo_world, business_hours):
    agent = page_client(demo_world)
    case_id = open_case(demo_world)
    before = _counts(case_id)

    done = agent.post(
        f"/cases/{case_id}/contacts",
        data={
            "channel": "call",
            "party": "debtor",
            "connected": "1",
            "conversation": "1",
            "outcome": "promised",
            "note": "will pay on Friday",
            "csrf_token": csrf(demo_world),
        },
    )
    assert done.status_code == 303
    assert re.fullmatch(rf"/cases/{case_id}\?gate=\d+#contacts", done.headers["location"])
    after = _counts(case_id)
    assert after == (before[0] + 1, before[1] + 1, before[2] + 1), "logged with its evidence"
    with unit_of_work() as session:
        attempt = session.scalars(
            select(ContactAttempt)
            .where(ContactAttempt.case_id == case_id)
            .order_by(ContactAttempt.id.desc())
            .limit(1)
        ).one()
    assert (attempt.channel, attempt.connected, attempt.conversation) == ("call", True, True)
    assert attempt.outcome == "promised" and attempt.note == "will pay on Friday"
    assert attempt.attempted_at == business_hours
    shown = agent.get(done.headers["location"]).text
    assert 'class="notice gate-allow"' in shown and f'data-attempt="{attempt.id}"' in shown
    row = re.search(rf'<tr data-attempt="{attempt.id}">(.*?)</tr>', shown, re.S)
    assert row is not None
    assert escape(local_time(business_hours)) in row.group(1)
    assert "promised" in row.group(1) and "will pay on Friday" in row.group(1)
    assert "自营" in row.group(1) and "in-house" not in row.group(1)  # the party, in words

    # the same through htmx: the contacts section comes back with the new row
    partial = agent.post(
        f"/cases/{case_id}/contacts",
        data={"channel": "sms", "csrf_token": csrf(demo_world)},
        headers=HTMX,
    )
    assert partial.status_code == 200 and "<html" not in partial.text
    assert partial.text.lstrip().startswith('<section class="card" id="contacts"')
    assert 'class="notice gate-allow"' in partial.text
    assert _counts(case_id)[0] == after[0] + 1

    with unit_of_work() as session:
        case = session.get(Case, case_id)
        assert case is not None
        compliance_service.set_restriction(
            session, debtor_id=case.debtor_id, flag="do_not_contact", reason="asked", set_by="qa"
        )
    stopped = _counts(case_id)
    denied = agent.post(
        f"/cases/{case_id}/contacts",
        data={"channel": "call", "connected": "1", "csrf_token": csrf(demo_world)},
        headers=HTMX,
    )
    assert denied.status_code == 200
    assert 'class="error gate-deny"' in denied.text
    assert 'data-reason="do_not_contact"' in denied.text
    assert "未定" in denied.text, "no next allowed time while the stop is in force"
    assert _counts(case_id) == (stopped[0], stopped[1] + 1, stopped[2]), (
        "the deny is stored as a decision; nothing is logged"
    )


def test_log_contact_refusals(demo_world, business_hours):
    case_id = open_case(demo_world)
    agent = page_client(demo_world)
    before = _counts(case_id)
    bad_channel = agent.post(
        f"/cases/{case_id}/contacts", data={"channel": "pigeon", "csrf_token": csrf(demo_world)}
    )
    assert bad_channel.status_code == 422 and "unknown channel" in bad_channel.text
    # a Chinese page says why in Chinese, the service's details beneath
    assert "联系记录表单不完整或不正确" in bad_channel.text
    agent.cookies.set("lang", "en")
    english = agent.post(
        f"/cases/{case_id}/contacts", data={"channel": "pigeon", "csrf_token": csrf(demo_world)}
    )
    agent.cookies.delete("lang")
    assert "The contact form is not complete or not valid." in english.text
    assert "联系记录" not in english.text.split('role="alert"', 1)[1].split("</p>", 1)[0]
    bad_party = agent.post(
        f"/cases/{case_id}/contacts",
        data={"channel": "call", "party": "boss", "csrf_token": csrf(demo_world)},
        headers=HTMX,
    )
    assert bad_party.status_code == 422 and 'id="contacts"' in bad_party.text
    stranger = agent.post(
        f"/cases/{case_id}/contacts",
        data={"channel": "call", "party": "999999", "csrf_token": csrf(demo_world)},
    )
    assert stranger.status_code == 422, "a contact point of someone else is refused"
    no_csrf = agent.post(f"/cases/{case_id}/contacts", data={"channel": "call"})
    assert no_csrf.status_code == 403
    auditor = page_client(demo_world, Role.COMPLIANCE_AUDITOR).post(
        f"/cases/{case_id}/contacts",
        data={"channel": "call", "csrf_token": csrf(demo_world, Role.COMPLIANCE_AUDITOR)},
    )
    assert auditor.status_code == 403
    other = min(demo_world.cases_of_collector[demo_world.agent2_collector_id])
    foreign = agent.post(
        f"/cases/{other}/contacts", data={"channel": "call", "csrf_token": csrf(demo_world)}
    )
    assert foreign.status_code == 404
    assert _counts(case_id) == before, "nothing was decided or logged"
    assert (
        "记录联系"
        not in page_client(demo_world, Role.COMPLIANCE_AUDITOR).get(f"/cases/{case_id}").text
    ), "the auditor's case page has no contact form"


def test_the_auditor_is_refused_a_promise_as_a_contact_in_the_same_words(demo_world):
    case_id = open_case(demo_world)
    auditor = page_client(demo_world, Role.COMPLIANCE_AUDITOR)
    token = csrf(demo_world, Role.COMPLIANCE_AUDITOR)
    due = (datetime.now(SHANGHAI).date() + timedelta(days=5)).isoformat()
    promise = auditor.post(
        f"/cases/{case_id}/promises", data={"amount_yuan": "100", "due": due, "csrf_token": token}
    )
    contact = auditor.post(
        f"/cases/{case_id}/contacts", data={"channel": "call", "csrf_token": token}
    )
    for refused in (promise, contact):
        assert refused.status_code == 403
        assert "该案件或操作不在您的权限范围内。" in refused.text
        assert "操作未能完成" not in refused.text
    assert "may not record promise" in promise.text


# --- notes ------------------------------------------------------------------------------


def _notes(case_id: int) -> list[str]:
    with unit_of_work() as session:
        return list(
            session.scalars(
                select(CaseNote.body).where(CaseNote.case_id == case_id).order_by(CaseNote.id)
            )
        )


def test_notes_on_the_page_and_the_api(demo_world):
    case_id = open_case(demo_world)
    agent = page_client(demo_world)
    done = agent.post(
        f"/cases/{case_id}/notes",
        data={
            "body": "  debtor asks for calls after 18:00\r\n(works shifts)  ",
            "csrf_token": csrf(demo_world),
        },
    )
    assert done.status_code == 303 and done.headers["location"] == f"/cases/{case_id}?noted=1#notes"
    assert _notes(case_id) == ["debtor asks for calls after 18:00\n(works shifts)"]
    page = agent.get(done.headers["location"]).text
    assert "已添加备注" in page and "debtor asks for calls after 18:00" in page

    partial = agent.post(
        f"/cases/{case_id}/notes",
        data={"body": "x" * MAX_NOTE_LENGTH, "csrf_token": csrf(demo_world)},
        headers=HTMX,
    )
    assert partial.status_code == 200 and "<html" not in partial.text
    assert partial.text.lstrip().startswith('<section class="card" id="notes"')
    assert len(_notes(case_id)) == 2

    for body in ("", "   \n ", "y" * (MAX_NOTE_LENGTH + 1)):
        refused = agent.post(
            f"/cases/{case_id}/notes", data={"body": body, "csrf_token": csrf(demo_world)}
        )
        assert refused.status_code == 422, body[:10]
    htmx_refused = agent.post(
        f"/cases/{case_id}/notes", data={"body": " ", "csrf_token": csrf(demo_world)}, headers=HTMX
    )
    assert htmx_refused.status_code == 422 and "the note is empty" in htmx_refused.text
    assert agent.post(f"/cases/{case_id}/notes", data={"body": "forged"}).status_code == 403
    auditor = page_client(demo_world, Role.COMPLIANCE_AUDITOR).post(
        f"/cases/{case_id}/notes",
        data={"body": "audit", "csrf_token": csrf(demo_world, Role.COMPLIANCE_AUDITOR)},
    )
    assert auditor.status_code == 403
    other = min(demo_world.cases_of_collector[demo_world.agent2_collector_id])
    foreign = agent.post(
        f"/cases/{other}/notes", data={"body": "not mine", "csrf_token": csrf(demo_world)}
    )
    assert foreign.status_code == 404
    assert len(_notes(case_id)) == 2 and _notes(other) == []

    api = demo_world.client(Role.ONLINE_AGENT)
    made = api.post(f"/api/cases/{case_id}/notes", json={"body": "called the employer"})
    assert made.status_code == 201
    assert made.json()["author_username"] == "agent1" and made.json()["case_id"] == case_id
    listed = api.get(f"/api/cases/{case_id}/notes").json()
    assert [n["body"] for n in listed][0] == "called the employer", "newest first"
    assert len(listed) == 3
    assert api.post(f"/api/cases/{case_id}/notes", json={"body": " "}).status_code == 422
    too_long = api.post(f"/api/cases/{case_id}/notes", json={"body": "z" * (MAX_NOTE_LENGTH + 1)})
    assert too_long.status_code == 422
    assert api.get(f"/api/cases/{other}/notes").status_code == 404
    assert demo_world.client(Role.DEBTOR).get(f"/api/cases/{case_id}/notes").status_code == 403
    assert (
        demo_world.client(Role.COMPLIANCE_AUDITOR).get(f"/api/cases/{case_id}/notes").status_code
        == 200
    )
    cookie_api = page_client(demo_world)
    assert (
        cookie_api.post(f"/api/cases/{case_id}/notes", json={"body": "no header"}).status_code
        == 403
    )


def test_notes_are_append_only_in_the_database(demo_world):
    case_id = open_case(demo_world)
    agent = demo_world.client(Role.ONLINE_AGENT)
    note_id = agent.post(f"/api/cases/{case_id}/notes", json={"body": "kept"}).json()["id"]
    for statement in (
        "UPDATE case_note SET body = 'changed' WHERE id = :id",
        "DELETE FROM case_note WHERE id = :id",
    ):
        with pytest.raises(Exception, match="append-only"), get_engine().begin() as connection:
            connection.execute(text(statement), {"id": note_id})
    assert _notes(case_id) == ["kept"]


# --- request a field visit --------------------------------------------------------------


def test_request_a_field_visit_from_the_case_page(demo_world):
    from debtflow.models import FieldVisitRequest

    case_id = open_case(demo_world)
    agent = page_client(demo_world)
    assert 'id="field-visit"' in agent.get(f"/cases/{case_id}").text

    empty = agent.post(
        f"/cases/{case_id}/field-visits", data={"reason": "  ", "csrf_token": csrf(demo_world)}
    )
    assert empty.status_code == 422
    done = agent.post(
        f"/cases/{case_id}/field-visits",
        data={"reason": "电话长期失联，需核实住址", "csrf_token": csrf(demo_world)},
    )
    assert done.status_code == 303
    found = re.fullmatch(rf"/cases/{case_id}\?visit=(\d+)#field-visit", done.headers["location"])
    assert found
    with unit_of_work() as session:
        visit = session.get(FieldVisitRequest, int(found.group(1)))
        assert visit is not None
        assert (visit.case_id, visit.reason, visit.status.value) == (
            case_id,
            "电话长期失联，需核实住址",
            "requested",
        )
    assert f'data-visit="{visit.id}"' in agent.get(done.headers["location"]).text

    again = agent.post(
        f"/cases/{case_id}/field-visits",
        data={"reason": "再次申请", "csrf_token": csrf(demo_world)},
        headers=HTMX,
    )
    assert again.status_code == 409, "one open request per case"
    assert again.text.lstrip().startswith('<section class="card" id="field-visit"')
    assert "already has an open visit request" in again.text
    assert "该案件已有一项待处理的外访申请" in again.text

    assert agent.post(f"/cases/{case_id}/field-visits", data={"reason": "x"}).status_code == 403
    auditor = page_client(demo_world, Role.COMPLIANCE_AUDITOR)
    refused = auditor.post(
        f"/cases/{case_id}/field-visits",
        data={"reason": "audit", "csrf_token": csrf(demo_world, Role.COMPLIANCE_AUDITOR)},
    )
    assert refused.status_code == 403
    assert 'id="field-visit"' not in auditor.get(f"/cases/{case_id}").text
    other = min(demo_world.cases_of_collector[demo_world.agent2_collector_id])
    foreign = agent.post(
        f"/cases/{other}/field-visits", data={"reason": "x", "csrf_token": csrf(demo_world)}
    )
    assert foreign.status_code == 404
    with unit_of_work() as session:
        count = session.scalar(
            select(func.count()).where(FieldVisitRequest.case_id.in_([case_id, other]))
        )
    assert count == 1


def test_the_case_page_confirms_only_a_visit_request_that_exists_on_that_case(demo_world):
    from debtflow.models import FieldVisitRequest

    case_id, other = sorted(own_cases(demo_world) - demo_world.debtor_case_ids)[:2]
    agent = page_client(demo_world)
    done = agent.post(
        f"/cases/{case_id}/field-visits",
        data={"reason": "核实住址", "csrf_token": csrf(demo_world)},
    )
    assert done.status_code == 303
    visit_id = int(re.search(r"visit=(\d+)", done.headers["location"]).group(1))
    assert f'data-visit="{visit_id}"' in agent.get(f"/cases/{case_id}?visit={visit_id}").text
    with unit_of_work() as session:
        missing = (session.scalar(select(func.max(FieldVisitRequest.id))) or 0) + 1000
    for page in (f"/cases/{case_id}?visit={missing}", f"/cases/{other}?visit={visit_id}"):
        shown = agent.get(page)
        assert shown.status_code == 200, page
        assert "data-visit=" not in shown.text and "已申请外访" not in shown.text, page
