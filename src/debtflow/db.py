"""Engine, sessions and the declarative base shared by every model."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from debtflow.config import get_settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; stored as UTC on every database.

    A naive datetime is refused: the platform never guesses a time zone.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: times must carry a time zone")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


#: seconds after which a pooled PostgreSQL connection is closed instead of reused
POOL_RECYCLE_S = 1800


def make_engine(url: str, *, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # let SQLAlchemy, not the sqlite3 module, decide when transactions begin, so
            # SAVEPOINTs and rollbacks behave as on PostgreSQL
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection: Any) -> None:
            # execution option sqlite_begin="IMMEDIATE": take the write lock at BEGIN, for a
            # transaction that reads and then writes (see ``immediate``)
            mode = connection.get_execution_options().get("sqlite_begin", "")
            connection.exec_driver_sql(f"BEGIN {mode}".strip())

        return engine
    # No pool_pre_ping: it costs a round trip before every request's first statement. A
    # pooled connection is instead retired after POOL_RECYCLE_S (before server or firewall
    # idle timeouts close it), and a connection found dead anyway (server restart) fails the
    # one request that used it: SQLAlchemy recognises the disconnect error, discards that
    # connection and every other connection of the pool opened before it, and the next
    # request connects afresh.
    return create_engine(url, echo=echo, pool_recycle=POOL_RECYCLE_S)


@lru_cache
def get_engine() -> Engine:
    settings = get_settings()
    return make_engine(settings.database_url, echo=settings.sql_echo)


def immediate(session: Session) -> None:
    """Make the session's transaction a writer from its first statement. SQLite keeps one
    snapshot per transaction, so a transaction that read before another writer committed
    cannot write afterwards ("database is locked"); BEGIN IMMEDIATE waits for the writer
    instead. Call it before the session's first statement; PostgreSQL needs nothing."""
    if session.get_bind().dialect.name == "sqlite":
        session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})


#: one sessionmaker per engine: a sessionmaker defines a Session subclass, and SQLAlchemy
#: builds event dispatch for each new class, so making one per request cost ~0.3 ms of CPU
#: and grew the class registry for the life of the process
_SESSIONMAKERS: WeakKeyDictionary[Engine, sessionmaker[Session]] = WeakKeyDictionary()


def session_factory(engine: Engine | None = None) -> sessionmaker[Session]:
    bind = engine or get_engine()
    maker = _SESSIONMAKERS.get(bind)
    if maker is None:
        maker = _SESSIONMAKERS[bind] = sessionmaker(bind=bind, expire_on_commit=False)
    return maker


@contextmanager
def unit_of_work(engine: Engine | None = None) -> Iterator[Session]:
    """One transaction: commits once when the block succeeds, rolls back when it raises."""
    session = session_factory(engine)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
