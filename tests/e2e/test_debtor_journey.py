"""A debtor signs in with phone + one-time code, chooses a plan from the offers, signs
the agreement, pays through the simulated provider (its signed webhook books the payment)
and sees the payment — on a phone-sized screen in Debian's Chromium, with a screenshot
(Chinese text) under test-artifacts/."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

PREPARE_DEBTOR = """
import json
from sqlalchemy import select
from debtflow.auth import service as auth_service
from debtflow.db import unit_of_work
from debtflow.models import Case, Debtor, Role, User
from debtflow.portal import service as portal
from debtflow.core.errors import DomainError

PHONE = "13912340000"
with unit_of_work() as session:
    taken = select(User.debtor_id).where(User.debtor_id.is_not(None))
    cases = session.scalars(
        select(Case).where(Case.debtor_id.not_in(taken)).order_by(Case.id)
    ).all()
    found = name = None
    for case in cases:
        treatment = case.treatment or {}
        if treatment.get("kind") not in ("instalments", "restructuring"):
            continue
        if treatment.get("refused"):
            continue
        savepoint = session.begin_nested()
        user = auth_service.create_user(
            session, username="debtor-e2e", role=Role.DEBTOR, debtor_id=case.debtor_id,
            phone=PHONE,
        )
        try:
            portal.plan_offers(session, case_id=case.id, user=user)
        except DomainError:
            savepoint.rollback()
            continue
        savepoint.commit()
        found = case.id
        name = session.get(Debtor, case.debtor_id).name
        break
    print(json.dumps({"case_id": found, "phone": PHONE, "name": name}))
"""


def _server_workdir(tmp_path_factory) -> Path:
    """The folder the ``server_url`` fixture built its database and notifications in."""
    found = sorted(tmp_path_factory.getbasetemp().glob("e2e*/e2e.db"))
    assert found, "the e2e server's database is missing"
    return found[-1].parent


def _prepare(workdir: Path) -> tuple[int, str, str]:
    env = {
        **os.environ,
        "DEBTFLOW_DATABASE_URL": f"sqlite:///{workdir}/e2e.db",
        "DEBTFLOW_DATA_DIR": str(workdir),
    }
    done = subprocess.run(
        [sys.executable, "-c", PREPARE_DEBTOR],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    prepared = json.loads(done.stdout.strip().splitlines()[-1])
    assert prepared["case_id"] is not None, "the demo has a case with a plan on offer"
    return int(prepared["case_id"]), str(prepared["phone"]), str(prepared["name"])


def _last_code(workdir: Path, phone: str) -> str:
    log = workdir / "notifications" / "one-time-codes.log"
    lines = [
        line for line in log.read_text(encoding="utf-8").splitlines() if f"to {phone}:" in line
    ]
    match = re.search(r"code (\d{6})", lines[-1])
    assert match, lines[-1]
    return match.group(1)


def test_debtor_signs_a_plan_and_pays(server_url, chromium, artifacts, tmp_path_factory):
    workdir = _server_workdir(tmp_path_factory)
    case_id, phone, name = _prepare(workdir)
    context = chromium.new_context(
        locale="zh-CN",
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        timezone_id="Asia/Shanghai",
    )
    page = context.new_page()
    page.set_default_timeout(60_000)  # the shared 2-core machine can be slow
    page.goto(f"{server_url}/debtor/login")
    page.fill("form[action='/debtor/login/code'] input[name=phone]", phone)
    page.click("form[action='/debtor/login/code'] button[type=submit]")
    page.wait_for_selector("form[action='/debtor/login/verify']")
    page.fill("input[name=code]", _last_code(workdir, phone))
    page.click("form[action='/debtor/login/verify'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/portal$"))
    assert "我的欠款" in page.inner_text("h1")

    page.click(f"a.case-link[href='/portal/cases/{case_id}']")
    page.wait_for_url(re.compile(rf".*/portal/cases/{case_id}$"))
    offers = page.locator("#offers article.offer")
    assert offers.count() >= 1
    chosen = page.locator("#offers article.offer.recommended")
    offer = chosen.first if chosen.count() else offers.first
    assert "¥" in offer.inner_text()
    offer.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(rf".*/portal/cases/{case_id}\?chosen=1.*"))
    agreement = page.inner_text("#agreement-text")
    assert "分期还款协议" in agreement and "合计应还" in agreement

    page.check("input[name=read_confirmed]")
    page.fill("input[name=signer_name]", name)  # the name on file, as the debtor types it
    page.click("#sign-form button[type=submit]")
    page.wait_for_url(re.compile(rf".*/portal/cases/{case_id}\?signed=1$"))
    assert "协议已签署" in page.inner_text("p.notice")
    due = page.inner_text("#next-due")
    amount = re.search(r"¥([\d,]+\.\d\d)", due).group(1)

    page.click("#pay-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/pay/sim/sim_[0-9a-f]+$"))
    assert "模拟支付" in page.inner_text("h1") and amount in page.inner_text("#pay-sim")
    page.click("#pay-sim button[type=submit]")
    page.wait_for_url(re.compile(rf".*/portal/cases/{case_id}\?paid=1$"))
    assert "还款已到账" in page.inner_text("p.notice")
    assert amount in page.inner_text("#payments")
    assert page.get_attribute("#case-status", "data-status") == "paying"
    page.screenshot(path=str(artifacts / "debtor-signs-and-pays.png"), full_page=True)
    context.close()
