"""Guesses sent in parallel count one by one: on SQLite and on PostgreSQL, with real
connections in threads, the lockout comes after MAX_FAILED_LOGINS wrong passwords however
many arrive at once, and two code requests at the same moment send one code."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from debtflow.auth import service
from debtflow.db import make_engine, utcnow
from debtflow.migrate import upgrade
from debtflow.models import Debtor, DebtorOneTimeCode, Role, User
from debtflow.models.enums import DebtorType
from threads import at_once


def test_parallel_wrong_passwords_are_each_counted(database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    try:
        with Session(engine) as session:
            service.create_user(
                session, username="boss", role=Role.ADMIN, password="correct horse battery"
            )
            session.commit()
        outcomes = at_once(
            engine,
            service.MAX_FAILED_LOGINS,
            lambda session: service.sign_in(session, username="boss", password="guess").failure,
        )
        assert sorted(outcomes) == ["invalid"] * (service.MAX_FAILED_LOGINS - 1) + ["locked"]
        with Session(engine) as session:
            user = session.scalars(select(User).where(User.username == "boss")).one()
            assert user.locked_until is not None and user.locked_until > utcnow()
            right = service.sign_in(session, username="boss", password="correct horse battery")
            assert right.failure == "locked"
    finally:
        engine.dispose()


class _Outbox:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def send_code(self, *, phone: str, code: str, expires_at: object) -> None:
        self.sent.append(phone)


def test_two_code_requests_at_once_send_one_code(database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    try:
        with Session(engine) as session:
            debtor = Debtor(
                debtor_type=DebtorType.PERSON, name="张三", id_number="110101199001011234"
            )
            session.add(debtor)
            session.flush()
            service.create_user(
                session, username="d1", role=Role.DEBTOR, debtor_id=debtor.id, phone="13800001111"
            )
            session.commit()
        outbox = _Outbox()

        def request(session: Session) -> str:
            return service.request_debtor_code(session, phone="13800001111", notifier=outbox)

        assert sorted(at_once(engine, 3, request)) == ["limited", "limited", "sent"]
        assert outbox.sent == ["13800001111"]
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(DebtorOneTimeCode)) == 1
    finally:
        engine.dispose()
