"""The app factory: ``create_app(settings)`` wires the services, the security middleware, the
error handlers, one router per resource, the templates and the static files (our own, and the
front-end libraries npm installed)."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from patrol.console import errors
from patrol.console.routers import ROUTERS
from patrol.console.security import SecurityMiddleware
from patrol.console.services import Console
from patrol.console.settings import ConsoleSettings

STATIC = Path(__file__).parent / "static"
# the npm packages the pages load, each served from its dist folder under /vendor/<name>/
VENDOR = {
    "leaflet": "leaflet/dist",
    "leaflet-geoman": "@geoman-io/leaflet-geoman-free/dist",
}


def create_app(settings: ConsoleSettings, console: Console | None = None) -> FastAPI:
    console = console or Console(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):  # type: ignore[no-untyped-def]
        console.start()
        try:
            yield
        finally:
            console.stop()

    app = FastAPI(
        title="Gridpatrol console",
        description="Plan, fly, broadcast and review: the operator console's JSON API.",
        version="1",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.console = console
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for name, folder in VENDOR.items():
        path = settings.vendor_dir / folder
        if path.is_dir():
            app.mount(f"/vendor/{name}", StaticFiles(directory=path), name=f"vendor-{name}")
    app.add_middleware(
        SecurityMiddleware,
        accounts=console.accounts,
        max_body=lambda: console.site.current.max_upload_bytes,
        csp=lambda: console.site.csp,
    )
    return app
