"""The end-to-end benchmark's input shapes (`benchmarks.e2e_kafka`, also used by
`benchmarks.pipeline_rate` and the Kafka tests): single reports (count=1) and pre-aggregated
per-minute counts, from a seeded fleet, about as many messages as asked for."""

from __future__ import annotations

import numpy as np

from detector.generators import events, fleet


def _days_for(services: int, limit: int, seed: int, per_minute: bool) -> float:
    """Days of a seeded fleet that yield about `limit` messages (a short probe run first)."""
    probe = fleet(services, days=1 / 24, seed=seed)
    per_hour = float((probe.reports > 0).sum() if per_minute else probe.reports.sum())
    return max(1 / 24, 1.1 * limit / max(per_hour, 1.0) / 24)


def single_events(services: int, limit: int, seed: int) -> list[dict]:
    """One message per report (count=1), from a seeded fleet (no planted outages: fleet
    outages start at t0 when there is no warm-up and would multiply the volume)."""
    sc = fleet(services, days=_days_for(services, limit, seed, False), seed=seed)
    return events(sc, seed=seed)[:limit]


def aggregated_events(services: int, limit: int, seed: int) -> list[dict]:
    """One message per service and minute carrying that minute's count."""
    sc = fleet(services, days=_days_for(services, limit, seed, True), seed=seed)
    b, s = np.nonzero(sc.reports > 0)
    out = [{"service": sc.services[j], "ts": float(sc.t0 + 60 * i + 1 + (j % 50)),
            "count": int(sc.reports[i, j]), "source": "downdetector"}
           for i, j in zip(b, s, strict=True)]
    out.sort(key=lambda e: e["ts"])
    return out[:limit]
