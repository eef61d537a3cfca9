"""``debtflow serve``."""

from __future__ import annotations

import typer

from debtflow.cli.common import ready_engine


def serve_app(*, host: str, port: int, workers: int = 1) -> None:
    import uvicorn

    ready_engine()
    uvicorn.run(
        "debtflow.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
    )


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on"),
    port: int = typer.Option(8000, "--port", help="port to listen on"),
    workers: int = typer.Option(1, "--workers", help="worker processes"),
) -> None:
    """Serve the web app and the JSON API on an existing database."""
    serve_app(host=host, port=port, workers=workers)
