"""A manager or admin records that a debtor's legal-advice request was handled: the service
(who may, what note, twice), its evidence leaf, the managers' API and page, what the debtor
sees in the portal and what staff see on the case."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from debtflow.app import create_app
from debtflow.auth import service as auth_service
from debtflow.auth.deps import SESSION_COOKIE
from debtflow.auth.scoping import NotPermitted
from debtflow.db import get_engine, unit_of_work, utcnow
from debtflow.migrate import upgrade
from debtflow.models import EvidenceLogLeaf, LegalAdviceRequest, Role, User
from debtflow.portal import requests as debtor_requests
from debtflow.portal import service
from portal.conftest import NOW, make_world

NOTE = "已由合作律所王律师电话解答"


def ask(session, world, *, question="罚息是否超过法定上限？", at=NOW):
    return debtor_requests.request_legal_advice(
        session,
        case_id=world.mine.case.id,
        user=world.mine.user,
        question=question,
        contact_channel="call",
        contact_time="工作日晚上",
        now=at,
    )


def legal_leaves(session):
    return [
        json.loads(bytes(leaf.canonical_bytes))
        for leaf in session.scalars(
            select(EvidenceLogLeaf)
            .where(EvidenceLogLeaf.kind == "legal_advice")
            .order_by(EvidenceLogLeaf.idx)
        )
    ]


def test_a_manager_records_a_request_as_handled_and_it_is_evidence_logged(session, world):
    row = ask(session, world)
    at = NOW + timedelta(hours=2)
    handled = debtor_requests.handle_legal_request(
        session, request_id=row.id, user=world.manager, note=f"  {NOTE} ", now=at
    )
    assert handled.id == row.id
    assert (handled.status, handled.handled_at, handled.handled_by, handled.handled_note) == (
        "handled",
        at,
        world.manager.username,
        NOTE,
    )
    asked, done = legal_leaves(session)
    assert asked["payload"]["request_id"] == row.id and "status" not in asked["payload"]
    assert done["case_id"] == world.mine.case.id
    assert done["payload"] == {
        "handled_by": world.manager.username,
        "note": NOTE,
        "request_id": row.id,
        "status": "handled",
    }
    assert done["occurred_at"].startswith("2026-11-29T04:00:00")  # 12:00 Shanghai, in UTC


def test_an_admin_may_handle_and_agents_auditors_and_debtors_may_not(session, world):
    row = ask(session, world)
    # the permission is checked before anything is read: a user not stored does
    agent = User(username="agent-legal", role=Role.ONLINE_AGENT, active=True)
    for user in (agent, world.agent, world.mine.user):  # world.agent is an auditor
        with pytest.raises(NotPermitted) as refused:
            debtor_requests.handle_legal_request(
                session, request_id=row.id, user=user, note=NOTE, now=NOW
            )
        assert refused.value.status_code == 403
    assert row.status == "open" and len(legal_leaves(session)) == 1
    admin = auth_service.create_user(
        session, username="admin-legal", role=Role.ADMIN, password="x" * 12
    )
    assert (
        debtor_requests.handle_legal_request(
            session, request_id=row.id, user=admin, note=NOTE, now=NOW
        ).handled_by
        == "admin-legal"
    )


def test_an_unknown_request_is_404(session, world):
    with pytest.raises(service.LegalRequestNotFound) as missing:
        debtor_requests.handle_legal_request(
            session, request_id=987654, user=world.manager, note=NOTE, now=NOW
        )
    assert (missing.value.status_code, missing.value.code) == (404, "legal_request_not_found")


@pytest.mark.parametrize(
    "note", ["", "  ", "好", " 好 ", "字" * 501, "已解答\x00", "已解答\ud800"], ids=repr
)
def test_a_note_that_is_too_short_too_long_or_not_storable_is_refused(session, world, note):
    row = ask(session, world)
    with pytest.raises(service.InvalidHandlingNote) as refused:
        debtor_requests.handle_legal_request(
            session, request_id=row.id, user=world.manager, note=note, now=NOW
        )
    assert (refused.value.status_code, refused.value.code) == (422, "invalid_handling_note")
    assert row.status == "open" and row.handled_at is None and len(legal_leaves(session)) == 1


def test_notes_of_2_and_500_characters_are_fine(session, world):
    first, second = ask(session, world), ask(session, world, question="可以分期吗？")
    for row, note in ((first, "已答"), (second, "答" * 500)):
        assert (
            debtor_requests.handle_legal_request(
                session, request_id=row.id, user=world.manager, note=note, now=NOW
            ).handled_note
            == note
        )


def test_the_first_handling_stands(session, world):
    """The same note again (a double submit) returns the record as it is, with no second
    leaf; another note is refused with 409 and changes nothing."""
    row = ask(session, world)
    first = debtor_requests.handle_legal_request(
        session, request_id=row.id, user=world.manager, note=NOTE, now=NOW
    )
    again = debtor_requests.handle_legal_request(
        session,
        request_id=row.id,
        user=world.manager,
        note=NOTE + " ",
        now=NOW + timedelta(minutes=1),
    )
    assert again.id == first.id and again.handled_at == NOW
    assert len(legal_leaves(session)) == 2
    with pytest.raises(service.LegalRequestAlreadyHandled) as refused:
        debtor_requests.handle_legal_request(
            session, request_id=row.id, user=world.manager, note="改为书面答复", now=NOW
        )
    assert (refused.value.status_code, refused.value.code) == (
        409,
        "legal_request_already_handled",
    )
    assert row.handled_note == NOTE and len(legal_leaves(session)) == 2


def test_the_list_filters_by_status(session, world):
    older = ask(session, world, question="可以分期吗？", at=NOW - timedelta(hours=1))
    newer = ask(session, world)
    debtor_requests.handle_legal_request(
        session, request_id=older.id, user=world.manager, note=NOTE, now=NOW
    )

    def listed(status):
        return [
            r.id
            for r, _, _ in debtor_requests.legal_advice_requests(
                session, user=world.manager, status=status
            )
        ]

    assert listed("open") == [newer.id]
    assert listed("handled") == [older.id]
    assert listed("all") == [newer.id, older.id]
    with pytest.raises(service.InvalidRequest):
        listed("closed")
    with pytest.raises(NotPermitted):
        debtor_requests.legal_advice_requests(session, user=world.agent, status="handled")


def test_the_same_question_after_it_was_handled_is_a_new_request(session, world):
    """A double submit within ten minutes returns the open request; once that one is
    handled, the same question again is a new request."""
    row = ask(session, world)
    debtor_requests.handle_legal_request(
        session, request_id=row.id, user=world.manager, note=NOTE, now=NOW
    )
    again = ask(session, world, at=NOW + timedelta(minutes=5))
    assert again.id != row.id and again.status == "open"


def test_staff_no_longer_see_a_handled_request_on_the_case(session, world):
    handled, still_open = ask(session, world), ask(session, world, question="可以分期吗？")
    debtor_requests.handle_legal_request(
        session, request_id=handled.id, user=world.manager, note=NOTE, now=NOW
    )
    seen = service.arrangements_of_case(session, case_id=world.mine.case.id, user=world.manager)
    assert [r.id for r in seen.legal_requests] == [still_open.id]


def test_the_debtor_sees_the_request_handled_and_when(session, world):
    row = ask(session, world)
    debtor_requests.handle_legal_request(
        session, request_id=row.id, user=world.manager, note=NOTE, now=NOW + timedelta(hours=1)
    )
    view = service.portal_case(session, case_id=world.mine.case.id, user=world.mine.user, now=NOW)
    (seen,) = view.requests.legal_requests
    assert (seen.id, seen.status, seen.handled_at) == (row.id, "handled", NOW + timedelta(hours=1))


# --- through HTTP ------------------------------------------------------------------------


@pytest.fixture
def legal_http(database_url):
    """The portal world committed with one open legal-advice request; the manager signed in
    to the pages and holding an API token, the debtor signed in to the portal."""
    upgrade(get_engine())
    with unit_of_work() as session:
        world = make_world(session)
        row = ask(session, world, at=utcnow() - timedelta(minutes=5))
        token = auth_service.issue_api_token(session, user=world.manager)
        cookie, web_session = auth_service.start_session(session, user=world.manager)
        debtor_cookie, debtor_session = auth_service.start_session(session, user=world.mine.user)
        debtor_token = auth_service.issue_api_token(session, user=world.mine.user)
        ids = {"request": row.id, "case": world.mine.case.id}
    api = TestClient(create_app(), base_url="https://testserver", follow_redirects=False)
    api.headers["Authorization"] = f"Bearer {token}"
    browser = TestClient(create_app(), base_url="https://testserver", follow_redirects=False)
    browser.cookies.set(SESSION_COOKIE, cookie)
    debtor = TestClient(create_app(), base_url="https://testserver", follow_redirects=False)
    debtor.cookies.set(SESSION_COOKIE, debtor_cookie)
    debtor_api = TestClient(create_app(), base_url="https://testserver", follow_redirects=False)
    debtor_api.headers["Authorization"] = f"Bearer {debtor_token}"
    return {
        **ids,
        "api": api,
        "browser": browser,
        "csrf": web_session.csrf_token,
        "debtor": debtor,
        "debtor_api": debtor_api,
    }


def test_the_api_records_the_handling_once(legal_http):
    api, request_id = legal_http["api"], legal_http["request"]
    url = f"/api/portal/legal-advice/{request_id}/handled"
    done = api.post(url, json={"note": NOTE})
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["id"], body["status"], body["handled_note"]) == (request_id, "handled", NOTE)
    assert body["handled_by"].startswith("manager-") and body["handled_at"]
    assert api.post(url, json={"note": NOTE}).json() == body  # the same note: the same record
    refused = api.post(url, json={"note": "改为书面答复"})
    assert refused.status_code == 409
    assert refused.json()["error"] == "legal_request_already_handled"
    short = api.post(url, json={"note": "好"})
    assert (short.status_code, short.json()["error"]) == (422, "invalid_handling_note")
    missing = api.post("/api/portal/legal-advice/987654/handled", json={"note": NOTE})
    assert (missing.status_code, missing.json()["error"]) == (404, "legal_request_not_found")
    assert [r["id"] for r in api.get("/api/portal/legal-advice?status=open").json()] == []
    (handled,) = api.get("/api/portal/legal-advice?status=handled").json()
    assert handled == body
    assert [r["id"] for r in api.get("/api/portal/legal-advice").json()] == [request_id]
    # the debtor cannot record it, and the answer they get for a request carries no note
    debtor_api = legal_http["debtor_api"]
    assert debtor_api.post(url, json={"note": NOTE}).status_code == 403
    own = debtor_api.post(
        f"/api/portal/cases/{legal_http['case']}/legal-advice",
        json={"question": "还能减免吗？", "contact_channel": "sms"},
    ).json()
    assert own["status"] == "open" and own["handled_at"] is None
    assert "handled_note" not in own and "handled_by" not in own


def test_the_page_lists_open_requests_and_marks_one_handled(legal_http):
    browser, csrf, request_id = legal_http["browser"], legal_http["csrf"], legal_http["request"]
    page = browser.get("/legal-advice")
    assert page.status_code == 200
    html = page.text
    assert f'action="/legal-advice/{request_id}/handled"' in html
    assert f'name="csrf_token" value="{csrf}"' in html
    assert 'data-status="open"' in html and 'name="note"' in html
    # an empty filter value reads as not sent: the open ones
    assert f'data-request="{request_id}"' in browser.get("/legal-advice?status=").text
    # without the form's token nothing is recorded
    forged = browser.post(f"/legal-advice/{request_id}/handled", data={"note": NOTE})
    assert forged.status_code == 403
    assert f'action="/legal-advice/{request_id}/handled"' in browser.get("/legal-advice").text
    # a note too short: the list again, with the reason in the page's language
    short = browser.post(
        f"/legal-advice/{request_id}/handled", data={"note": "好", "csrf_token": csrf}
    )
    assert short.status_code == 422
    assert "处理说明不正确" in short.text and 'id="handle-refused"' in short.text
    done = browser.post(
        f"/legal-advice/{request_id}/handled", data={"note": NOTE, "csrf_token": csrf}
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/legal-advice?handled={request_id}"
    after = browser.get(done.headers["location"]).text
    assert 'id="handled-notice"' in after
    assert f'data-request="{request_id}" data-status' not in after  # no longer open
    handled = browser.get("/legal-advice?status=handled").text
    assert f'data-request="{request_id}" data-status="handled"' in handled
    assert NOTE in handled and "manager-" in handled and "<td>已处理</td>" in handled
    assert f'action="/legal-advice/{request_id}/handled"' not in handled
    assert f'data-request="{request_id}"' in browser.get("/legal-advice?status=all").text
    # another note afterwards: refused on the page, the first record stands
    again = browser.post(
        f"/legal-advice/{request_id}/handled", data={"note": "改为书面答复", "csrf_token": csrf}
    )
    assert again.status_code == 409 and "以第一次记录为准" in again.text
    # an unknown request answers as everywhere else
    assert (
        browser.post(
            "/legal-advice/987654/handled", data={"note": NOTE, "csrf_token": csrf}
        ).status_code
        == 404
    )
    with unit_of_work() as session:
        row = session.get(LegalAdviceRequest, request_id)
        assert row is not None and row.handled_note == NOTE


def test_the_page_reads_in_english(legal_http):
    browser = legal_http["browser"]
    browser.cookies.set("lang", "en")
    html = browser.get("/legal-advice").text
    assert "Mark handled" in html and "What was done (staff only)" in html
    assert "标记为已处理" not in html


def test_the_debtor_sees_handled_and_when_but_not_the_note(legal_http):
    debtor, case_id = legal_http["debtor"], legal_http["case"]
    before = debtor.get(f"/portal/cases/{case_id}").text
    assert 'data-status="open"' in before and "处理中" in before
    legal_http["api"].post(
        f"/api/portal/legal-advice/{legal_http['request']}/handled", json={"note": NOTE}
    )
    after = debtor.get(f"/portal/cases/{case_id}").text
    assert f'data-request="{legal_http["request"]}" data-status="handled"' in after
    assert "已处理于" in after
    assert NOTE not in after and "manager-" not in after


def test_the_staff_case_page_drops_the_handled_request(legal_http):
    browser, case_id = legal_http["browser"], legal_http["case"]
    assert "罚息是否超过法定上限？" in browser.get(f"/cases/{case_id}").text
    legal_http["api"].post(
        f"/api/portal/legal-advice/{legal_http['request']}/handled", json={"note": NOTE}
    )
    html = browser.get(f"/cases/{case_id}").text
    assert "罚息是否超过法定上限？" not in html and 'id="legal-requests"' not in html
    assert browser.get(f"/api/cases/{case_id}").json()["legal_requests"] == []
