"""Seeded event streams for the streams tests: a calm baseline, then a 2,464-report spike."""

from __future__ import annotations

import json

import numpy as np

from streams.pipeline import Record

T0 = 1770112800.0  # 2026-02-03 10:00:00 UTC, a bucket boundary
SPIKE_AT = T0 + 3 * 3600  # 13:00 UTC


def spike_events(hours: float = 3.5, seed: int = 7, spike_minutes: int = 3,
                 base_per_min: float = 30.0, peak: int = 2464) -> list[dict]:
    """Reports of "chatgpt" (Poisson base, pre-aggregated per 10 s) plus a calm "claude",
    error rates of "chatgpt-api" every 30 s, and a spike of `peak` reports/min from SPIKE_AT,
    as single reports with reporters; sorted by event time."""
    rng = np.random.default_rng(seed)
    out: list[dict] = []
    for k in range(int(hours * 360)):
        t = T0 + 10 * k
        for svc in ("chatgpt", "claude"):
            n = int(rng.poisson(base_per_min / 6))
            if n:
                out.append({"service": svc, "ts": t + float(rng.uniform(0, 10)), "count": n,
                            "category": "login", "region": "FR", "source": "downdetector"})
        if k % 3 == 0:
            out.append({"service": "chatgpt-api", "ts": t + 1.0, "errors": int(rng.poisson(20)),
                        "requests": 1000})
    for m in range(spike_minutes):
        for j in range(peak):
            out.append({"service": "chatgpt", "ts": SPIKE_AT + 60 * m + 60 * j / peak,
                        "category": "history" if j % 3 else "login", "region": "FR",
                        "reporter": f"r{(m * peak + j) % 50000}"})
    out.sort(key=lambda e: e["ts"])
    return out


def records(events: list[dict]) -> list[Record]:
    """Events as bus/Kafka records on their logical topics, offsets per topic."""
    offsets: dict[str, int] = {}
    out = []
    for e in events:
        topic = "error-rates" if "requests" in e or "error_rate" in e else "reports"
        off = offsets.get(topic, 0)
        offsets[topic] = off + 1
        out.append(Record(topic, json.dumps(e).encode(), e["service"].encode(), 0, off))
    return out
