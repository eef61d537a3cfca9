"""One transaction per request (``debtflow.web.deps.db_session``), on SQLite and PostgreSQL:
what a request wrote is committed before its response when it succeeds and is gone
entirely when it fails — a domain error or an unexpected fault — and the sessionmaker is
made once per engine, not once per request."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from debtflow.core.errors import Conflict, DomainError
from debtflow.db import make_engine, session_factory
from debtflow.web import deps
from debtflow.web.deps import DbSession


@pytest.fixture
def probe_app(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE request_probe (label VARCHAR(20) NOT NULL)"))
    monkeypatch.setattr(deps, "session_factory", lambda: session_factory(engine))
    app = FastAPI()

    @app.exception_handler(DomainError)
    def _domain_error(_request: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse(status_code=exc.status_code, content={"error": exc.code})

    @app.post("/probe/{label}")
    def write(label: str, session: DbSession) -> dict[str, str]:
        session.execute(text("INSERT INTO request_probe (label) VALUES (:label)"), {"label": label})
        session.flush()
        if label == "conflict":
            raise Conflict("refused after writing")
        if label == "crash":
            raise RuntimeError("an unexpected fault after writing")
        return {"written": label}

    @app.get("/probe")
    def read(session: DbSession) -> list[str]:
        rows = session.execute(text("SELECT label FROM request_probe ORDER BY label"))
        return [row[0] for row in rows]

    try:
        yield TestClient(app, raise_server_exceptions=False)
    finally:
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE request_probe"))


def test_a_request_commits_what_it_wrote_before_answering(probe_app: TestClient):
    assert probe_app.post("/probe/kept").status_code == 200
    # a new request, a new session: it sees the first one's write
    assert probe_app.get("/probe").json() == ["kept"]


def test_a_failed_request_leaves_nothing_written(probe_app: TestClient):
    assert probe_app.post("/probe/conflict").status_code == 409
    assert probe_app.post("/probe/crash").status_code == 500
    assert probe_app.post("/probe/kept").status_code == 200
    assert probe_app.get("/probe").json() == ["kept"]


def test_one_sessionmaker_per_engine(engine: Engine, tmp_path):
    # a sessionmaker defines a Session subclass; one per request grew the process's
    # classes without bound and cost CPU on every request
    maker = session_factory(engine)
    assert isinstance(maker, sessionmaker)
    assert session_factory(engine) is maker
    other = make_engine(f"sqlite:///{tmp_path}/other.db")
    try:
        assert session_factory(other) is not maker
        with session_factory(other)() as session:
            assert isinstance(session, Session)
            assert session.get_bind() is other
    finally:
        other.dispose()
