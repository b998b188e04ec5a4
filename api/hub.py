"""AlertHub: fans alerts out from the pipeline thread to every SSE subscriber's asyncio queue."""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

Alert = dict[str, Any]


class AlertHub:
    """Thread-safe publish/subscribe of alert dicts; keeps the latest few for late subscribers."""

    def __init__(self, backlog: int = 200, queue_size: int = 1000) -> None:
        self.backlog = backlog
        self.queue_size = queue_size
        self._lock = threading.Lock()
        self._subscribers: set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[Alert]]] = set()
        self._recent: deque[Alert] = deque(maxlen=backlog)

    def publish(self, alert: Alert) -> None:
        """Called from any thread (the pipeline's): remember the alert and wake subscribers."""
        with self._lock:
            self._recent.append(alert)
            subscribers = list(self._subscribers)
        for loop, queue in subscribers:
            if not loop.is_closed():
                loop.call_soon_threadsafe(_offer, queue, alert)

    def recent(self, n: int) -> list[Alert]:
        """The last `n` alerts published, oldest first."""
        with self._lock:
            items = list(self._recent)
        return items[-n:] if n > 0 else []

    def since(self, alert_id: str) -> list[Alert]:
        """Alerts published after the one with `alert_id` (all kept ones if it is unknown)."""
        with self._lock:
            items = list(self._recent)
        ids = [a.get("alert_id") for a in items]
        return items[ids.index(alert_id) + 1:] if alert_id in ids else items

    @contextmanager
    def subscribe(self) -> Iterator[asyncio.Queue[Alert]]:
        """A queue receiving every alert published while the context is open (call in a loop)."""
        entry = (asyncio.get_running_loop(), asyncio.Queue[Alert](maxsize=self.queue_size))
        with self._lock:
            self._subscribers.add(entry)
        try:
            yield entry[1]
        finally:
            with self._lock:
                self._subscribers.discard(entry)

    @property
    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscribers)


def _offer(queue: asyncio.Queue[Alert], alert: Alert) -> None:
    """Put without blocking; a subscriber too slow to keep up loses its oldest alert."""
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(alert)
