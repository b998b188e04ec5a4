"""Message schemas of DESIGN.md: input events (immutable tuples), alerts and dead letters
(pydantic models).

Validation with precise dead-letter reasons lives in `streams.parsing`; the events are the
typed values that leave it. Times are event-time epoch seconds inside the pipeline and
ISO-8601 strings (UTC, `Z`) on the way out.
"""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import orjson
from pydantic import BaseModel, Field
from pydantic_core import to_json

if TYPE_CHECKING:
    from detector import Transition

MAX_RAW = 64 * 1024  # larger raw messages are not parsed again to drop `reporter`


class ReportEvent(NamedTuple):
    """One (possibly pre-aggregated) user problem report, topic `reports`.

    Events are immutable tuples (one C-level allocation each on the ingest hot path); they
    keep the `model_dump` / `model_dump_json` of their schema, which never show `reporter`.

    >>> e = ReportEvent("chatgpt", 1770152652.0, reporter="h1")
    >>> e.count, e.model_dump_json(), e
    (1.0, '{"service":"chatgpt","ts":1770152652.0,"count":1.0,"category":null,"region":null,\
"source":null,"message":null}', ReportEvent(service='chatgpt', ts=1770152652.0, count=1.0, \
category=None, region=None, source=None, message=None))
    """

    service: str
    ts: float
    count: float = 1.0
    category: str | None = None
    region: str | None = None
    source: str | None = None
    reporter: str | None = None  # only for damping: never dumped, never shown
    message: str | None = None

    def model_dump(self) -> dict[str, Any]:
        """The fields as a dict, without `reporter`."""
        out = self._asdict()
        del out["reporter"]
        return out

    def model_dump_json(self) -> str:
        """Compact JSON of `model_dump()`, by pydantic-core's serializer (pydantic's format)."""
        return to_json(self.model_dump()).decode()

    def __repr__(self) -> str:
        return f"ReportEvent({', '.join(f'{k}={v!r}' for k, v in self.model_dump().items())})"


class ErrorRateEvent(NamedTuple):
    """One error-rate sample, topic `error-rates`: errors/requests or a plain rate.

    A real-valued series (NAB-style CSV) also travels as `error_rate` with no requests.
    """

    service: str
    ts: float
    errors: float | None = None
    requests: float | None = None
    error_rate: float | None = None

    def model_dump(self) -> dict[str, Any]:
        """The fields as a dict."""
        return self._asdict()

    def model_dump_json(self) -> str:
        """Compact JSON of the sample, by pydantic-core's serializer (pydantic's format)."""
        return to_json(self._asdict()).decode()


Event = ReportEvent | ErrorRateEvent


class Alert(BaseModel):
    """An incident transition as published to `alerts` and written by `--alerts-out`."""

    alert_id: str
    incident_id: str
    service: str
    status: Literal["open", "update", "resolved"]
    started_at: str
    detected_at: str
    resolved_at: str | None = None
    observed: float | None  # None only where the detector had no finite value
    expected: float | None
    upper: float | None
    score: float | None
    signals: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    top_categories: list[str] = Field(default_factory=list)
    top_regions: list[str] = Field(default_factory=list)
    related: list[str] = Field(default_factory=list)


class DeadLetter(BaseModel):
    """A message that could not be used, with where it came from and why."""

    reason: str
    topic: str
    partition: int = 0
    offset: int = -1
    raw: str = ""


def iso(t: float | None) -> str | None:
    """Epoch seconds -> ISO-8601 UTC with `Z` (None stays None).

    >>> iso(1770152652.0)
    '2026-02-03T21:04:12Z'
    """
    if t is None:
        return None
    text = datetime.fromtimestamp(t, UTC).isoformat()
    return text.replace("+00:00", "Z")


def without_reporter(value: bytes) -> str:
    """Raw message text for the dead-letter topic, minus `reporter` (never exposed)."""
    if b"reporter" in value and len(value) <= MAX_RAW:
        try:
            obj = orjson.loads(value)
        except ValueError:
            obj = None
        if isinstance(obj, dict) and obj.pop("reporter", None) is not None:
            return orjson.dumps(obj).decode()
    return value.decode("utf-8", "replace")


def alert_from(tr: Transition) -> dict[str, Any]:
    """Transition -> DESIGN.md alert dict with a deterministic `alert_id`."""
    key = f"{tr.incident_id}|{tr.status}|{tr.detected_at!r}"
    return {
        "alert_id": hashlib.sha1(key.encode()).hexdigest()[:20],
        "incident_id": tr.incident_id, "service": tr.service, "status": tr.status,
        "started_at": iso(tr.started_at), "detected_at": iso(tr.detected_at),
        "resolved_at": iso(tr.resolved_at), "observed": _round(tr.observed),
        "expected": _round(tr.expected), "upper": _round(tr.upper), "score": _round(tr.score),
        "signals": list(tr.signals), "sources": list(tr.sources),
        "top_categories": list(tr.top_categories), "top_regions": list(tr.top_regions),
        "related": list(tr.related),
    }


def _round(x: float) -> float | None:
    return round(float(x), 4) if math.isfinite(x) else None
