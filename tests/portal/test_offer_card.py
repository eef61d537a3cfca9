"""The offer card, the choice it posts and the agreement say the same plan: the same term
(grace months included), grace months, instalments and down payment; and the card's
figures visibly add up (owed − relief + plan interest = total), exactly in fen."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient

from debtflow.app import create_app
from debtflow.auth import service as auth_service
from debtflow.auth.deps import SESSION_COOKIE
from debtflow.core.money import yuan_to_fen
from debtflow.db import get_engine, unit_of_work
from debtflow.migrate import upgrade
from factories import make_creditor
from portal.conftest import ACCOUNTS, TREATMENT, add_debtor_case

#: the nightly headline of the shipped hardship rule: 2 months' grace, 2 % down payment
HARDSHIP = {"kind": "restructuring", "term_months": 26, "repayment_months": 24, "refused": []}


@pytest.fixture(params=["potential", "hardship"])
def browser(request, database_url):
    upgrade(get_engine())
    with unit_of_work() as session:
        creditor = make_creditor(session, code=f"CARD-{request.param.upper()}")
        creditor.min_first_payment_bp = 100
        world = add_debtor_case(
            session,
            creditor_id=creditor.id,
            name="陈斌",
            accounts=ACCOUNTS,
            treatment=TREATMENT if request.param == "potential" else HARDSHIP,
            segment=request.param,
        )
        cookie, web_session = auth_service.start_session(session, user=world.user)
        csrf, case_id = web_session.csrf_token, world.case.id
    client = TestClient(create_app(), base_url="https://testserver", follow_redirects=False)
    client.cookies.set(SESSION_COOKIE, cookie)
    return request.param, client, csrf, case_id


def _text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def _cards(page: str) -> list[str]:
    return re.findall(r'<article class="offer.*?</article>', page, re.S)


def _shown_fen(card: str, part: str) -> int:
    shown = re.search(rf'data-part="{part}"[^>]*>(.*?)</dd>', card, re.S).group(1)
    return yuan_to_fen(_text(shown).lstrip("+−="))


def test_card_term_is_the_posted_term_and_the_agreements_term(browser):
    segment, client, csrf, case_id = browser
    cards = _cards(client.get(f"/portal/cases/{case_id}").text)
    assert len(cards) >= 3
    for card in cards:
        term = int(re.search(r'data-term="(\d+)"', card).group(1))
        grace = int(re.search(r'data-grace="(\d+)"', card).group(1))
        instalments = int(re.search(r'data-instalments="(\d+)"', card).group(1))
        down = int(re.search(r'data-down-payment-fen="(\d+)"', card).group(1))
        posted = int(re.search(r'name="term_months" value="(\d+)"', card).group(1))
        headline = _text(re.search(r"<h3>(.*?)</h3>", card, re.S).group(1))
        # what the card says is what it posts
        assert posted == term == grace + instalments
        assert headline.startswith(f"期限{term}个月：")
        assert f"分{instalments}期" in headline
        assert (f"宽限{grace}个月" in headline) is (grace > 0)
        assert (grace, down > 0) == ((2, True) if segment == "hardship" else (0, False))
        # the schedule lists the down payment, the grace months and instalments 1..n
        rows = re.findall(r"<tr[^>]*data-number[^>]*><td>(.*?)</td>", card)
        assert [r for r in rows if r.isdigit()] == [str(k) for k in range(1, instalments + 1)]
        assert rows.count("宽限") == grace

        chosen = client.post(
            f"/portal/cases/{case_id}/plan", data={"term_months": str(posted), "csrf_token": csrf}
        )
        assert chosen.status_code == 303
        page = client.get(chosen.headers["location"]).text
        agreement = html.unescape(
            re.search(r'id="agreement-text">(.*?)</pre>', page, re.S).group(1)
        )
        assert f"期限 / Term: {term} 个月 months" in agreement
        assert f"分{instalments}期" in agreement and f"{instalments} instalments" in agreement
        assert f"分{instalments}期" in agreement.split("还款方式")[1].splitlines()[0]
        assert (f"宽限{grace}个月" in agreement) is (grace > 0)
        if down:
            down_shown = re.search(r"首付¥([\d,.]+)", headline).group(1)
            assert yuan_to_fen(down_shown) == down
            assert f"首付¥{down_shown}" in agreement
        total = re.search(r"合计应还 / Total to pay: ¥([\d,.]+)", agreement).group(1)
        assert yuan_to_fen(total) == _shown_fen(card, "total")


def test_card_figures_add_up_to_its_total_in_fen(browser):
    segment, client, _, case_id = browser
    cards = _cards(client.get(f"/portal/cases/{case_id}").text)
    for card in cards:
        owed, relief = _shown_fen(card, "owed"), _shown_fen(card, "relief")
        interest, total = _shown_fen(card, "interest"), _shown_fen(card, "total")
        assert owed - relief + interest == total
        # the data attributes carry the same fen as the text shows
        for part, shown in (("owed", owed), ("relief", relief), ("interest", interest)):
            assert f'data-part="{part}" data-fen="{shown}"' in card
        # and the schedule's amounts add up to the total too
        amounts = re.findall(r'<td class="num">¥([\d,.]+)</td>', card)
        assert sum(yuan_to_fen(a) for a in amounts) == total
        assert "现欠款 − 减免 + 计划利息" in _text(card)
        assert (interest > 0) is (segment == "hardship")
