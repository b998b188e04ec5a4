"""Plain functions turning store rows and bank statuses into response schemas (no I/O here)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from api.schemas import AlertOut, IncidentOut, Peak, SeriesPoint, ServiceOut

if TYPE_CHECKING:
    from detector import ServiceStatus

ALERT_FIELDS = tuple(AlertOut.model_fields)
EXPLAINERS = ("signals", "sources", "top_categories", "top_regions", "related")


def finite(x: Any) -> float | None:
    """A JSON-safe number: NaN/inf/None become None."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def when(t: Any) -> datetime | None:
    """Epoch seconds, ISO text or datetime -> aware UTC datetime (None/NaN stay None)."""
    if t is None or isinstance(t, datetime):
        return t
    if isinstance(t, str):
        return datetime.fromisoformat(t.replace("Z", "+00:00"))
    t = finite(t)
    return None if t is None else datetime.fromtimestamp(t, UTC)


def epoch(t: datetime | None) -> float | None:
    """Aware or naive (taken as UTC) datetime -> epoch seconds."""
    if t is None:
        return None
    return (t if t.tzinfo else t.replace(tzinfo=UTC)).timestamp()


def service_out(name: str, status: ServiceStatus | None, row: Mapping[str, Any] | None,
                open_incidents: int) -> ServiceOut:
    """Live bank status first (freshest), else the store's latest point for the service."""
    if status is not None and finite(status.t) is not None:
        src: Mapping[str, Any] = {"t": status.t, "observed": status.observed,
                                  "expected": status.expected, "upper": status.upper,
                                  "score": status.score, "state": status.state,
                                  "incident_id": status.incident_id,
                                  "error_rate": (row or {}).get("error_rate")}
    else:
        src = row or {}
    state = str(src.get("state") or "ok")
    return ServiceOut(id=name, state=state, t=when(src.get("t")),
                      observed=finite(src.get("observed")), expected=finite(src.get("expected")),
                      upper=finite(src.get("upper")), score=finite(src.get("score")),
                      error_rate=finite(src.get("error_rate")),
                      incident_id=src.get("incident_id"), open_incidents=open_incidents)


def point_out(row: Mapping[str, Any]) -> SeriesPoint:
    return SeriesPoint(t=when(row["t"]), observed=finite(row.get("observed")),
                       expected=finite(row.get("expected")), upper=finite(row.get("upper")),
                       error_rate=finite(row.get("error_rate")), state=row.get("state"))


def alert_out(row: Mapping[str, Any]) -> AlertOut:
    """Only the DESIGN.md alert fields, numbers made JSON-safe."""
    return AlertOut.model_validate(_clean(row))


def incident_out(row: Mapping[str, Any], history: list[Mapping[str, Any]],
                 buckets: list[Mapping[str, Any]] = (), with_history: bool = False
                 ) -> IncidentOut:
    """Latest alert plus first detection and peak: the fullest closed bucket the incident
    spans (alerts from partial buckets count only part of one), else its largest alert."""
    out = IncidentOut.model_validate(_clean(row))
    alerts = [alert_out(h) for h in history] or [alert_out(row)]
    out.opened_at, out.alerts = alerts[0].detected_at, len(history)
    for name in EXPLAINERS:  # a calm "resolved" alert may explain nothing: keep the last words
        if not getattr(out, name):
            setattr(out, name, next((v for a in reversed(alerts) if (v := getattr(a, name))), []))
    score = max((a.score for a in alerts if a.score is not None), default=None)
    full = [b for b in buckets if finite(b.get("observed")) is not None]
    if full:
        top = max(full, key=lambda b: b["observed"])
        out.peak = Peak(at=when(top["t"]), observed=finite(top["observed"]),
                        expected=finite(top.get("expected")), upper=finite(top.get("upper")),
                        score=score)
    else:
        a = max(alerts, key=lambda a: a.observed or 0.0)
        out.peak = Peak(at=a.detected_at, observed=a.observed, expected=a.expected,
                        upper=a.upper, score=score)
    if with_history:
        out.history = alerts
    return out


def _clean(row: Mapping[str, Any]) -> dict[str, Any]:
    data = {k: row.get(k) for k in ALERT_FIELDS if k in row}
    for key in ("observed", "expected", "upper", "score"):
        if key in data:
            data[key] = finite(data[key])
    return data
