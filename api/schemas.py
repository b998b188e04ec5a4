"""HTTP request and response schemas, kept apart from the detector's and streams' domain types."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from streams.parsing import MAX_COUNT, MAX_REQUESTS, MAX_TS, MIN_TS, SERVICE_RE

Name = Field(pattern=SERVICE_RE.pattern, description="service id: letters, digits, ._:-")
Label = Field(default=None, max_length=200)


def _plausible(ts: datetime) -> datetime:
    """Event times between 2000 and 2100 (older epochs are unit mistakes); naive means UTC."""
    ts = ts if ts.tzinfo else ts.replace(tzinfo=UTC)
    if not MIN_TS <= ts.timestamp() < MAX_TS:
        raise ValueError("ts must be between 2000-01-01 and 2100-01-01")
    return ts


EventTime = Annotated[datetime, AfterValidator(_plausible),
                      Field(description="ISO-8601 with offset/Z, or epoch seconds")]


class ReportIn(BaseModel):
    """One user problem report (DESIGN.md report event); unknown fields are ignored."""

    model_config = ConfigDict(extra="ignore")

    service: str = Name
    ts: EventTime
    count: float = Field(1.0, ge=0, le=MAX_COUNT, strict=True)
    category: str | None = Label
    region: str | None = Label
    source: str | None = Label
    reporter: str | None = Field(default=None, max_length=200, description="opaque, never exposed")
    message: str | None = Field(default=None, max_length=2000)


class ErrorRateIn(BaseModel):
    """One error-rate sample: `errors` of `requests`, or a plain `error_rate` in [0, 1]."""

    model_config = ConfigDict(extra="ignore")

    service: str = Name
    ts: EventTime
    errors: float | None = Field(None, ge=0, le=MAX_REQUESTS, strict=True)
    requests: float | None = Field(None, ge=0, le=MAX_REQUESTS, strict=True)
    error_rate: float | None = Field(None, ge=0, le=1, strict=True)

    @model_validator(mode="after")
    def _has_a_rate(self) -> ErrorRateIn:
        """Either errors and requests (errors <= requests) or a plain error_rate."""
        if self.error_rate is None and (self.errors is None or self.requests is None):
            raise ValueError("give errors and requests, or error_rate")
        if self.errors is not None and self.requests is not None and self.errors > self.requests:
            raise ValueError("errors must not exceed requests")
        return self


class Accepted(BaseModel):
    """Ingest result: how many events were handed to the pipeline. The pipeline may still
    dead-letter some (late, far from the watermark): see outage_radar_dead_letters_total."""

    accepted: int


class Health(BaseModel):
    status: Literal["ok"]
    services: int
    mode: str


class ServiceOut(BaseModel):
    """A service's latest bucket: what was observed against what is expected."""

    id: str
    state: str = Field(description="ok | possible | confirmed | recovering (or open)")
    t: datetime | None = Field(description="end of the latest bucket (event time)")
    observed: float | None
    expected: float | None
    upper: float | None
    score: float | None
    error_rate: float | None = None
    incident_id: str | None
    open_incidents: int = 0


class SeriesPoint(BaseModel):
    t: datetime
    observed: float | None
    expected: float | None
    upper: float | None
    error_rate: float | None = None
    state: str | None = None


class SeriesOut(BaseModel):
    service: str
    since: datetime | None
    until: datetime | None
    points: list[SeriesPoint]


class AlertOut(BaseModel):
    """DESIGN.md alert format: one incident state change with its explanation."""

    model_config = ConfigDict(extra="ignore")

    alert_id: str
    incident_id: str
    service: str
    status: Literal["open", "update", "resolved"]
    started_at: datetime
    detected_at: datetime
    resolved_at: datetime | None = None
    observed: float | None = None
    expected: float | None = None
    upper: float | None = None
    score: float | None = None
    signals: list[str] = []
    sources: list[str] = []
    top_categories: list[str] = []
    top_regions: list[str] = []
    related: list[str] = []


class Peak(BaseModel):
    """The incident's worst alert: what was observed against what was expected, and when."""

    at: datetime
    observed: float | None
    expected: float | None
    upper: float | None
    score: float | None


class IncidentOut(AlertOut):
    """An incident: its latest alert, when it was first detected, its peak, and (on
    GET /incidents/{id}) every alert that led there."""

    opened_at: datetime | None = Field(None, description="detected_at of the first alert")
    peak: Peak | None = None
    alerts: int = 0
    history: list[AlertOut] | None = None


class Problem(BaseModel):
    """Error body of every 4xx."""

    detail: str | list[dict[str, object]]
