"""One pool thread per request: the sign-in check, the endpoint, the check of its answer and
the commit run one after another in a single thread.

FastAPI hands every synchronous dependency, the endpoint and the validation of the
endpoint's return value to the thread pool one at a time, and the session dependency
commits in a thread of its own (``debtflow.web.deps``): four thread hand-offs for a JSON
write, three for a page, each 0.1–0.2 ms of a worker's CPU (waking a thread, passing the
GIL and waking the event loop again) — as much as a database statement. ``RequestRoute``
runs a synchronous endpoint as one unit of work in one pool thread:

1. the dependencies marked ``in_request_thread`` (the sign-in checks, which read the
   database) are called there, with the values FastAPI resolved for them;
2. the endpoint;
3. its return value is validated against the route's response model, so an answer that
   cannot be sent is a server error *before* anything is committed (as when FastAPI
   validated inside the transaction);
4. the request's session is committed.

FastAPI then only awaits the unit of work; it validates the already validated value again on
the event loop (an instance of the model passes untouched) and serialises it. An exception
in any step leaves the transaction open, and the session dependency rolls it back as
before. Each request still holds at most one pool thread at a time, which the deadlock
argument of ``debtflow.web.slots`` needs."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, ParamSpec, TypeVar

from fastapi.exceptions import ResponseValidationError
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.routing import BaseRoute

P = ParamSpec("P")
T = TypeVar("T")


class _Deferred:
    """A dependency's call with the values FastAPI resolved for it, made later (once) in the
    request's thread."""

    __slots__ = ("call", "arguments", "_made", "_result")

    def __init__(self, call: Callable[..., Any], arguments: dict[str, Any]) -> None:
        self.call = call
        self.arguments = arguments
        self._made = False
        self._result: Any = None

    def __call__(self) -> Any:
        # FastAPI hands one dependency's value to every parameter that names it
        if not self._made:
            self._result = self.call(**self.arguments)
            self._made = True
        return self._result


def in_request_thread(
    *, first: Callable[..., None] | None = None
) -> Callable[[Callable[P, T]], Callable[P, Awaitable[T]]]:
    """Mark a synchronous dependency that reads the database to be called in the request's
    pool thread, right before the endpoint, instead of in a thread hand-off of its own.

    ``first`` (same parameters, no I/O) runs at once on the event loop, where FastAPI would
    have called the dependency: a sign-in check refuses an anonymous request there, before
    FastAPI reports invalid parameters (an anonymous caller gets 401 or the sign-in page,
    not a validation error, as before). Only an endpoint of a ``RequestRoute`` may take the
    marked dependency as a parameter (``create_app`` refuses any other use at start-up):
    FastAPI awaits the marked function, which only records the call; the route makes it."""

    def mark(dependency: Callable[P, T]) -> Callable[P, Awaitable[T]]:
        @functools.wraps(dependency)
        async def defer(*args: P.args, **kwargs: P.kwargs) -> T:
            if args:  # FastAPI passes dependencies their values by name
                raise TypeError(f"{dependency.__name__} takes keyword arguments only")
            if first is not None:
                first(**kwargs)
            return _Deferred(dependency, dict(kwargs))  # type: ignore[return-value]

        defer.__debtflow_in_request_thread__ = True  # type: ignore[attr-defined]
        return defer

    return mark


def is_deferred(call: object) -> bool:
    return bool(getattr(call, "__debtflow_in_request_thread__", False))


def _sessions(values: dict[str, Any]) -> Iterator[Session]:
    for value in values.values():
        if isinstance(value, Session):
            yield value
        elif isinstance(value, _Deferred):
            yield from _sessions(value.arguments)


class RequestRoute(APIRoute):
    """An API route whose synchronous endpoint runs as one unit of work in one pool thread
    (see the module's description). Every route of the app is one (``create_app`` checks)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        # a plain synchronous function; anything else (coroutine, generator, partial,
        # callable object) is left to FastAPI, and may not take in_request_thread values
        self.unit_of_work = inspect.isfunction(endpoint) and not (
            inspect.iscoroutinefunction(endpoint)
            or inspect.isgeneratorfunction(endpoint)
            or inspect.isasyncgenfunction(endpoint)
        )
        if self.unit_of_work:
            endpoint = self._unit_of_work(endpoint)
        super().__init__(path, endpoint, **kwargs)

    def _unit_of_work(self, endpoint: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
        def work(values: dict[str, Any]) -> Any:
            for name, value in values.items():
                if isinstance(value, _Deferred):
                    values[name] = value()
            answer = endpoint(**values)
            if self.response_field is not None and not isinstance(answer, Response):
                answer, errors = self.response_field.validate(answer, {}, loc=("response",))
                if errors:
                    raise ResponseValidationError(errors=errors, body=answer)
            for session in {id(s): s for s in _sessions(values)}.values():
                if session.in_transaction():
                    session.commit()
            return answer

        @functools.wraps(endpoint)
        async def run(**values: Any) -> Any:
            return await run_in_threadpool(work, values)

        return run


def check_routes(routes: list[BaseRoute]) -> None:
    """Refuse to start with an API route that is not a ``RequestRoute``, or with an
    ``in_request_thread`` dependency anywhere but as a parameter of a synchronous endpoint
    the route runs as a unit of work: anywhere else (a dependency of a dependency, a route's
    or router's ``dependencies=[...]``, an ``async def`` endpoint) it would never be made,
    and a sign-in check that is never made lets everyone in."""
    for route in routes:
        if not isinstance(route, APIRoute):
            continue
        if not isinstance(route, RequestRoute):
            raise RuntimeError(
                f"{route.path}: every API route must be a RequestRoute "
                "(APIRouter(route_class=RequestRoute))"
            )
        pending = [(dependant, 1) for dependant in route.dependant.dependencies]
        while pending:
            dependant, depth = pending.pop()
            if is_deferred(dependant.call):
                name = getattr(dependant.call, "__name__", dependant.call)
                if depth > 1 or dependant.name is None:
                    raise RuntimeError(
                        f"{route.path}: {name} runs in the request's thread and can only be "
                        "an endpoint's parameter"
                    )
                if not route.unit_of_work:
                    raise RuntimeError(
                        f"{route.path}: {name} runs in the request's thread: the endpoint "
                        "must be a plain synchronous function"
                    )
            pending.extend((sub, depth + 1) for sub in dependant.dependencies)
