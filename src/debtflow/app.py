"""The web app: JSON API under /api and server-rendered pages."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from debtflow import __version__
from debtflow.case import api as case_api
from debtflow.case import pages as case_pages
from debtflow.core.errors import DomainError
from debtflow.web import routes as web_routes
from debtflow.web.deps import DbSession

STATIC = Path(__file__).parent / "web" / "static"


def create_app() -> FastAPI:
    app = FastAPI(title="debtflow", version=__version__, docs_url="/api/docs")

    @app.exception_handler(DomainError)
    def _domain_error(_request: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse(
            status_code=exc.status_code, content={"error": exc.code, "detail": exc.message}
        )

    @app.get("/api/health", tags=["ops"])
    def health(session: DbSession) -> dict[str, str]:
        session.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__}

    @app.get("/", include_in_schema=False)
    def index() -> RedirectResponse:
        return RedirectResponse("/cases")

    app.include_router(case_api.router)
    app.include_router(case_pages.router)
    app.include_router(web_routes.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
