"""Rewritten hot-path types equal their first implementations: the reporter damper (string
dicts instead of tuple keys and list windows) and the events (immutable tuples instead of
pydantic models), compared on decisions, snapshot bytes and JSON."""

from __future__ import annotations

import json
import random

from pydantic import BaseModel, ConfigDict, Field

from detector.damping import ReporterDamper
from streams.errors import BadMessage
from streams.pipeline import decode_records
from streams.schema import ErrorRateEvent, ReportEvent
from tests.streams.corpus import mixed_records


class _ReferenceDamper:
    """The damper as first written (tuple keys, list windows), the baseline of its rewrite."""

    def __init__(self, max_per_window: int, window_seconds: float) -> None:
        self.max, self.window = max_per_window, window_seconds
        self.windows: dict[tuple[str, str], list[float]] = {}
        self.pruned = float("-inf")

    def admit(self, service: str, reporter: str | None, ts: float, count: float) -> float:
        if not reporter:
            return float(count)
        if ts >= self.pruned + self.window:
            self.pruned = ts
            self.windows = {k: w for k, w in self.windows.items() if w[0] > ts - self.window}
        win = self.windows.get((service, reporter))
        if win is None or ts >= win[0] + self.window or ts < win[0] - self.window:
            win = self.windows[(service, reporter)] = [ts, 0.0]
        take = max(0.0, min(float(count), self.max - win[1]))
        win[1] += take
        return take

    def rows(self) -> list[list]:
        return [[s, r, w[0], w[1]] for (s, r), w in sorted(self.windows.items())]


def test_damper_equals_reference() -> None:
    rng = random.Random(2)
    fast, ref = ReporterDamper(3, 60.0), _ReferenceDamper(3, 60.0)
    t = 0.0
    for _ in range(20000):
        t += rng.choice([0.0, 0.5, 3.0, -40.0, 70.0])
        args = (rng.choice(["a", "ab", "b"]), rng.choice([None, "", "r", "r\0x", "s", "rr"]), t,
                rng.choice([1, 2, 0.5, 0, 7.25]))
        assert fast.admit(*args) == ref.admit(*args)
    snap = json.loads(fast.to_bytes())
    rows = [[*k.split("\0", 1), s, a] for k, s, a in zip(snap["keys"], snap["start"],
                                                          snap["taken"], strict=True)]
    assert rows == ref.rows()
    assert ReporterDamper.from_bytes(fast.to_bytes()).to_bytes() == fast.to_bytes()


class _PydanticReport(BaseModel):
    """The report event as it was first written (a pydantic model), for its JSON."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    service: str
    ts: float
    count: float = 1.0
    category: str | None = None
    region: str | None = None
    source: str | None = None
    reporter: str | None = Field(default=None, exclude=True, repr=False)
    message: str | None = None


class _PydanticRate(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    service: str
    ts: float
    errors: float | None = None
    requests: float | None = None
    error_rate: float | None = None


def test_events_dump_as_the_pydantic_models_did() -> None:
    events = [e for e in decode_records(mixed_records()) if not isinstance(e, BadMessage)]
    events.append(ReportEvent("a", 1e16, 1e-7, "é", None, None, "r", "x" * 200))
    assert any(isinstance(e, ErrorRateEvent) for e in events)
    for e in events:
        model = _PydanticReport if isinstance(e, ReportEvent) else _PydanticRate
        old = model.model_construct(**e._asdict())
        assert e.model_dump() == old.model_dump()
        assert e.model_dump_json() == old.model_dump_json()
        assert "reporter" not in repr(e) and "reporter" not in e.model_dump_json()
