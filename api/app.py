"""create_app: the FastAPI application (routes, middleware, lifespan) around a Runtime."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Protocol

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from api.middleware import BodySizeLimit, RequestMetrics, SecurityHeaders
from api.ratelimit import RateLimiter
from api.routes import alerts, dashboard, docs, health, incidents, ingest, metrics, services
from api.runtime import Runtime
from api.settings import Settings
from api.telemetry import build_registry

ROUTERS = (health.router, metrics.router, services.router, incidents.router, alerts.router,
           ingest.router, dashboard.router, docs.router)


class Background(Protocol):
    """Something the app starts with itself and stops on shutdown (pipeline feeder, worker)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


def create_app(settings: Settings | None = None, runtime: Runtime | None = None,
               background: Sequence[Background] = ()) -> FastAPI:
    """The app for `runtime` (default: an in-memory store and inline pipeline)."""
    settings = settings or Settings()
    if runtime is None:
        from api.wiring import memory_runtime

        runtime = memory_runtime(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        for item in background:
            item.start()
        try:
            yield
        finally:
            for item in reversed(background):
                item.stop()

    app = FastAPI(title="outage-radar", version="0.1.0", lifespan=lifespan,
                  docs_url=None, redoc_url=None,  # served from local assets by routes/docs.py
                  description="Detects service outages from user reports and error rates.")
    app.state.settings, app.state.runtime = settings, runtime
    app.state.limiter = RateLimiter(settings.reporter_rate_per_minute, settings.reporter_burst)
    app.state.registry, requests = build_registry(runtime)
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=dashboard.STATIC), name="static")
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    _add_middleware(app, settings, requests)
    return app


def _add_middleware(app: FastAPI, settings: Settings, requests: object) -> None:
    """Outermost last: metrics see every answer, including 413s from the size limit."""
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins,
                           allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"])
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestMetrics, counter=requests)


async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    """422 naming each bad field; the offending input is not echoed (it may hold a reporter)."""
    errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
              for e in exc.errors()]
    return JSONResponse({"detail": errors}, status_code=422)
