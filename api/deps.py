"""Annotated dependency aliases shared by the routers (FastAPI's recommended style)."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.ratelimit import RateLimiter
from api.runtime import Runtime
from api.settings import Settings

_bearer = HTTPBearer(auto_error=False, description="ingest token (OUTAGE_RADAR_INGEST_TOKEN)")


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def get_limiter(request: Request) -> RateLimiter:
    return request.app.state.limiter


SettingsDep = Annotated[Settings, Depends(get_settings)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
LimiterDep = Annotated[RateLimiter, Depends(get_limiter)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def require_ingest_token(settings: SettingsDep, credentials: Credentials) -> None:
    """401 without a bearer token, 403 with a wrong one; open when no token is configured."""
    expected = settings.ingest_token
    if not expected:
        return
    if credentials is None:
        raise HTTPException(401, "bearer token required", headers={"WWW-Authenticate": "Bearer"})
    if not secrets.compare_digest(credentials.credentials.encode(), expected.encode()):
        raise HTTPException(403, "invalid token")


IngestAuth = Depends(require_ingest_token)
