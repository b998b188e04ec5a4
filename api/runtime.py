"""Runtime: the running service as the HTTP layer sees it (store, bank reads, ingest, alerts).

Reads go to the store and to a read-only view of the pipeline's bank, taken under the lock the
pipeline thread holds while it steps, so a reader never sees a half-updated bank and never
mutates it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from api.hub import AlertHub

if TYPE_CHECKING:
    from detector import ServiceStatus
    from streams.pipeline import Pipeline, Record
    from streams.store import Store

Submit = Callable[[list["Record"]], None]


class NoIngestPath(RuntimeError):
    """Ingest asked of a read-only runtime (a store without pipeline, bus or Kafka)."""


@dataclass
class Runtime:
    """Shared by every request handler; built by `serve`, `demo` or a test."""

    store: Store
    pipeline: Pipeline | None = None
    hub: AlertHub = field(default_factory=AlertHub)
    lock: threading.RLock = field(default_factory=threading.RLock)
    submit: Submit | None = None  # where ingested records go (None: process inline)
    mode: str = "embedded"
    extra_counters: Callable[[], dict[str, Any]] | None = None

    def ingest(self, records: list[Record]) -> None:
        """Hand records to the pipeline: through the bus/Kafka if wired, else inline."""
        if self.submit is not None:
            self.submit(records)
        elif self.pipeline is not None:
            self.process(records)
        else:
            raise NoIngestPath("this instance is read-only: it has no ingest path")

    def process(self, records: Iterable[Record]) -> None:
        """Step the pipeline (the only writer of the bank) under the runtime lock."""
        assert self.pipeline is not None
        with self.lock:
            self.pipeline.process(records)

    def statuses(self) -> dict[str, ServiceStatus]:
        """A consistent copy of every service's latest status, keyed by service id."""
        if self.pipeline is None:
            return {}
        with self.lock:
            return {s.service: s for s in self.pipeline.bank.status()}

    def counters(self) -> dict[str, Any]:
        """Pipeline counters (processed, dead letters by reason, alerts) as plain data."""
        if self.extra_counters is not None:
            return self.extra_counters()
        if self.pipeline is None:
            return {}
        with self.lock:
            return _plain(self.pipeline.counters)

    def on_alert(self, alert: dict[str, Any]) -> None:
        """Pipeline callback: every alert goes out on the SSE hub."""
        self.hub.publish(alert)


def _plain(value: Any) -> Any:
    """Deep copy of counters into dicts/numbers, whatever mapping/dataclass holds them."""
    if hasattr(value, "__dataclass_fields__"):
        return {k: _plain(getattr(value, k)) for k in value.__dataclass_fields__}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if hasattr(value, "items"):
        return {str(k): _plain(v) for k, v in value.items()}
    return value
