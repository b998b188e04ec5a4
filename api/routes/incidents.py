"""GET /incidents and /incidents/{id}: incidents with their explanations."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query

from api.deps import RuntimeDep
from api.runtime import Runtime
from api.schemas import IncidentOut, Problem
from api.views import epoch, incident_out, when

router = APIRouter(prefix="/incidents", tags=["incidents"])


@router.get("", response_model=list[IncidentOut], summary="Incidents, newest first (by start)")
def list_incidents(
    rt: RuntimeDep,
    status: Annotated[Literal["open", "update", "resolved", "active"] | None,
                      Query(description="latest status; 'active' = not resolved")] = None,
    service: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[IncidentOut]:
    rows = rt.store.incidents(service=service)
    if status == "active":
        rows = [r for r in rows if r["status"] != "resolved"]
    elif status is not None:
        rows = [r for r in rows if r["status"] == status]
    return [_incident(rt, rt.store.incident(r["incident_id"]) or r) for r in rows[:limit]]


@router.get("/{incident_id}", response_model=IncidentOut,
            responses={404: {"model": Problem, "description": "unknown incident"}},
            summary="One incident with the history of its alerts")
def get_incident(incident_id: str, rt: RuntimeDep) -> IncidentOut:
    row = rt.store.incident(incident_id)
    if row is None:
        raise HTTPException(404, f"unknown incident {incident_id!r}")
    return _incident(rt, row, with_history=True)


def _incident(rt: Runtime, row: dict, with_history: bool = False) -> IncidentOut:
    """The incident with its peak taken from the closed buckets it spans."""
    lo, hi = epoch(when(row["started_at"])), epoch(when(row.get("resolved_at")))
    buckets = rt.store.series(row["service"], lo, hi)
    return incident_out(row, row.get("history", []), buckets, with_history)
