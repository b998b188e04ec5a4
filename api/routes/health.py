"""GET /healthz: liveness plus a one-line summary."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import RuntimeDep
from api.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="Liveness")
def healthz(rt: RuntimeDep) -> Health:
    return Health(status="ok", services=len(rt.store.services()), mode=rt.mode)
