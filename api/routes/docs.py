"""GET /docs and /redoc: Swagger UI and ReDoc from the assets bundled in the fastapi-offline
wheel (no CDN), so the OpenAPI pages work on offline machines like the dashboard does."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

router = APIRouter(include_in_schema=False)
ASSETS = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon.png", "redoc.standalone.js")


def _asset(name: str) -> Path | None:
    path = Path(str(resources.files("fastapi_offline") / "static" / name))
    return path if path.is_file() else None


@router.get("/docs")
def docs() -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="/openapi.json", title="outage-radar API",
                               swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                               swagger_css_url="/docs-assets/swagger-ui.css",
                               swagger_favicon_url="/docs-assets/favicon.png")


@router.get("/redoc")
def redoc() -> HTMLResponse:
    return get_redoc_html(openapi_url="/openapi.json", title="outage-radar API",
                          redoc_js_url="/docs-assets/redoc.standalone.js",
                          redoc_favicon_url="/docs-assets/favicon.png", with_google_fonts=False)


@router.get("/docs-assets/{name}")
def asset(name: str) -> FileResponse:
    path = _asset(name) if name in ASSETS else None
    if path is None:
        raise HTTPException(404, "no such asset")
    return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})
