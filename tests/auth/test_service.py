"""Sign-in, sessions, tokens, one-time codes and case scoping, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from debtflow.auth import service
from debtflow.auth.notifier import DevelopmentNotifier
from debtflow.auth.scoping import NotPermitted
from debtflow.case import service as case_service
from debtflow.case.service import CaseNotFound
from debtflow.core.errors import Conflict
from debtflow.creditor import service as creditor_service
from debtflow.db import utcnow
from debtflow.models import Case, Collector, Debtor, Role, User
from debtflow.models.enums import CollectorKind, DebtorType
from debtflow.portal import service as portal_service

PASSWORD = "correct horse battery"


class RecordingNotifier:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send_code(self, *, phone: str, code: str, expires_at: datetime) -> None:
        self.sent.append((phone, code))


def make_collector(session: Session, *, code: str, kind: CollectorKind) -> Collector:
    collector = Collector(code=code, name=code, kind=kind, home_province="浙江", home_city="杭州")
    session.add(collector)
    session.flush()
    return collector


def make_case(
    session: Session, *, id_number: str, collector: Collector | None = None, creditor: str = "B1"
) -> Case:
    bank = creditor_service.save(session, code=creditor, name="银行" + creditor)
    debtor = Debtor(
        debtor_type=DebtorType.PERSON, name="张三" + id_number[-2:], id_number=id_number
    )
    session.add(debtor)
    session.flush()
    case = Case(
        creditor_id=bank.id,
        debtor_id=debtor.id,
        assigned_collector_id=collector.id if collector else None,
    )
    session.add(case)
    session.flush()
    return case


def make_staff(session: Session, *, username: str, role: Role, collector: Collector | None = None):
    return service.create_user(
        session,
        username=username,
        role=role,
        password=PASSWORD,
        collector_id=collector.id if collector else None,
    )


def test_password_is_stored_as_argon2_and_checked(session):
    user = make_staff(session, username="boss", role=Role.ADMIN)
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    assert service.sign_in(session, username="BOSS", password=PASSWORD).user is user
    wrong = service.sign_in(session, username="boss", password=PASSWORD + "!")
    assert wrong.user is None and wrong.failure == "invalid" and user.failed_logins == 1
    assert service.sign_in(session, username="nobody", password=PASSWORD).failure == "invalid"


def test_five_failures_lock_the_account_even_for_the_right_password(session):
    user = make_staff(session, username="boss", role=Role.ADMIN)
    now = utcnow()
    for _ in range(service.MAX_FAILED_LOGINS - 1):
        assert service.sign_in(session, username="boss", password="guess", now=now).failure == (
            "invalid"
        )
    locked = service.sign_in(session, username="boss", password="guess", now=now)
    assert locked.failure == "locked" and locked.locked_until == now + service.LOCKOUT
    during = service.sign_in(session, username="boss", password=PASSWORD, now=now)
    assert during.user is None and during.failure == "locked"
    after = service.sign_in(
        session, username="boss", password=PASSWORD, now=now + service.LOCKOUT + timedelta(1)
    )
    assert after.user is user and user.locked_until is None and user.failed_logins == 0


def test_a_locked_user_costs_one_password_check_as_an_unknown_name_does(session, monkeypatch):
    make_staff(session, username="boss", role=Role.ADMIN)
    for _ in range(service.MAX_FAILED_LOGINS):
        service.sign_in(session, username="boss", password="guess")
    checks: list[str | None] = []
    real = service.verify_password

    def counted(stored: str | None, password: str) -> bool:
        checks.append(stored)
        return real(stored, password)

    monkeypatch.setattr(service, "verify_password", counted)
    assert service.sign_in(session, username="nobody", password=PASSWORD).failure == "invalid"
    assert service.sign_in(session, username="boss", password=PASSWORD).failure == "locked"
    assert len(checks) == 2 and checks[1] is not None, "the locked user's own hash, checked once"


def test_reset_password_lifts_a_lockout(session):
    make_staff(session, username="boss", role=Role.ADMIN)
    for _ in range(service.MAX_FAILED_LOGINS):
        service.sign_in(session, username="boss", password="guess")
    service.reset_password(session, username="boss", password="a brand new secret")
    assert service.sign_in(session, username="boss", password="a brand new secret").user


def test_user_rules(session):
    agent_desk = make_collector(session, code="A1", kind=CollectorKind.ONLINE_AGENT)
    with pytest.raises(service.InvalidUser, match="linked to a collector"):
        service.create_user(session, username="a1", role=Role.ONLINE_AGENT, password=PASSWORD)
    with pytest.raises(service.InvalidUser, match="at least"):
        service.create_user(
            session, username="a1", role=Role.ONLINE_AGENT, password="short", collector_code="A1"
        )
    with pytest.raises(service.InvalidUser, match="no collector"):
        service.create_user(
            session, username="a1", role=Role.ONLINE_AGENT, password=PASSWORD, collector_code="X"
        )
    with pytest.raises(service.InvalidUser, match="username"):
        service.create_user(session, username="a b", role=Role.ADMIN, password=PASSWORD)
    user = service.create_user(
        session, username="a1", role=Role.ONLINE_AGENT, password=PASSWORD, collector_code="A1"
    )
    assert user.collector_id == agent_desk.id
    with pytest.raises(Conflict):
        make_staff(session, username="a1", role=Role.ADMIN)
    case = make_case(session, id_number="110101199001011234")
    with pytest.raises(service.InvalidUser, match="one-time code"):
        service.create_user(
            session,
            username="d1",
            role=Role.DEBTOR,
            password=PASSWORD,
            debtor_id=case.debtor_id,
            phone="13800000000",
        )


def test_a_user_for_a_debtor_or_collector_not_on_file_is_refused(session):
    with pytest.raises(service.InvalidUser, match="no debtor with id 99999"):
        service.create_user(
            session, username="d2", role=Role.DEBTOR, debtor_id=99999, phone="13800001112"
        )
    with pytest.raises(service.InvalidUser, match="no collector with id 99999"):
        service.create_user(
            session,
            username="a2",
            role=Role.ONLINE_AGENT,
            password=PASSWORD,
            collector_id=99999,
        )
    assert service.list_users(session) == []


def test_sessions_and_api_tokens_are_stored_hashed_and_expire(session):
    user = make_staff(session, username="boss", role=Role.ADMIN)
    now = utcnow()
    token, row = service.start_session(session, user=user, now=now)
    assert row.token_hash != token and len(row.csrf_token) >= 32
    assert service.user_for_session(session, token=token, now=now)[0] is user
    assert service.user_for_session(session, token=token + "x", now=now) is None
    later = now + service.SESSION_LIFETIME + timedelta(seconds=1)
    assert service.user_for_session(session, token=token, now=later) is None
    service.end_session(session, token=token, now=now)
    assert service.user_for_session(session, token=token, now=now) is None

    api = service.issue_api_token(session, user=user, now=now)
    assert service.user_for_api_token(session, token=api, now=now) is user
    assert service.user_for_api_token(session, token="nope", now=now) is None
    assert service.user_for_api_token(session, token=api, now=later) is None
    user.active = False
    assert service.user_for_api_token(session, token=api, now=now) is None


def _debtor_user(session: Session) -> User:
    case = make_case(session, id_number="110101199001011234")
    return service.create_user(
        session,
        username="d1",
        role=Role.DEBTOR,
        debtor_id=case.debtor_id,
        phone="+86 138-0000-1111",
    )


def test_debtor_one_time_code_signs_in_once(session):
    user = _debtor_user(session)
    assert user.phone == "13800001111"
    notifier = RecordingNotifier()
    now = utcnow()
    service.request_debtor_code(session, phone="138 0000 1111", notifier=notifier, now=now)
    [(phone, code)] = notifier.sent
    assert phone == "13800001111" and len(code) == 6 and code.isdigit()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert service.verify_debtor_code(session, phone=phone, code=wrong, now=now) is None
    assert service.verify_debtor_code(session, phone=phone, code=code, now=now) is user
    assert service.verify_debtor_code(session, phone=phone, code=code, now=now) is None  # used


def test_one_time_code_expires_and_allows_few_attempts(session):
    _debtor_user(session)
    notifier = RecordingNotifier()
    now = utcnow()
    service.request_debtor_code(session, phone="13800001111", notifier=notifier, now=now)
    code = notifier.sent[0][1]
    late = now + service.CODE_LIFETIME + timedelta(seconds=1)
    assert service.verify_debtor_code(session, phone="13800001111", code=code, now=late) is None
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(service.CODE_MAX_ATTEMPTS):
        service.verify_debtor_code(session, phone="13800001111", code=wrong, now=now)
    assert service.verify_debtor_code(session, phone="13800001111", code=code, now=now) is None


def test_codes_are_rate_limited_and_unknown_phones_get_nothing(session, tmp_path):
    """Beyond the limits nothing is sent, and the caller is told nothing it would not be
    told for an unknown phone (the routes answer the same for every outcome)."""
    _debtor_user(session)
    notifier = RecordingNotifier()
    now = utcnow()
    sent = service.CodeRequest.SENT
    assert (
        service.request_debtor_code(session, phone="13800001111", notifier=notifier, now=now)
        == sent
    )
    assert (
        service.request_debtor_code(
            session, phone="13800001111", notifier=notifier, now=now + timedelta(seconds=30)
        )
        == service.CodeRequest.LIMITED
    )
    for minute in range(2, service.CODES_PER_HOUR + 1):
        service.request_debtor_code(
            session, phone="13800001111", notifier=notifier, now=now + timedelta(minutes=minute)
        )
    assert len(notifier.sent) == service.CODES_PER_HOUR
    assert (
        service.request_debtor_code(
            session, phone="13800001111", notifier=notifier, now=now + timedelta(minutes=30)
        )
        == service.CodeRequest.LIMITED
    )
    unknown = service.request_debtor_code(session, phone="13999999999", notifier=notifier, now=now)
    assert unknown == service.CodeRequest.NOT_REGISTERED
    assert len(notifier.sent) == service.CODES_PER_HOUR

    dev = DevelopmentNotifier(tmp_path / "codes.log")
    service.request_debtor_code(
        session, phone="13800001111", notifier=dev, now=now + timedelta(hours=2)
    )
    assert "to 13800001111: code " in (tmp_path / "codes.log").read_text()


def test_scoping_in_the_case_service(session):
    desk1 = make_collector(session, code="A1", kind=CollectorKind.ONLINE_AGENT)
    desk2 = make_collector(session, code="A2", kind=CollectorKind.ONLINE_AGENT)
    firm = make_collector(session, code="LAW", kind=CollectorKind.LAW_FIRM)
    mine = make_case(session, id_number="110101199001011111", collector=desk1)
    theirs = make_case(session, id_number="110101199001012222", collector=desk2)
    placed = make_case(session, id_number="110101199001013333", collector=firm)
    agent = make_staff(session, username="a1", role=Role.ONLINE_AGENT, collector=desk1)
    partner = make_staff(session, username="law", role=Role.PARTNER, collector=firm)
    manager = make_staff(session, username="mgr", role=Role.OPERATIONS_MANAGER)
    auditor = make_staff(session, username="audit", role=Role.COMPLIANCE_AUDITOR)

    def ids(user: User) -> set[int]:
        listing = case_service.list_for_user(session, user=user, limit=500)
        return {row[0].id for row in listing.rows}

    assert ids(agent) == {mine.id}
    assert ids(partner) == {placed.id}
    assert {mine.id, theirs.id, placed.id} <= ids(manager) == ids(auditor)
    assert case_service.get_row_for_user(session, case_id=mine.id, user=agent)[0] is mine
    with pytest.raises(CaseNotFound):
        case_service.get_row_for_user(session, case_id=theirs.id, user=agent)
    with pytest.raises(CaseNotFound):
        case_service.get_for_user(session, case_id=mine.id, user=partner)
    agent.collector_id = None  # unlinked collector: reaches nothing, never everything
    assert ids(agent) == set()

    debtor = service.create_user(
        session, username="d1", role=Role.DEBTOR, debtor_id=mine.debtor_id, phone="13800001111"
    )
    with pytest.raises(NotPermitted):
        case_service.list_for_user(session, user=debtor)
    assert case_service.get_for_user(session, case_id=mine.id, user=debtor) is mine
    with pytest.raises(CaseNotFound):
        case_service.get_for_user(session, case_id=theirs.id, user=debtor)
    assert [d.case.id for d in portal_service.debts_of(session, user=debtor)] == [mine.id]
    with pytest.raises(NotPermitted):
        portal_service.debts_of(session, user=manager)
