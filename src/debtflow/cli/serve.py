"""``debtflow serve``."""

from __future__ import annotations

import typer

from debtflow.cli.common import fail, ready_engine

LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


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
        shares_connections,
    )

    if workers < 1:
        raise fail("--workers must be at least 1")
    if log_level not in LOG_LEVELS:
        raise fail(f"--log-level must be one of {', '.join(LOG_LEVELS)}")
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
