"""``debtflow serve``."""

from __future__ import annotations

import typer

from debtflow.cli.common import fail, ready_engine

LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")
#: the highest TCP port; 0 asks the system for any free port
MAX_PORT = 65_535


def check_serving_options(*, port: int, workers: int = 1, log_level: str = "info") -> None:
    """Refuse (exit 2) what the server would otherwise take wrongly: a port out of range
    wraps round in the socket layer and listens somewhere nobody asked for."""
    if not 0 <= port <= MAX_PORT:
        raise fail(f"--port must be 1–{MAX_PORT} (or 0: any free port), not {port}", 2)
    if workers < 1:
        raise fail("--workers must be at least 1", 2)
    if log_level not in LOG_LEVELS:
        raise fail(f"--log-level must be one of {', '.join(LOG_LEVELS)}", 2)


def serve_app(
    *,
    host: str,
    port: int,
    workers: int = 1,
    log_level: str = "info",
    access_log: bool = True,
) -> None:
    """Serve until interrupted. More than one worker (POSIX): the workers share the
    connections, least connections first (``debtflow.web.workers``); otherwise uvicorn
    serves as usual."""
    import uvicorn

    from debtflow.web.workers import (
        APP,
        CannotListen,
        ServerOptions,
        WorkerPool,
        bind_listener,
        shares_connections,
    )

    check_serving_options(port=port, workers=workers, log_level=log_level)
    ready_engine()
    if workers > 1 and shares_connections():
        # the supervisor logs through uvicorn's loggers, set up as the workers set them up
        uvicorn.Config(APP, factory=True, log_level=log_level)
        options = ServerOptions(host=host, port=port, log_level=log_level, access_log=access_log)
        try:
            status = WorkerPool(options, workers=workers).run()
        except CannotListen as exc:
            raise fail(f"cannot listen on {host}:{port}: {exc}", 1) from None
        if status:
            raise typer.Exit(status)
        return
    if port:
        # a taken port is said the same way as with several workers (uvicorn would start
        # the app first, then log the bind error and exit 3); the probe is closed at once
        try:
            bind_listener(host, port, backlog=1).close()
        except OSError as exc:
            raise fail(f"cannot listen on {host}:{port}: {exc}", 1) from None
    uvicorn.run(
        APP,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=access_log,
    )


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on"),
    port: int = typer.Option(8000, "--port", help="port to listen on (0: any free port)"),
    workers: int = typer.Option(1, "--workers", help="worker processes"),
    log_level: str = typer.Option("info", "--log-level", help=", ".join(LOG_LEVELS)),
    access_log: bool = typer.Option(True, "--access-log/--no-access-log", help="log every request"),
) -> None:
    """Serve the web app and the JSON API on an existing database."""
    serve_app(host=host, port=port, workers=workers, log_level=log_level, access_log=access_log)
