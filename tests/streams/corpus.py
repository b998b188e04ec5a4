"""A seeded mixed corpus for the fast-path equivalence tests: every input shape the pipeline
meets (single and pre-aggregated reports, error rates, ISO and epoch times with offsets,
repeated reporters, new services mid-stream, a spike, late, far-future and bad messages)."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta, timezone

from streams.parsing import MAX_BYTES
from streams.pipeline import Record
from tests.streams.gen import SPIKE_AT, spike_events

BAD_VALUES: list[bytes | dict] = [
    b"not json", b"\xff\xfe", b"[1, 2]", b'"x"', b"", b"{", b"null", b"1770112800",
    b'{"service": "a", "ts": 1770112800, "count": NaN}',
    b'{"service": "a\\ud800", "ts": 1770112800}',
    b'{"service": "a", "ts": 1770112800, "pad": "' + b"x" * MAX_BYTES + b'"}',
    {"ts": 1770112800}, {"service": "a"}, {"service": "", "ts": 1770112800},
    {"service": "a b", "ts": 1770112800}, {"service": 42, "ts": 1770112800},
    {"service": "a\n", "ts": 1770112800}, {"service": "a", "ts": "yesterday"},
    {"service": "a", "ts": "2026-02-03T10:00:00"}, {"service": "a", "ts": 1770112800000},
    {"service": "a", "ts": True}, {"service": "a", "ts": [1]}, {"service": "a", "ts": None},
    {"service": "a", "ts": "2026-02-03T10:00:60Z"}, {"service": "a", "ts": "2026-02-30T10:00:00Z"},
    {"service": "a", "ts": "2026-02-03T10:00:0٣Z"}, {"service": "a", "ts": "1999-12-31T23:59:59Z"},
    {"service": "a", "ts": "2100-01-01T00:00:00.000Z"}, {"service": "a", "ts": 1e400},
    {"service": "a", "ts": 1770112800, "count": -1},
    {"service": "a", "ts": 1770112800, "count": 1e7},
    {"service": "a", "ts": 1770112800, "count": "12"},
    {"service": "a", "ts": 1770112800, "count": True},
    {"service": "a", "ts": 1770112800, "category": {"a": 1}},
    {"service": "a", "ts": 1770112800, "region": ["FR"]},
]
RATE_BAD: list[dict] = [
    {"service": "api", "ts": 1770112800, "error_rate": 1.5},
    {"service": "api", "ts": 1770112800, "errors": 31, "requests": 10},
    {"service": "api", "ts": 1770112800, "errors": 31}, {"service": "api", "ts": 1770112800},
]


def _iso(t: float, rng: random.Random) -> str | float | int:
    """`t` written in one of the accepted time forms (exactly representable ones)."""
    when = datetime.fromtimestamp(t, UTC)
    form = rng.randrange(8)
    if form == 0:
        return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if form == 1:
        return when.isoformat(timespec="seconds").replace("+00:00", "Z")
    if form == 2:
        return when.astimezone(timezone(timedelta(hours=1))).isoformat(timespec="milliseconds")
    if form == 3:
        return when.isoformat(timespec="microseconds").replace("+00:00", "Z")
    if form == 4:
        return int(t)
    if form == 5:
        return repr(t)  # a numeric string
    if form == 6:
        return when.isoformat(timespec="milliseconds").replace("+00:00", "z")
    return t


def _report(t: float, rng: random.Random, service: str) -> dict:
    obj: dict = {"service": service, "ts": _iso(t, rng)}
    if rng.random() < 0.3:
        obj["count"] = rng.choice([1, 2, 5, 40, 1.5, 0, None, 0.25, 1e6])
    for key, choices in (("category", ["login", "history", "", None, 7, "x" * 201]),
                         ("region", ["FR", "US", None]), ("source", ["downdetector", None]),
                         ("reporter", [f"r{rng.randrange(30)}", None, ""]),
                         ("message", ["Gateway time-out", None])):
        if rng.random() < 0.6:
            obj[key] = rng.choice(choices)
    if rng.random() < 0.05:
        obj["surprise"] = [1, 2]
    return obj


def mixed_records(seed: int = 3, hours: float = 3.4) -> list[Record]:
    """Seeded records on both topics, in roughly event-time order, with every oddity."""
    rng = random.Random(seed)
    base = spike_events(hours=hours, seed=seed, spike_minutes=2)
    out: list[tuple[str, bytes]] = []
    services = ["chatgpt", "sora", "codex", "claude"]
    for k, e in enumerate(base):
        topic = "error-rates" if "requests" in e else "reports"
        t = e["ts"]
        if topic == "reports" and e["service"] == "chatgpt" and t < SPIKE_AT:
            e = {**e, "ts": _iso(t, rng)}
        out.append((topic, json.dumps(e).encode()))
        if k == 0:  # late before any bucket closed (only the watermark says so), then not late
            for back in (400, 100):
                late = {"service": e["service"], "ts": t - back}
                out.append(("reports", json.dumps(late).encode()))
        r = rng.random()
        if r < 0.25:
            svc = rng.choice(services + [f"new-{k // 500}"])
            out.append(("reports", json.dumps(_report(t, rng, svc)).encode()))
        elif r < 0.27:
            out.append(("reports", json.dumps(_report(t - rng.choice([200, 400, 30]), rng,
                                                      "sora")).encode()))  # late or not
        elif r < 0.28:
            out.append(("reports", json.dumps(_report(t + 2 * 86400, rng, "sora")).encode()))
        elif r < 0.30:
            bad = rng.choice(BAD_VALUES)
            out.append(("reports", bad if isinstance(bad, bytes) else json.dumps(bad).encode()))
        elif r < 0.31:
            out.append(("error-rates", json.dumps(rng.choice(RATE_BAD)).encode()))
        elif r < 0.33:
            out.append(("error-rates", json.dumps({"service": "api", "ts": _iso(t, rng),
                                                   "error_rate": rng.random() / 10}).encode()))
        elif r < 0.34:
            out.append((rng.choice(["alerts", "reports"]), b'{"service": "a", "ts": 1}'))
    offsets: dict[str, int] = {}
    records = []
    for topic, value in out:
        off = offsets[topic] = offsets.get(topic, -1) + 1
        records.append(Record(topic, value, None, rng.randrange(2), off))
    return records
