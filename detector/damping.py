"""Reporter damping: only a few reports per reporter per window count towards a service.

One angry (or automated) reporter sending 400 reports must not look like 400 people. Each
(service, reporter) pair has a tumbling event-time window opened by its first report; within
it at most ``max_per_window`` reports are admitted. Pure (no clocks: event time comes with
each call), deterministic, bounded (expired pairs are pruned) and snapshot-able.
"""

from __future__ import annotations

import json

import orjson


class ReporterDamper:
    """Counts at most ``max_per_window`` reports per (service, reporter) per window.

    >>> d = ReporterDamper(max_per_window=3, window_seconds=600)
    >>> [d.admit("chatgpt", "r1", 100.0 + i, 1) for i in range(5)]
    [1.0, 1.0, 1.0, 0.0, 0.0]
    >>> d.admit("chatgpt", "r1", 700.0, 10), d.admit("chatgpt", None, 701.0, 10)
    (3.0, 10.0)
    """

    def __init__(self, max_per_window: int = 3, window_seconds: float = 600.0) -> None:
        self.max_per_window = int(max_per_window)
        self.window_seconds = float(window_seconds)
        # per "service\0reporter" (a service id never holds \0): window start, admitted count;
        # str -> float dicts are not tracked by the cyclic GC, which matters at 1e5 reporters
        self._start: dict[str, float] = {}
        self._taken: dict[str, float] = {}
        self._pruned_at = float("-inf")

    def __len__(self) -> int:
        return len(self._start)

    def admit(self, service: str, reporter: str | None, ts: float, count: float = 1.0) -> float:
        """How much of ``count`` reports by ``reporter`` at event time ``ts`` counts."""
        if not reporter:
            return float(count)
        if ts >= self._pruned_at + self.window_seconds:
            self._prune(ts)
        key = service + "\0" + reporter
        start = self._start.get(key)
        w = self.window_seconds
        if start is None or ts >= start + w or ts < start - w:
            self._start[key] = ts
            taken = 0.0
        else:
            taken = self._taken[key]
        room = self.max_per_window - taken
        count = float(count)
        take = count if not room < count else room  # = max(0.0, min(count, room))
        if not take > 0.0:
            take = 0.0
        self._taken[key] = taken + take
        return take

    def _prune(self, ts: float) -> None:
        """Drop windows expired before ``ts`` (at most once per window length)."""
        if ts < self._pruned_at + self.window_seconds:
            return
        self._pruned_at = ts
        cutoff = ts - self.window_seconds
        self._start = {k: s for k, s in self._start.items() if s > cutoff}
        taken = self._taken
        self._taken = {k: taken[k] for k in self._start}

    def to_bytes(self) -> bytes:
        """Exact snapshot (JSON; floats round-trip exactly), keys in sorted order.

        Columns (keys, window starts, admitted counts) written by orjson: a checkpoint of
        1e5 reporters costs several times less than rows of [service, reporter, start, taken]
        through `json` did (`from_bytes` still reads those). The header keeps `json`, which
        writes the -Infinity of a damper never pruned.
        """
        keys = sorted(self._start)
        head = json.dumps({"max": self.max_per_window, "window": self.window_seconds,
                           "pruned": self._pruned_at})
        cols = orjson.dumps({"keys": keys, "start": list(map(self._start.__getitem__, keys)),
                             "taken": list(map(self._taken.__getitem__, keys))})
        return head[:-1].encode() + b", " + cols[1:]

    @classmethod
    def from_bytes(cls, data: bytes) -> ReporterDamper:
        """Restore a damper saved by `to_bytes` (or by its former row format)."""
        obj = json.loads(data)
        d = cls(int(obj["max"]), float(obj["window"]))
        d._pruned_at = float(obj["pruned"])
        if "rows" in obj:
            for s, r, a, b in obj["rows"]:
                d._start[s + "\0" + r] = float(a)
                d._taken[s + "\0" + r] = float(b)
        else:
            d._start = dict(zip(obj["keys"], map(float, obj["start"]), strict=True))
            d._taken = dict(zip(obj["keys"], map(float, obj["taken"]), strict=True))
        return d
