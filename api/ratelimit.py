"""Per-reporter token buckets for ingest (429 when a reporter sends faster than allowed)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable


class RateLimiter:
    """Token bucket per key: `rate_per_minute` refill, at most `burst` tokens saved up.

    The API edge may read the wall clock (the detector never does); `clock` is injectable
    so tests are exact. Keys are kept only in memory and never returned to clients.
    """

    def __init__(self, rate_per_minute: float, burst: float,
                 clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000) -> None:
        self.rate = rate_per_minute / 60.0
        self.burst = burst
        self.clock = clock
        self.max_keys = max_keys
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[float, float]] = {}

    def try_acquire(self, keys: Iterable[str]) -> float:
        """Take a token per key occurrence, all or nothing: 0.0 if allowed, else seconds to wait."""
        wanted = Counter(keys)
        with self._lock:
            now = self.clock()
            levels = {k: self._level(k, now) for k in wanted}
            short = [(n - levels[k]) / self.rate for k, n in wanted.items() if levels[k] < n]
            if short:
                return max(short)
            for key, n in wanted.items():
                self._tokens[key] = (levels[key] - n, now)
            self._evict()
        return 0.0

    def _level(self, key: str, now: float) -> float:
        tokens, last = self._tokens.get(key, (self.burst, now))
        return min(self.burst, tokens + (now - last) * self.rate)

    def _evict(self) -> None:
        """Forget the oldest keys when too many are tracked (bounded memory)."""
        if len(self._tokens) > self.max_keys:
            oldest = sorted(self._tokens, key=lambda k: self._tokens[k][1])
            for key in oldest[: self.max_keys // 10]:
                del self._tokens[key]
