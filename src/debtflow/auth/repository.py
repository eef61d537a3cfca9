"""All SQL of users, sessions, API tokens and one-time codes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from debtflow.db import BuiltOnce
from debtflow.models import ApiToken, Collector, Debtor, DebtorOneTimeCode, User, WebSession
from debtflow.models.debtor import personal_data_index


def by_username(session: Session, *, username: str) -> User | None:
    return session.scalars(select(User).where(User.username == username)).one_or_none()


def lock_by_username(session: Session, *, username: str) -> User | None:
    """The user, its row locked until the transaction ends: parallel sign-ins of one user
    count their failures one after the other (PostgreSQL; SQLite writers are serial)."""
    stmt = select(User).where(User.username == username).with_for_update()
    return session.scalars(stmt).one_or_none()


def by_phone(session: Session, *, phone: str, lock: bool = False) -> User | None:
    stmt = select(User).where(User.phone_index == personal_data_index(phone))
    return session.scalars(stmt.with_for_update() if lock else stmt).one_or_none()


def by_id(session: Session, *, user_id: int) -> User | None:
    return session.get(User, user_id)


def all_users(session: Session) -> Sequence[User]:
    return session.scalars(select(User).order_by(User.role, User.username)).all()


def collector_by_code(session: Session, *, code: str) -> Collector | None:
    return session.scalars(select(Collector).where(Collector.code == code)).one_or_none()


def collector_exists(session: Session, *, collector_id: int) -> bool:
    stmt = select(Collector.id).where(Collector.id == collector_id)
    return session.scalar(stmt) is not None


def debtor_exists(session: Session, *, debtor_id: int) -> bool:
    return session.scalar(select(Debtor.id).where(Debtor.id == debtor_id)) is not None


def add(session: Session, row: User | WebSession | ApiToken | DebtorOneTimeCode) -> None:
    session.add(row)


def live_session(session: Session, *, token_hash: str, now: datetime) -> WebSession | None:
    stmt = select(WebSession).where(
        WebSession.token_hash == token_hash,
        WebSession.ended_at.is_(None),
        WebSession.expires_at > now,
    )
    return session.scalars(stmt).one_or_none()


@BuiltOnce
def _live_session_and_user(dialect: str) -> Select[tuple[WebSession, User]]:
    return (
        select(WebSession, User)
        .join(User, User.id == WebSession.user_id)
        .where(
            WebSession.token_hash == bindparam("token_hash"),
            WebSession.ended_at.is_(None),
            WebSession.expires_at > bindparam("now"),
            User.active.is_(True),
        )
    )


def live_session_and_user(
    session: Session, *, token_hash: str, now: datetime
) -> tuple[WebSession, User] | None:
    """The live browser session of ``token_hash`` and its active user, in one query on the
    unique token hash (every page request asks this)."""
    row = session.execute(
        _live_session_and_user(session), {"token_hash": token_hash, "now": now}
    ).one_or_none()
    return None if row is None else (row[0], row[1])


@BuiltOnce
def _live_token_user(dialect: str) -> Select[tuple[User]]:
    return (
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(
            ApiToken.token_hash == bindparam("token_hash"),
            ApiToken.revoked_at.is_(None),
            ApiToken.expires_at > bindparam("now"),
            User.active.is_(True),
        )
    )


def live_token_user(session: Session, *, token_hash: str, now: datetime) -> User | None:
    """The active user of the live API token ``token_hash``, in one query on the unique
    token hash (every bearer request asks this)."""
    return session.scalars(
        _live_token_user(session), {"token_hash": token_hash, "now": now}
    ).one_or_none()


def codes_sent_since(session: Session, *, phone: str, since: datetime) -> int:
    stmt = select(func.count()).where(
        DebtorOneTimeCode.phone_index == personal_data_index(phone),
        DebtorOneTimeCode.sent_at > since,
    )
    return int(session.scalar(stmt) or 0)


def latest_open_code(session: Session, *, phone: str, now: datetime) -> DebtorOneTimeCode | None:
    stmt = (
        select(DebtorOneTimeCode)
        .where(
            DebtorOneTimeCode.phone_index == personal_data_index(phone),
            DebtorOneTimeCode.used_at.is_(None),
            DebtorOneTimeCode.expires_at > now,
        )
        .order_by(DebtorOneTimeCode.sent_at.desc(), DebtorOneTimeCode.id.desc())
        .limit(1)
        .with_for_update()
    )
    return session.scalars(stmt).first()
