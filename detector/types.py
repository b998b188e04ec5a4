"""Plain value types shared by the detector and its callers (streams, api, benchmarks)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Status = Literal["open", "update", "resolved"]


@dataclass(frozen=True)
class BucketContext:
    """What a bucket held besides its count: used only to explain transitions."""

    categories: dict[str, float] = field(default_factory=dict)
    regions: dict[str, float] = field(default_factory=dict)
    sources: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Transition:
    """One incident state change with its explanation; times are event-time epoch seconds."""

    incident_id: str
    service: str
    status: Status
    started_at: float
    detected_at: float
    resolved_at: float | None
    observed: float
    expected: float
    upper: float
    score: float
    p_value: float
    signals: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    top_categories: tuple[str, ...] = ()
    top_regions: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    state: str = ""  # possible | confirmed | recovering | resolved


@dataclass(frozen=True)
class ServiceStatus:
    """Read-only view of one service after its latest bucket."""

    service: str
    t: float
    observed: float
    expected: float
    upper: float
    score: float
    state: str
    incident_id: str | None
