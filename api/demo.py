"""`outage-radar demo`: a generated day for ten services, replayed, then served on the dashboard.

The day (2026-02-03, UTC) carries outages shaped like the reference incidents of DESIGN.md:
the ~45-minute "history missing" plateau of 2025-12-03 morning, a progressive recovery over
hours (2025-12-01), a slow ramp (2025-07-21 afternoon), and the 2026-02-03 evening spike
(2,464 reports/min) on ChatGPT that spreads to the API, Sora and Codex within minutes. A
spammer hammers one small app (damped, no incident). A warm-up day comes first. Quiet
minutes are sent as per-minute counts (fast); the hours around each outage and the spammer
as reports with categories, regions, sources and reporter ids (summed per 10 s where damping
has nothing to do), plus error-rate samples, all through the same pipeline.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from typing import Any

import numpy as np

from streams.parsing import error_rate_from, parse_ts, report_from

DAY = 86_400.0
DEMO_DAY = "2026-02-03T00:00:00"
KEY_FIELDS = ("service", "category", "region", "source")
RELATED = (("chatgpt", 2464.0), ("chatgpt-api", 300.0), ("sora", 60.0), ("codex", 40.0))


def add_parser(sub: Any) -> None:
    """Register `demo [--host] [--port] [--seed] [--check]`."""
    p = sub.add_parser("demo", help="generate a realistic day, replay it and serve the dashboard")
    p.add_argument("--host", default=None, help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="port (default 8000)")
    p.add_argument("--seed", type=int, default=7, help="generator seed (default 7)")
    p.add_argument("--check", "--no-serve", dest="check", action="store_true",
                   help="only build and replay the day, print a summary, do not serve")
    p.set_defaults(func=run_demo)


def scenario(seed: int = 7) -> Any:
    """Ten services over two days (warm-up + demo day) with the reference-shaped outages."""
    from detector import generators as g

    t0 = g._utc(DEMO_DAY) - DAY
    day = t0 + DAY
    P = g.Profile
    profiles = [
        P("chatgpt", base=20, peak_hour=20, wander=0.05, dispersion=0.01, requests=20_000),
        P("chatgpt-api", base=8, peak_hour=16, requests=50_000), P("sora", base=4),
        P("codex", base=2, peak_hour=15), P("gemini", base=6, peak_hour=18),
        P("claude", base=10, peak_hour=17), P("copilot", base=5, peak_hour=14),
        P("perplexity", base=3, peak_hour=19), P("github", base=12, peak_hour=15),
        P("notes-app", base=3, diurnal=0.3),
    ]
    spike = day + 20 * 3600 + 260  # 21:04 Paris
    outages = [
        g.Outage("chatgpt", day + 5 * 3600 + 1680, day + 5 * 3600 + 4560, 400.0, "plateau", 0.1),
        g.Outage("gemini", day + 8 * 3600 + 600, day + 12 * 3600, 150.0, "recovery"),
        g.Outage("copilot", day + 12 * 3600 + 2100, day + 13 * 3600 + 2100, 90.0, "ramp"),
        *(g.Outage(s, spike + 60 * k, spike + 2400, peak, "spike", 0.3 if k < 2 else 0.0)
          for k, (s, peak) in enumerate(RELATED)),
    ]
    spam = [g.Spam("notes-app", "spammer-0001", day + 15 * 3600, day + 15 * 3600 + 600, 400)]
    return g.generate("demo", profiles, t0=t0, days=2, outages=outages, spam=spam, seed=seed)


def messages(sc: Any, seed: int = 7) -> list[tuple[str, dict[str, Any]]]:
    """(topic, event) in event-time order.

    Quiet minutes go as one pre-aggregated count per service and minute (DESIGN.md allows
    `count`), stamped at the minute's end so partial-bucket scoring never sees a whole
    minute's count early; around each outage and the spammer, individual reports with categories,
    regions, sources and reporters, so explanations and damping work on real detail.
    """
    from detector import generators as g

    detail = _detail_mask(sc)
    per_minute = [("reports", {"service": sc.services[s], "count": float(sc.reports[b, s]),
                               "ts": sc.t0 + sc.bucket_seconds * (b + 1) - 0.5})
                  for b, s in zip(*np.nonzero((sc.reports > 0) & ~detail), strict=True)]
    masked = replace(sc, reports=np.where(detail, sc.reports, 0))
    day = sc.t0 + DAY
    reports = [("reports", e) for e in _aggregate(g.events(masked, seed), sc)]
    rates = [("error-rates", e) for e in g.error_events(sc) if g._utc(e["ts"][:-1]) >= day]
    return sorted(per_minute + reports + rates, key=lambda m: _ts(m[1]["ts"]))


def _aggregate(events: list[dict[str, Any]], sc: Any, slot: float = 10.0) -> list[dict]:
    """Sum one-off reporters' reports per service, `slot` seconds, category, region, source.

    Each generated organic reporter sends one report, so damping has nothing to remove from
    them; spammers' reports stay individual so the damper sees them. Each sum is stamped at
    its last report (the count is only known then). Cuts ~4x the events at the peak.
    """
    spammers = {s.reporter for s in sc.spam}
    groups: dict[tuple, dict[str, Any]] = {}
    for e in events:
        ts = parse_ts(e["ts"])
        if e["reporter"] in spammers:
            groups[(len(groups),)] = dict(e, ts=ts)
            continue
        key = (e["service"], ts // slot, e["category"], e["region"], e["source"])
        group = groups.setdefault(key, {k: e[k] for k in KEY_FIELDS} | {"count": 0.0})
        group["count"] += e["count"]
        group["ts"] = ts
    return list(groups.values())


def _detail_mask(sc: Any, margin: float = 900.0) -> np.ndarray:
    """Buckets x services sent report by report: outages and spam, plus `margin` seconds."""
    t = sc.t_end - sc.bucket_seconds / 2
    mask = np.zeros(sc.reports.shape, dtype=bool)
    spans = [(o.service, o.onset, o.end) for o in sc.outages]
    spans += [(s.service, s.start, s.end) for s in sc.spam]
    for service, lo, hi in spans:
        mask[:, sc.services.index(service)] |= (t >= lo - margin) & (t < hi + margin)
    return mask


def _ts(value: float | str) -> float:
    return value if isinstance(value, float) else parse_ts(value)


def replay(runtime: Any, sc: Any, seed: int = 7, batch: int = 20_000) -> None:
    """Feed every event through the runtime's pipeline (decoded once, as `replay` does)."""
    pipeline = runtime.pipeline
    items = messages(sc, seed)
    for i in range(0, len(items), batch):
        with runtime.lock:
            for topic, obj in items[i:i + batch]:
                pipeline.ingest(report_from(obj) if topic == "reports" else error_rate_from(obj))
    with runtime.lock:
        pipeline.flush()


