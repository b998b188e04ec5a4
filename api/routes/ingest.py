"""POST /reports and /error-rates: ingest one event or a JSON list (bearer token if configured)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Body, HTTPException

from api.deps import IngestAuth, LimiterDep, RuntimeDep, SettingsDep
from api.runtime import NoIngestPath, Runtime
from api.schemas import Accepted, ErrorRateIn, Problem, ReportIn
from streams.records import Record

router = APIRouter(tags=["ingest"], dependencies=[IngestAuth])
ERRORS = {
    400: {"model": Problem, "description": "body is not UTF-8 JSON"},
    401: {"model": Problem, "description": "bearer token required"},
    403: {"model": Problem, "description": "invalid token"},
    413: {"model": Problem, "description": "body too large or too many events"},
    429: {"model": Problem, "description": "a reporter sends too fast"},
    503: {"model": Problem, "description": "this instance is read-only"},
}


def _as_list(body: ReportIn | ErrorRateIn | list, max_batch: int) -> list:
    events = body if isinstance(body, list) else [body]
    if len(events) > max_batch:
        raise HTTPException(413, f"at most {max_batch} events per request")
    return events


def _record(topic: str, event: ReportIn | ErrorRateIn) -> Record:
    """The event as the JSON message the pipeline decodes (ts as epoch seconds)."""
    data = event.model_dump(mode="json", exclude_none=True) | {"ts": event.ts.timestamp()}
    return Record(topic=topic, value=json.dumps(data).encode(), key=event.service.encode())


@router.post("/reports", status_code=202, response_model=Accepted, responses=ERRORS,
             summary="Ingest one report event or a list of them")
def post_reports(
    body: Annotated[ReportIn | list[ReportIn], Body()],
    rt: RuntimeDep, settings: SettingsDep, limiter: LimiterDep,
) -> Accepted:
    events = _as_list(body, settings.max_batch)
    wait = limiter.try_acquire(e.reporter for e in events if e.reporter)
    if wait > 0:
        raise HTTPException(429, "too many reports from one reporter",
                            headers={"Retry-After": str(max(1, round(wait)))})
    _hand_over(rt, [_record("reports", e) for e in events])
    return Accepted(accepted=len(events))


@router.post("/error-rates", status_code=202, response_model=Accepted, responses=ERRORS,
             summary="Ingest one error-rate sample or a list of them")
def post_error_rates(
    body: Annotated[ErrorRateIn | list[ErrorRateIn], Body()],
    rt: RuntimeDep, settings: SettingsDep,
) -> Accepted:
    events = _as_list(body, settings.max_batch)
    _hand_over(rt, [_record("error-rates", e) for e in events])
    return Accepted(accepted=len(events))


def _hand_over(rt: Runtime, records: list[Record]) -> None:
    try:
        rt.ingest(records)
    except NoIngestPath as exc:
        raise HTTPException(503, str(exc)) from None
