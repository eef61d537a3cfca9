"""At most as many requests inside the app as there are threads to run them.

FastAPI runs a synchronous endpoint in a thread of anyio's default pool, and then — still
inside the request's transaction, before the session dependency commits — validates the
endpoint's return value in *another* pool thread. (The app's own routes no longer do:
``debtflow.web.routing.RequestRoute`` commits in the endpoint's thread. The limit stays, for
any other route and for the tail latency below.) A request that holds a database lock
(a gate decision and a contact log take their debtor's row; an evidence append made in the
request, the evidence log's state row) therefore needs a free pool thread to ever commit.
When the pool's threads are all taken by requests waiting for that very lock, nothing moves
again. Reproduced with the pool cut to 3 threads and 8 concurrent clients on one locked row;
by the same mechanism, anyio's default 40 threads would hang a worker that 41 requests
locking one row reach at once (not run at that size).

``RequestSlots`` admits at most ``web_threads`` requests into the app per worker process and
gives the default thread pool exactly that many threads. Each admitted request uses at most
one pool thread at a time (dependencies, endpoint and validation run one after another), so
when one waits for a thread the others hold at most ``web_threads - 1``: a thread is always
free. Requests beyond the limit wait here, before any session or lock exists."""

from __future__ import annotations

import asyncio
from weakref import WeakKeyDictionary

from anyio import to_thread
from starlette.types import ASGIApp, Receive, Scope, Send


class RequestSlots:
    """Pure ASGI middleware: ``slots`` HTTP requests in the app at once per event loop (a
    uvicorn worker process runs one)."""

    def __init__(self, app: ASGIApp, *, slots: int) -> None:
        if slots < 1:
            raise ValueError("a web worker needs at least one request slot")
        self.app = app
        self.slots = slots
        self._by_loop: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            WeakKeyDictionary()
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        semaphore = self._by_loop.get(loop)
        if semaphore is None:
            # the loop's default thread pool gets exactly as many threads as there are slots
            # (never fewer, or the guarantee above is gone)
            to_thread.current_default_thread_limiter().total_tokens = self.slots
            semaphore = self._by_loop[loop] = asyncio.Semaphore(self.slots)
        async with semaphore:
            await self.app(scope, receive, send)
