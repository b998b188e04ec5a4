"""Reporter damping: only a few reports per reporter per window count towards a service.

One angry (or automated) reporter sending 400 reports must not look like 400 people. Each
(service, reporter) pair has a tumbling event-time window opened by its first report; within
it at most ``max_per_window`` reports are admitted. Pure (no clocks: event time comes with
each call), deterministic, bounded (expired pairs are pruned) and snapshot-able.
"""

from __future__ import annotations

import json


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
        self._windows: dict[tuple[str, str], list[float]] = {}  # -> [window start, admitted]
        self._pruned_at = float("-inf")

    def __len__(self) -> int:
        return len(self._windows)

    def admit(self, service: str, reporter: str | None, ts: float, count: float = 1.0) -> float:
        """How much of ``count`` reports by ``reporter`` at event time ``ts`` counts."""
        if not reporter:
            return float(count)
        self._prune(ts)
        key = (service, reporter)
        win = self._windows.get(key)
        if win is None or ts >= win[0] + self.window_seconds or ts < win[0] - self.window_seconds:
            win = self._windows[key] = [ts, 0.0]
        take = max(0.0, min(float(count), self.max_per_window - win[1]))
        win[1] += take
        return take

    def _prune(self, ts: float) -> None:
        """Drop windows expired before ``ts`` (at most once per window length)."""
        if ts < self._pruned_at + self.window_seconds:
            return
        self._pruned_at = ts
        cutoff = ts - self.window_seconds
        self._windows = {k: w for k, w in self._windows.items() if w[0] > cutoff}

    def to_bytes(self) -> bytes:
        """Exact snapshot (JSON; floats round-trip exactly)."""
        rows = [[s, r, w[0], w[1]] for (s, r), w in sorted(self._windows.items())]
        return json.dumps({"max": self.max_per_window, "window": self.window_seconds,
                           "pruned": self._pruned_at, "rows": rows}).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> ReporterDamper:
        """Restore a damper saved by `to_bytes`."""
        obj = json.loads(data)
        d = cls(int(obj["max"]), float(obj["window"]))
        d._pruned_at = float(obj["pruned"])
        d._windows = {(s, r): [float(a), float(b)] for s, r, a, b in obj["rows"]}
        return d
