"""GET / (the dashboard page) and /static/plotly.min.js from the installed plotly wheel (no CDN)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).resolve().parent.parent / "static"


def plotly_js() -> Path | None:
    """plotly.min.js as shipped in the plotly package's package_data, if installed."""
    path = Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))
    return path if path.is_file() else None


@router.get("/")
def index() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html")


@router.get("/static/plotly.min.js")
def plotly() -> FileResponse:
    path = plotly_js()
    if path is None:
        raise HTTPException(404, "plotly is not installed")
    return FileResponse(path, media_type="text/javascript",
                        headers={"Cache-Control": "public, max-age=86400"})