def summary(runtime: Any, seconds: float) -> str:
    """Counts and incidents of the replayed day, one incident per line."""
    c = runtime.pipeline.counters
    lines = [f"demo ready in {seconds:.1f} s: {c.events} events, {len(runtime.store.services())}"
             f" services, {c.buckets} buckets, {c.opened} incidents opened, "
             f"{sum(c.dead_letter.values())} dead letters"]
    for inc in sorted(runtime.store.incidents(), key=lambda i: i["started_at"]):
        lines.append(f"  {inc['started_at']}  {inc['service']:<12} {inc['status']:<8} "
                     f"observed {inc['observed']} expected {inc['expected']} "
                     f"related {','.join(inc['related']) or '-'}")
    return "\n".join(lines)


def build(seed: int = 7) -> tuple[Any, float]:
    """An in-memory runtime holding the replayed demo day, and how long that took."""
    from api.settings import Settings
    from api.wiring import memory_runtime

    start = time.perf_counter()
    runtime = memory_runtime(Settings(live=False))
    replay(runtime, scenario(seed), seed)
    return runtime, time.perf_counter() - start


def run_demo(args: argparse.Namespace) -> int:
    """Build the day; with --check print the summary, else serve the dashboard on it."""
    runtime, seconds = build(args.seed)
    print(summary(runtime, seconds), flush=True)
    if args.check:
        return 0
    import uvicorn

    from api.app import create_app
    from api.serve import settings_from

    settings = settings_from(args, live=False)
    print(f"dashboard: http://{settings.host}:{settings.port}/", flush=True)
    uvicorn.run(create_app(settings, runtime), host=settings.host, port=settings.port,
                log_level="warning")
    return 0
