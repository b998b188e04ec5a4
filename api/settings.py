"""Settings of the HTTP service, read once at the edge (CLI or app factory) and passed down."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything `serve`/`demo` and the app need; env vars are prefixed `OUTAGE_RADAR_`."""

    model_config = SettingsConfigDict(env_prefix="OUTAGE_RADAR_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    data: Path = Path("./data")
    kafka: str | None = None  # HOST:PORT of a real broker; None = embedded in-memory bus
    kafka_group: str = "outage-radar"  # consumer group shared by `serve --kafka` processes
    kafka_prefix: str = ""  # prefix of the five topic names (isolated topic sets on one broker)
    worker: bool = False
    bucket_seconds: float = Field(60.0, gt=0)
    live: bool = True  # advance the watermark from the wall clock when idle
    ingest_token: str | None = None  # bearer token required by POST /reports, /error-rates
    max_body_bytes: int = Field(1_000_000, gt=0)  # larger requests get 413
    max_batch: int = Field(10_000, gt=0)  # events per ingest request
    reporter_rate_per_minute: float = Field(30.0, gt=0)  # per-reporter ingest rate (429 above)
    reporter_burst: float = Field(10.0, gt=0)
    cors_origins: list[str] = Field(default_factory=list)  # CORS is off unless origins are given
    sse_heartbeat_seconds: float = Field(15.0, gt=0)
    checkpoint_seconds: float = Field(30.0, gt=0)
