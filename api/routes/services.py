"""GET /services, /services/{id}, /services/{id}/series: status and series, read-only."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from api.deps import RuntimeDep
from api.runtime import Runtime
from api.schemas import Problem, SeriesOut, ServiceOut
from api.views import epoch, point_out, service_out, when

router = APIRouter(prefix="/services", tags=["services"])
DAY = 86_400.0
MAX_RANGE = 31 * DAY
NOT_FOUND = {404: {"model": Problem, "description": "unknown service"}}


def _names(rt: Runtime) -> list[str]:
    names = {row["service"] for row in rt.store.services()}
    return sorted(names | set(rt.statuses()))


def _open_counts(rt: Runtime) -> dict[str, int]:
    counts: dict[str, int] = {}
    for inc in rt.store.incidents():
        if inc["status"] != "resolved":
            counts[inc["service"]] = counts.get(inc["service"], 0) + 1
    return counts


def _one(rt: Runtime, name: str, counts: dict[str, int]) -> ServiceOut:
    return service_out(name, rt.statuses().get(name), rt.store.service(name),
                       counts.get(name, 0))


@router.get("", response_model=list[ServiceOut], summary="All services with their latest status")
def list_services(rt: RuntimeDep) -> list[ServiceOut]:
    counts = _open_counts(rt)
    statuses = rt.statuses()
    rows = {row["service"]: row for row in rt.store.services()}
    return [service_out(n, statuses.get(n), rows.get(n), counts.get(n, 0)) for n in _names(rt)]


@router.get("/{service_id}", response_model=ServiceOut, responses=NOT_FOUND,
            summary="Current status of one service: expected vs observed now")
def get_service(service_id: str, rt: RuntimeDep) -> ServiceOut:
    if service_id not in _names(rt):
        raise HTTPException(404, f"unknown service {service_id!r}")
    return _one(rt, service_id, _open_counts(rt))


@router.get("/{service_id}/series", response_model=SeriesOut,
            responses={**NOT_FOUND, 400: {"model": Problem, "description": "bad time range"}},
            summary="Buckets with observed count, expected value and upper band")
def get_series(
    service_id: str, rt: RuntimeDep,
    since: Annotated[datetime | None, Query(description="ISO-8601 or epoch seconds")] = None,
    until: Annotated[datetime | None, Query(description="default: the latest bucket")] = None,
) -> SeriesOut:
    if service_id not in _names(rt):
        raise HTTPException(404, f"unknown service {service_id!r}")
    hi = epoch(until) if until is not None else _latest(rt, service_id)
    lo = epoch(since) if since is not None else (None if hi is None else hi - DAY)
    if lo is not None and hi is not None and not 0 <= hi - lo <= MAX_RANGE:
        raise HTTPException(400, "need since <= until and a range of at most 31 days")
    rows = rt.store.series(service_id, lo, hi)
    return SeriesOut(service=service_id, since=when(lo), until=when(hi),
                     points=[point_out(r) for r in rows])


def _latest(rt: Runtime, name: str) -> float | None:
    row = rt.store.service(name) or {}
    return row.get("ts")
