"""Pre-aggregated counts (one event carrying many reports) in early looks at a bucket.

A per-minute count stamped early in its bucket must not read as a pace of many times the
normal (which opened incidents on every busy service before `OpenBucket.paced`), while a
spike sent as one count still opens before its bucket closes.
"""

from __future__ import annotations

import numpy as np

from detector.generators import fleet
from streams import kafka_io
from streams.pipeline import Pipeline, Record

T0 = 1_764_547_200.0  # a Monday, 00:00 UTC


def _run(events: list[dict]) -> list[dict]:
    alerts: list[dict] = []
    pipe = Pipeline(on_alert=alerts.append, on_dead_letter=lambda d: None)
    pipe.process([Record("reports", kafka_io.json_bytes(e), None, 0, n)
                  for n, e in enumerate(events)])
    pipe.flush()
    return alerts


def _minutes(minutes: int, spike_at: int | None = None) -> list[dict]:
    """Twenty services, one count per minute each, stamped 1-49 s into the minute."""
    rng = np.random.default_rng(5)
    rates = np.linspace(20.0, 200.0, 20)
    out = []
    for m in range(minutes):
        counts = rng.poisson(rates)
        if m == spike_at:
            counts[0] = 2464
        out += [{"service": f"svc-{j:02d}", "ts": T0 + 60 * m + 1 + 2.5 * j, "count": int(c)}
                for j, c in enumerate(counts)]
    return out


def test_whole_minute_counts_stamped_early_open_nothing_after_warm_up() -> None:
    """A seeded fleet (0.2-300 reports/min), one message per service and minute stamped
    1-50 s into it (the e2e benchmark's shape): before prorating, its first 12 hours gave
    ~1,800 alerts; now only the first bucket may open (services far above the prior)."""
    sc = fleet(100, days=0.5, seed=0)
    b, s = np.nonzero(sc.reports > 0)
    events = sorted(({"service": sc.services[j], "ts": float(sc.t0 + 60 * i + 1 + (j % 50)),
                      "count": int(sc.reports[i, j])} for i, j in zip(b, s, strict=True)),
                    key=lambda e: e["ts"])
    alerts = _run(events)
    assert not [a for a in alerts if _ts(a["started_at"]) >= sc.t0 + 60], alerts[:3]


def test_a_spike_sent_as_one_count_opens_before_its_bucket_closes() -> None:
    spike = 200
    alerts = [a for a in _run(_minutes(260, spike_at=spike)) if a["status"] == "open"]
    opened = [a for a in alerts if a["service"] == "svc-00"]
    assert opened, alerts
    detected = _ts(opened[0]["detected_at"])
    assert T0 + 60 * spike < detected < T0 + 60 * (spike + 1)


def _ts(text: str) -> float:
    """Epoch seconds of an alert's ISO time."""
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
