"""Engine, sessions and the declarative base shared by every model."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Generic, TypeVar, overload
from weakref import WeakKeyDictionary

import psycopg
from psycopg import Column
from psycopg.pq import ExecStatus
from psycopg.pq.abc import PGresult
from sqlalchemy import (
    DateTime,
    Engine,
    Executable,
    MetaData,
    Select,
    bindparam,
    create_engine,
    event,
    make_url,
    select,
)
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
    psycopg3 = make_url(url).get_driver_name() == "psycopg"
    connect_args = {"cursor_factory": LazilyDescribedCursor} if psycopg3 else {}
    return create_engine(url, echo=echo, pool_recycle=POOL_RECYCLE_S, connect_args=connect_args)


#: result statuses that carry rows (TUPLES_CHUNK: psycopg 3.2+, libpq 17's chunked mode)
_ROWS_STATUSES = frozenset(
    status
    for status in (
        ExecStatus.TUPLES_OK,
        ExecStatus.SINGLE_TUPLE,
        getattr(ExecStatus, "TUPLES_CHUNK", None),
    )
    if status is not None
)


class LazilyDescribedCursor(psycopg.Cursor[Any]):
    """psycopg's cursor, with ``description`` built only when it is read.

    psycopg builds a ``Column`` per result column (name decoded, type looked up) each time
    ``description`` is read, and SQLAlchemy reads it after every statement — but for a
    statement it has compiled and run before, only to see whether rows came back: the
    columns themselves come from the compiled statement's cached metadata. For the case
    page's nine statements that was about 190 ``Column`` objects per request, built and
    dropped unread."""

    @property
    def description(self) -> Sequence[Column] | None:  # type: ignore[override]
        result = self.pgresult
        if result and (result.nfields or result.status in _ROWS_STATUSES):
            return _Description(self, result)
        return None


class _Description(Sequence[Column]):
    """A result's ``Column`` list, made on first use (from that result, even when the
    cursor has moved on to another)."""

    __slots__ = ("_cursor", "_result", "_columns")

    def __init__(self, cursor: psycopg.Cursor[Any], result: PGresult) -> None:
        self._cursor = cursor
        self._result = result
        self._columns: list[Column] | None = None

    def _built(self) -> list[Column]:
        if self._columns is None:
            cursor = self._cursor
            if cursor.pgresult is not self._result:
                cursor = _ResultOf(cursor, self._result)  # type: ignore[assignment]
            self._columns = [Column(cursor, i) for i in range(self._result.nfields)]
        return self._columns

    def __len__(self) -> int:
        return self._result.nfields

    @overload
    def __getitem__(self, index: int) -> Column: ...

    @overload
    def __getitem__(self, index: slice) -> list[Column]: ...

    def __getitem__(self, index: int | slice) -> Column | list[Column]:
        return self._built()[index]

    def __iter__(self) -> Iterator[Column]:
        return iter(self._built())

    def __repr__(self) -> str:
        return repr(self._built())


class _ResultOf:
    """What ``Column`` reads of a cursor, for a result the cursor no longer holds: psycopg's
    ``Column.__init__`` reads ``pgresult``, ``_encoding`` and ``adapters`` (psycopg 3.1–3.3;
    tests/test_pg_cursor.py reads a kept description after the cursor moved on)."""

    def __init__(self, cursor: psycopg.Cursor[Any], result: PGresult) -> None:
        self.pgresult = result
        self._encoding = cursor._encoding
        self.adapters = cursor.adapters


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


StatementT = TypeVar("StatementT", bound=Executable)


class BuiltOnce(Generic[StatementT]):
    """A statement built once per SQL dialect and executed with bound parameters ever after.

    Building a SELECT object, generating its cache key and adapting the compiled statement's
    result columns to the new object cost more CPU than the database round trip on the hot
    request paths (the gate's contact-history union: 1.9 ms built per call against 0.7 ms
    reused; a token lookup 0.67 against 0.33 ms). A statement object that lives on keeps its
    memoised cache key and matches its compiled form exactly, so SQLAlchemy skips all three.
    Values go in as ``bindparam`` names; ``build`` gets the dialect name (``"postgresql"``,
    ``"sqlite"``) for the few statements that differ. Statements are immutable, so one
    object is safely shared by every thread.

        @BuiltOnce
        def _live_token(dialect: str) -> Select[tuple[User]]:
            return select(User).where(User.id == bindparam("user_id"))

        session.scalars(_live_token(session), {"user_id": 7})
    """

    def __init__(self, build: Callable[[str], StatementT]) -> None:
        self.build = build
        self._by_dialect: dict[str, StatementT] = {}
        self.__doc__ = build.__doc__

    def __call__(self, session: Session) -> StatementT:
        dialect = session.get_bind().dialect.name
        statement = self._by_dialect.get(dialect)
        if statement is None:
            statement = self._by_dialect[dialect] = self.build(dialect)
        return statement


ModelT = TypeVar("ModelT", bound=Base)
#: one ``SELECT … WHERE <primary key> = :ident`` per model; the same on every dialect
_BY_ID: dict[type[Base], Select[Any]] = {}


def get_by_id(session: Session, model: type[ModelT], ident: int) -> ModelT | None:
    """``session.get(model, ident)``, cheaper on a miss: an object this session already holds
    comes from its identity map without a statement, as with ``session.get``; otherwise one
    prebuilt ``SELECT`` (``session.get`` builds its load statement anew on every miss: 0.51
    against 0.36 ms per case read in a loop here)."""
    if session.identity_map.get(session.identity_key(model, ident)) is not None:
        return session.get(model, ident)
    statement = _BY_ID.get(model)
    if statement is None:
        primary_key = model.__mapper__.primary_key
        if len(primary_key) != 1:
            raise TypeError(f"{model.__name__} has a composite primary key")
        statement = _BY_ID[model] = select(model).where(primary_key[0] == bindparam("ident"))
    return session.scalars(statement, {"ident": ident}).one_or_none()
