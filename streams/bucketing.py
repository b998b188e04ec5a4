"""Event-time buckets per service with a watermark, allowed lateness and partial buckets.

The watermark is the largest event time seen minus the allowed lateness (the usual
event-time model of streaming systems; Akidau et al., "The Dataflow Model", VLDB 2015).
A bucket `[end - B, end)` stays open, and late events still correct it, until the watermark
passes `end`; it is then emitted for ALL services (quiet buckets included, so the detector
sees gaps), in time order. Events in an already closed bucket are "late"; events implausibly
far ahead of the newest event are "far from watermark". While the newest bucket fills up it
is also emitted as a *partial* view (fraction of the bucket elapsed), every `partial_every`
seconds of event time while a service is on pace to pass its upper band, and as soon as
one passes it, so a spike is flagged within seconds of event time instead of after the
bucket and the lateness have passed.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from detector.band import UpperBand
from streams.buckets import BucketView, OpenBucket
from streams.errors import FarFromWatermark, LateEvent
from streams.settings import PipelineSettings

__all__ = ["BucketView", "Bucketer"]


class Bucketer:
    """Holds open buckets and the watermark; emits closed and partial `BucketView`s.

    >>> b = Bucketer(PipelineSettings(allowed_lateness=120))
    >>> b.add_report(0, b.admit(1770152652.0), 1.0, "login", None, None)
    >>> [(v.t_end, v.fraction) for v in b.advance(1770152652.0, ["chatgpt"])]  # early look
    [(1770152652.0, 0.2)]
    >>> [(v.t_end, v.fraction, v.reports.tolist()) for v in b.advance(1770152820.0, ["chatgpt"])]
    [(1770152700.0, 1.0, [1.0])]
    """

    def __init__(self, settings: PipelineSettings | None = None) -> None:
        s = settings or PipelineSettings()
        self.bucket_seconds = s.bucket_seconds
        self.lateness = s.allowed_lateness
        self.far = s.far_future_seconds
        self.skew = s.max_clock_skew
        self.max_gap_buckets = max(1, int(s.max_gap_seconds // s.bucket_seconds))
        self.partial_every = s.partial_every
        self.partial_min = s.partial_min_seconds
        self._reset()

    def _reset(self) -> None:
        self._open: dict[float, OpenBucket] = {}
        self._max_seen: float | None = None
        self._wall: float | None = None  # latest wall-clock time given in live mode
        self._closed_until: float | None = None
        self._empty_run = 0
        self._partial_end = -math.inf
        self._partial_last = -math.inf
        self._crossed: set[int] = set()
        self._pending = False
        self._band = UpperBand.of([])
        self._due = -math.inf  # a cache, not state: recomputed by every full `advance`
        self.closed_buckets = 0
        self.partial_buckets = 0

    @property
    def watermark(self) -> float:
        """Event time below which buckets are closed (-inf before the first event)."""
        return -math.inf if self._max_seen is None else self._max_seen - self.lateness

    @property
    def closed_until(self) -> float | None:
        """End of the last closed bucket (None before the first)."""
        return self._closed_until

    def end_of(self, ts: float) -> float:
        """End of the bucket holding `ts`."""
        return (math.floor(ts / self.bucket_seconds) + 1) * self.bucket_seconds

    def admit(self, ts: float) -> float:
        """Check `ts` against the watermark: its bucket end, or raise Late/FarFromWatermark."""
        if self._max_seen is not None and ts > self._max_seen + self.far:
            raise FarFromWatermark()
        if self._wall is not None and ts > self._wall + self.skew:
            raise FarFromWatermark()  # live: one bad clock must not push the watermark ahead
        end = self.end_of(ts)
        if end <= self.watermark or (self._closed_until is not None and end <= self._closed_until):
            raise LateEvent()
        return end

    def crossed(self, i: int, end: float, total: float) -> None:
        """Service `i`'s count in the bucket ending at `end` is now `total`: if that passes its
        band in the newest bucket, an early look is due (the end of `add_report`, which the
        hot path (`streams.hotpath`) calls only above the band's floor)."""
        if self._band.passed(i, total) and i not in self._crossed and end == self._current():
            self._crossed.add(i)
            self._pending = True

    def add_report(self, i: int, end: float, count: float, category: str | None,
                   region: str | None, source: str | None) -> None:
        """Add a (damped) report count of service `i` to the open bucket ending at `end`."""
        bucket = self._bucket(end)
        total = bucket.reports.get(i, 0.0) + count
        bucket.reports[i] = total
        if count > 1.0:  # pre-aggregated: prorated in early looks (`OpenBucket.paced`)
            bucket.batched[i] = bucket.batched.get(i, 0.0) + count
        if category or region or source:
            ctx = bucket.context.setdefault(i, [{}, {}, {}])
            for d, key in zip(ctx, (category, region, source), strict=True):
                if key:
                    d[key] = d.get(key, 0.0) + count
        self.crossed(i, end, total)

    def add_rate(self, i: int, end: float, errors: float | None, requests: float | None,
                 rate: float | None) -> None:
        """Add an error-rate sample of service `i` to the open bucket ending at `end`."""
        acc = self._bucket(end).rates.setdefault(i, [0.0, 0.0, 0.0, 0])
        if requests is not None:
            acc[0] += errors or 0.0
            acc[1] += requests
        elif rate is not None:
            acc[2] += rate
            acc[3] += 1

    def _bucket(self, end: float) -> OpenBucket:
        """The open bucket ending at `end`, created if new (which may move the next close)."""
        bucket = self._open.get(end)
        if bucket is None:
            bucket = self._open[end] = OpenBucket()
            if self._closed_until is None:
                self._due = -math.inf
        return bucket

    def set_band(self, upper: np.ndarray | UpperBand) -> None:
        """Full-bucket upper band per service (index order, non-finite: none): passing it
        triggers a partial view. An `UpperBand` computes each exact band when first needed."""
        self._band = (upper if isinstance(upper, UpperBand)
                      else UpperBand.of(np.asarray(upper, dtype=float)))

    def advance(self, ts: float, names: list[str]) -> list[BucketView]:
        """Move event time to `ts`; return the buckets to step now (closed, then partial)."""
        seen = self._max_seen
        if seen is not None and not self._pending:
            top = ts if ts > seen else seen
            if top < self._due:
                self._max_seen = top  # fast path: provably nothing closes or is looked at yet
                return []
        if seen is None or ts > seen:
            self._max_seen = ts
        views = self._close(self.watermark, names)
        partial = self._partial(names)
        self._due = self._next_due()
        return views + ([partial] if partial is not None else [])

    def _next_due(self) -> float:
        """Earliest event time at which `advance` can emit anything (bar a band crossing)."""
        if self._closed_until is not None:
            close = self._closed_until + self.bucket_seconds + self.lateness
        else:  # the earliest open bucket closes first (`_bucket` resets this cache on a new one)
            close = min(self._open) + self.lateness if self._open else math.inf
        start = self._partial_end - self.bucket_seconds
        look = max(self._partial_last + self.partial_every, start + self.partial_min)
        return min(close, self._partial_end, look)

    def advance_wall(self, now: float, names: list[str]) -> list[BucketView]:
        """Live mode: the wall clock reads `now`; event time follows it when idle, and events
        more than `max_clock_skew` ahead of it are rejected from now on."""
        self._wall = now if self._wall is None else max(self._wall, now)
        return self.advance(now, names)

    def flush(self, names: list[str]) -> list[BucketView]:
        """End of stream: close every open bucket (later events will be late)."""
        if not self._open:
            return []
        return self._close(max(self._open), names)

    def _current(self) -> float:
        return -math.inf if self._max_seen is None else self.end_of(self._max_seen)

    def _next_end(self) -> float | None:
        if self._closed_until is not None:
            return self._closed_until + self.bucket_seconds
        return min(self._open) if self._open else None

    def _close(self, limit: float, names: list[str]) -> list[BucketView]:
        views: list[BucketView] = []
        while (end := self._next_end()) is not None and end <= limit:
            bucket = self._open.pop(end, None)
            if bucket is None:
                self._empty_run += 1
                if self._empty_run > self.max_gap_buckets:
                    self._skip_gap(limit)
                    continue
                bucket = OpenBucket()
            else:
                self._empty_run = 0
            self._closed_until = end
            self.closed_buckets += 1
            views.append(bucket.view(end, 1.0, names))
        return views

    def _skip_gap(self, limit: float) -> None:
        """A quiet gap longer than `max_gap_seconds`: jump to the next bucket with data."""
        nxt = min(self._open) if self._open else math.inf
        if nxt <= limit:
            self._closed_until = nxt - self.bucket_seconds
        else:
            self._closed_until = math.floor(limit / self.bucket_seconds) * self.bucket_seconds

    def _partial(self, names: list[str]) -> BucketView | None:
        end = self._current()
        if end != self._partial_end:
            self._partial_end, self._partial_last = end, end - self.bucket_seconds
            self._crossed, self._pending = set(), False
        bucket = self._open.get(end)
        assert self._max_seen is not None
        elapsed = self._max_seen - (end - self.bucket_seconds)
        if bucket is None or elapsed < self.partial_min or elapsed <= 0:
            return None
        if not self._pending:
            if self._max_seen - self._partial_last < self.partial_every:
                return None
            self._partial_last = self._max_seen
            if not self._on_pace(bucket, elapsed / self.bucket_seconds):
                return None
        self._partial_last, self._pending = self._max_seen, False
        self.partial_buckets += 1
        # the bank reads a partial step as "bucket started at t - f*B, looked at at t"
        return bucket.view(self._max_seen, elapsed / self.bucket_seconds, names, self._band)

    def _on_pace(self, bucket: OpenBucket, fraction: float) -> bool:
        """Some service is on pace to pass its band (or has none yet, or the bucket holds error
        rates): worth an early look.

        Skips the vectorised scoring of calm partial buckets, the bulk of them.
        """
        if bucket.rates:
            return True  # error rates have no band here: let the bank judge them
        band, batched = self._band, bucket.batched
        floor, n, rest = band.floor, len(band), 1.0 - fraction
        for i, total in bucket.reports.items():
            if i < n:  # under the band (>= floor) at this pace? `OpenBucket.paced`, inlined
                low = floor[i]
                if total <= low * fraction or (
                        total <= low and total - batched.get(i, 0.0) * rest <= low * fraction):
                    continue
            upper = band.get(i)
            if upper is None:
                return True  # no band yet (a new service): let the bank judge
            if bucket.paced(i, fraction, upper) > upper * fraction:
                return True
        return False

    def to_state(self) -> dict[str, Any]:
        """JSON-ready exact state (floats round-trip through JSON's repr)."""
        return {"open": [[end, b.to_state()] for end, b in self._open.items()],
                "max_seen": self._max_seen, "closed_until": self._closed_until, "wall": self._wall,
                "empty_run": self._empty_run, "partial_end": self._partial_end,
                "partial_last": self._partial_last, "crossed": sorted(self._crossed),
                "pending": self._pending, "band": self._band.items(),
                "closed_buckets": self.closed_buckets, "partial_buckets": self.partial_buckets}

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore what `to_state` saved."""
        self._open = {float(end): OpenBucket.from_state(b) for end, b in state["open"]}
        self._max_seen, self._closed_until = state["max_seen"], state["closed_until"]
        self._wall = state.get("wall")
        self._empty_run = state["empty_run"]
        self._partial_end, self._partial_last = state["partial_end"], state["partial_last"]
        self._crossed, self._pending = set(state["crossed"]), state["pending"]
        self._band = UpperBand.of((int(i), float(u)) for i, u in state["band"])
        self._due = -math.inf
        self.closed_buckets = state["closed_buckets"]
        self.partial_buckets = state["partial_buckets"]
