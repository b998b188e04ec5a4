"""GET /alerts/stream: every new alert as a server-sent event (text/event-stream).

The stream ends when the client disconnects, or early when the client asks for it with
`limit` (events) or `timeout` (seconds), which keeps tests and scripts from hanging.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from api.deps import RuntimeDep, SettingsDep
from api.hub import AlertHub
from api.views import alert_out

router = APIRouter(prefix="/alerts", tags=["alerts"])
SSE = {200: {"content": {"text/event-stream": {}},
             "description": "`event: alert` messages whose data is a DESIGN.md alert"}}


def format_event(alert: dict[str, Any]) -> str:
    """One SSE message: the alert (DESIGN.md fields only) as JSON, its alert_id as event id."""
    data = alert_out(alert).model_dump(mode="json")
    return f"event: alert\nid: {data['alert_id']}\ndata: {json.dumps(data)}\n\n"


@router.get("/stream", response_class=StreamingResponse, responses=SSE,
            summary="Server-sent events: one `alert` event per new alert")
async def stream_alerts(
    request: Request, rt: RuntimeDep, settings: SettingsDep,
    backlog: Annotated[int, Query(ge=0, le=200, description="recent alerts sent first")] = 0,
    limit: Annotated[int | None, Query(ge=1, le=100_000, description="end after N")] = None,
    timeout: Annotated[float | None, Query(gt=0, le=86_400, description="end after s")] = None,
    last_event_id: Annotated[str | None, Header(max_length=100, description="resume after")]
    = None,
) -> StreamingResponse:
    hub = rt.hub

    def first() -> list[dict[str, Any]]:
        return hub.since(last_event_id) if last_event_id else hub.recent(backlog)

    events = _events(request, hub, first, limit, timeout, settings.sse_heartbeat_seconds)
    return StreamingResponse(events, media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


async def _events(request: Request, hub: AlertHub, first: Callable[[], list[dict[str, Any]]],
                  limit: int | None, timeout: float | None,
                  heartbeat: float) -> AsyncIterator[str]:
    """Missed or backlog alerts first, then live ones; comments as heartbeats; stops on
    disconnect, limit or timeout. A reconnecting EventSource sends Last-Event-ID and gets
    what it missed (from the hub's recent alerts). Subscribing before reading the backlog
    loses nothing; ids already sent are skipped."""
    deadline = None if timeout is None else time.monotonic() + timeout
    sent, quiet_since = 0, time.monotonic()
    with hub.subscribe() as queue:
        yield "retry: 3000\n\n"
        backlog = first()
        seen = {a.get("alert_id") for a in backlog}
        for alert in backlog:
            yield format_event(alert)
            sent += 1
        while limit is None or sent < limit:
            now = time.monotonic()
            if (deadline is not None and now >= deadline) or await request.is_disconnected():
                return
            wait = 1.0 if deadline is None else min(1.0, deadline - now)
            try:
                alert = await asyncio.wait_for(queue.get(), timeout=wait)
            except TimeoutError:
                if time.monotonic() - quiet_since >= heartbeat:
                    quiet_since = time.monotonic()
                    yield ": keep-alive\n\n"
                continue
            if alert.get("alert_id") in seen:
                continue
            yield format_event(alert)
            sent, quiet_since = sent + 1, time.monotonic()
