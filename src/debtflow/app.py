"""The web app: JSON API under /api and server-rendered pages."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from debtflow import __version__
from debtflow.case import api as case_api
from debtflow.case import pages as case_pages
from debtflow.config import get_settings
from debtflow.web import errors
from debtflow.web import routes as web_routes
from debtflow.web.deps import DbSession
from debtflow.web.routing import RequestRoute, check_routes
from debtflow.web.slots import RequestSlots

STATIC = Path(__file__).parent / "web" / "static"
SWAGGER_UI = "5.32.6"  # static/vendor/README.md


def create_app() -> FastAPI:
    # the API's reference page is served from the app's own files (FastAPI's default loads
    # Swagger UI from a CDN: a blank page on a network without the internet)
    app = FastAPI(title="debtflow", version=__version__, docs_url=None, redoc_url=None)
    app.router.route_class = RequestRoute  # the app's own routes below

    errors.install(app)

    @app.get("/api/health", tags=["ops"])
    def health(session: DbSession) -> dict[str, str]:
        session.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__}

    @app.get("/api/docs", include_in_schema=False)
    def api_reference() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="debtflow API",
            swagger_js_url=f"/static/vendor/swagger-ui-{SWAGGER_UI}-bundle.js",
            swagger_css_url=f"/static/vendor/swagger-ui-{SWAGGER_UI}.css",
            swagger_favicon_url="data:,",
            swagger_ui_parameters={"validatorUrl": None},  # no call to validator.swagger.io
        )

    @app.get("/", include_in_schema=False)
    def index() -> RedirectResponse:
        return RedirectResponse("/cases")

    # Each domain router's routes go straight into the app's one list. include_router would
    # keep every router as a branch of its own, and FastAPI then matches a request through
    # each branch before the right one: about 0.3 ms of a worker's CPU per request against
    # 0.1 ms for the same routes in one flat list. A domain router's prefix and tags are
    # already on its routes and include_router adds none here, so the routes (and the
    # OpenAPI document) are the same either way.
    for router in (case_api.router, case_pages.router, *web_routes.ROUTERS):
        app.router.routes.extend(router.routes)
    check_routes(app.router.routes)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(RequestSlots, slots=get_settings().web_threads)
    return app
