"""One transaction per request (``debtflow.web.deps.db_session``), on SQLite and PostgreSQL:
what a request wrote is committed before its response when it succeeds and is gone
entirely when it fails — a domain error, an unexpected fault or an answer that does not
match the response model — and the sessionmaker is made once per engine, not once per
request. The app's routes (``debtflow.web.routing.RequestRoute``) run the sign-in check,
the endpoint and the commit in one pool thread; FastAPI's plain route keeps the same
transaction guarantees (the session dependency commits)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Annotated, Any

import anyio.to_thread
import pytest
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from debtflow.core.errors import Conflict, DomainError
from debtflow.db import make_engine, session_factory
from debtflow.web import deps
from debtflow.web.deps import DbSession
from debtflow.web.routing import RequestRoute, check_routes, in_request_thread

#: where each step of the last request ran: {"caller": thread id, "endpoint": ..., ...}
THREADS: dict[str, int] = {}


@in_request_thread()
def probe_caller(request: Request, session: DbSession) -> str:
    """Like the sign-in checks: reads the database, may refuse the request."""
    THREADS["caller"] = threading.get_ident()
    session.execute(text("SELECT 1"))
    caller = request.headers.get("X-Caller", "")
    if caller == "nobody":
        raise DomainError("who are you?")
    return caller


def needs_caller(caller: Annotated[str, Depends(probe_caller)]) -> str:
    """A dependency of a dependency: cannot take ``probe_caller`` (the app refuses it)."""
    return caller


@pytest.fixture(params=[RequestRoute, APIRoute], ids=["request-route", "plain-route"])
def probe_app(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[TestClient]:
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE request_probe (label VARCHAR(20) NOT NULL)"))
    monkeypatch.setattr(deps, "session_factory", lambda: session_factory(engine))
    app = FastAPI()
    app.router.route_class = request.param

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

    @app.post("/probe/{label}/counted")
    def write_counted(label: str, session: DbSession) -> dict[str, int]:
        session.execute(text("INSERT INTO request_probe (label) VALUES (:label)"), {"label": label})
        # an answer the response model refuses: a server fault, found before the commit
        return {"written": 1} if label != "wrong" else {"written": label}  # type: ignore[dict-item]

    @app.get("/probe")
    def read(session: DbSession) -> list[str]:
        rows = session.execute(text("SELECT label FROM request_probe ORDER BY label"))
        return [row[0] for row in rows]

    try:
        yield TestClient(app, raise_server_exceptions=False)
    finally:
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE request_probe"))


@pytest.fixture
def threads_app(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """A RequestRoute app that records the thread of each step and counts hand-offs."""
    monkeypatch.setattr(deps, "session_factory", lambda: session_factory(engine))
    real_run_sync = anyio.to_thread.run_sync
    hand_offs: list[str] = []

    async def counted(function: Any, *args: Any, **kwargs: Any) -> Any:
        hand_offs.append(getattr(function, "__name__", repr(function)))
        return await real_run_sync(function, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    router = APIRouter(route_class=RequestRoute)

    @router.post("/probe")
    def probe(session: DbSession, caller: Annotated[str, Depends(probe_caller)]) -> dict[str, str]:
        THREADS["endpoint"] = threading.get_ident()
        session.execute(text("SELECT 1"))
        return {"caller": caller}

    app = FastAPI()
    app.router.routes.extend(router.routes)

    @app.exception_handler(DomainError)
    async def _domain_error(_request: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse(status_code=exc.status_code, content={"error": exc.code})

    def on_commit(_session: Session) -> None:
        THREADS["commit"] = threading.get_ident()

    def on_rollback(_session: Session) -> None:
        THREADS["rollback"] = threading.get_ident()

    event.listen(Session, "after_commit", on_commit)
    event.listen(Session, "after_rollback", on_rollback)
    try:
        client = TestClient(app, raise_server_exceptions=False)
        client.hand_offs = hand_offs  # type: ignore[attr-defined]
        yield client
    finally:
        event.remove(Session, "after_commit", on_commit)
        event.remove(Session, "after_rollback", on_rollback)
        THREADS.clear()


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


def test_an_answer_the_response_model_refuses_leaves_nothing_written(probe_app: TestClient):
    assert probe_app.post("/probe/wrong/counted").status_code == 500
    assert probe_app.post("/probe/right/counted").json() == {"written": 1}
    assert probe_app.get("/probe").json() == ["right"]


def test_sign_in_check_endpoint_and_commit_share_one_pool_thread(
    threads_app: TestClient, engine: Engine
):
    answer = threads_app.post("/probe", headers={"X-Caller": "agent1"})
    assert answer.status_code == 200
    assert answer.json() == {"caller": "agent1"}
    # one hand-off for the whole unit of work (FastAPI would make three: the caller, the
    # endpoint and the validation of its answer, and the session dependency a fourth); on
    # SQLite a write first waits for the write lock outside the pool (BEGIN IMMEDIATE)
    first = ["immediate"] if engine.dialect.name == "sqlite" else []
    hand_offs = threads_app.hand_offs  # type: ignore[attr-defined]
    assert hand_offs[: len(first)] == first
    assert len(hand_offs) == len(first) + 1
    # (anyio reuses idle threads, so equal ids alone would not show one hand-off: the count
    # above does; these show the order of the work stayed in one thread)
    assert THREADS["caller"] == THREADS["endpoint"] == THREADS["commit"]
    assert THREADS["endpoint"] != threading.get_ident()  # not the test's, not the loop's


def test_a_refused_caller_is_rolled_back_outside_the_pool(threads_app: TestClient, engine: Engine):
    answer = threads_app.post("/probe", headers={"X-Caller": "nobody"})
    assert answer.status_code == 400
    assert "endpoint" not in THREADS and "commit" not in THREADS
    # the unit of work, then the rollback in a thread of its own (never waiting for a pool
    # thread while it may hold locks: debtflow.web.deps._outside_the_pool)
    first = ["immediate"] if engine.dialect.name == "sqlite" else []
    hand_offs = threads_app.hand_offs  # type: ignore[attr-defined]
    assert len(hand_offs) == len(first) + 2
    assert hand_offs[-1] == "_rollback_and_close"
    assert "rollback" in THREADS


def _routes(endpoint: Any, router: APIRouter, **route: Any) -> list[Any]:
    router.add_api_route("/probe", endpoint, **route)
    return router.routes


def _takes_caller(caller: Annotated[str, Depends(probe_caller)]) -> str:
    return caller


def _takes_needs_caller(caller: Annotated[str, Depends(needs_caller)]) -> str:
    return caller


def _takes_nothing() -> str:
    return "secret"


async def _takes_caller_async(caller: Annotated[str, Depends(probe_caller)]) -> str:
    return caller


def test_the_app_refuses_routes_that_would_get_an_unmade_dependency():
    request_route = {"route_class": RequestRoute}
    refused = [
        # a plain FastAPI route would hand the endpoint the unmade check
        (_routes(_takes_caller, APIRouter()), "must be a RequestRoute"),
        # below another dependency
        (_routes(_takes_needs_caller, APIRouter(**request_route)), "an endpoint's parameter"),
        # a route's or a router's own dependencies: the value reaches no endpoint, so the
        # check would never be made and every caller let in
        (
            _routes(
                _takes_nothing, APIRouter(**request_route), dependencies=[Depends(probe_caller)]
            ),
            "an endpoint's parameter",
        ),
        (
            _routes(
                _takes_nothing,
                APIRouter(dependencies=[Depends(probe_caller)], **request_route),
            ),
            "an endpoint's parameter",
        ),
        # an async endpoint is not run as a unit of work
        (_routes(_takes_caller_async, APIRouter(**request_route)), "plain synchronous function"),
    ]
    for routes, reason in refused:
        with pytest.raises(RuntimeError, match=reason):
            check_routes(routes)
    check_routes(_routes(_takes_caller, APIRouter(**request_route)))


def test_every_route_of_the_app_is_a_request_route():
    from debtflow.app import create_app

    routes = [r for r in create_app().router.routes if isinstance(r, APIRoute)]
    assert len(routes) > 50
    assert all(isinstance(r, RequestRoute) for r in routes)
