"""PipelineSettings: the knobs of event-time bucketing, damping and storage for one pipeline."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class PipelineSettings(BaseModel):
    """Pipeline hyperparameters; built once at the edge (CLI, app factory) and passed down."""

    model_config = ConfigDict(frozen=True)

    bucket_seconds: float = Field(60.0, gt=0, description="event-time bucket width")
    allowed_lateness: float = Field(120.0, ge=0, description="watermark = max event time - this")
    far_future_seconds: float = Field(86400.0, gt=0, description="events further ahead: dead")
    max_clock_skew: float = Field(300.0, gt=0, description="live: events ahead of the wall clock")
    max_gap_seconds: float = Field(7 * 86400.0, gt=0, description="longer quiet gaps are skipped")
    partial_every: float = Field(10.0, gt=0, description="event seconds between partial scores")
    partial_min_seconds: float = Field(5.0, ge=0, description="no partial score before this")
    damper_max_per_window: int = Field(3, ge=1, description="reports per reporter per window")
    damper_window_seconds: float = Field(600.0, gt=0, description="reporter damping window")
    store_series: bool = Field(True, description="write one series point per service per bucket")
