"""The embedded default of `serve`: in-memory bus -> pipeline thread -> SQLite store under data/.

A background thread polls the bus, steps the pipeline under the runtime lock (so API reads
see whole buckets), advances the watermark from the wall clock when idle in live mode (so
buckets close without new events), and checkpoints state + positions to SQLite regularly.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from api.runtime import Runtime
from api.settings import Settings
from api.wiring import DeadLetters, pipeline_settings
from streams.bus import EmbeddedWorker, InMemoryBus
from streams.records import Record
from streams.sqlite_checkpoint import SqliteCheckpoint
from streams.store import Store

log = logging.getLogger(__name__)


class EmbeddedService:
    """Owns the bus, the checkpoint and the pipeline thread; started by the app's lifespan."""

    def __init__(self, settings: Settings, runtime: Runtime, bus: InMemoryBus,
                 checkpoint: SqliteCheckpoint) -> None:
        self.settings, self.runtime, self.bus, self.ckpt = settings, runtime, bus, checkpoint
        assert runtime.pipeline is not None
        runtime.pipeline.positions = {}  # a fresh in-memory bus starts at offset 0
        self.worker = EmbeddedWorker(bus, runtime.pipeline, checkpoint)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pipeline", daemon=True)

    def submit(self, records: list[Record]) -> None:
        """Ingest path of the API: append to the bus topics, keyed by service."""
        for rec in records:
            self.bus.produce(rec.topic, rec.value, key=rec.key)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        with self.runtime.lock:
            self.worker.checkpoint()

    def _run(self) -> None:
        last_ckpt = time.monotonic()
        while not self._stop.is_set():
            try:
                self._once()
                if time.monotonic() - last_ckpt >= self.settings.checkpoint_seconds:
                    with self.runtime.lock:
                        self.worker.checkpoint()
                    last_ckpt = time.monotonic()
            except Exception:  # the thread must survive; the error is logged with its trace
                log.exception("pipeline thread error")
                time.sleep(1.0)

    def _once(self) -> None:
        """One batch if there is one, else (live mode) close buckets by the wall clock."""
        with self.runtime.lock:
            n = self.worker.step(max_records=5000, timeout=0.0)
            if n == 0 and self.settings.live:
                self.runtime.pipeline.advance_watermark(time.time())  # type: ignore[union-attr]
        if n == 0:
            self.bus.wait(0.5)


def embedded_runtime(settings: Settings) -> tuple[Runtime, EmbeddedService]:
    """Store and checkpoint under `settings.data`, restoring the pipeline when one was saved."""
    data = Path(settings.data)
    runtime = Runtime(store=Store(data / "store.sqlite"), mode="embedded")
    checkpoint = SqliteCheckpoint(data / "checkpoint.sqlite")
    runtime.pipeline = EmbeddedWorker.restore_pipeline(
        checkpoint, settings=pipeline_settings(settings), on_alert=runtime.on_alert,
        on_dead_letter=DeadLetters(), store=runtime.store)
    service = EmbeddedService(settings, runtime, InMemoryBus(), checkpoint)
    runtime.submit = service.submit
    return runtime, service
