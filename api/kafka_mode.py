"""`serve --kafka HOST:PORT`: the Kafka worker (streams.worker) in a thread, the API on its store.

The worker consumes the real `reports`/`error-rates` topics as a consumer-group member (one
pipeline per partition it holds), writes series and incidents to the SQLite store under
`data/` and calls back with every alert, which goes out on the SSE hub. Ingest over HTTP is
produced to the input topics, keyed by service, so it takes the same path as every other
producer. With `--worker` the process is a worker only (no HTTP): start several to share the
partitions; each API process serves what its own worker holds.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from api.runtime import Runtime
from api.settings import Settings
from api.wiring import pipeline_settings
from streams import kafka_io
from streams.records import Record
from streams.store import Store
from streams.worker import Worker, WorkerConfig

log = logging.getLogger(__name__)


class KafkaService:
    """Runs a `Worker` in a thread; produces ingested records to the input topics."""

    def __init__(self, settings: Settings, runtime: Runtime, topics: kafka_io.TopicNames) -> None:
        assert settings.kafka
        self.bootstrap, self.topics = settings.kafka, topics
        config = WorkerConfig(settings.kafka, settings.kafka_group, topics,
                              pipeline=pipeline_settings(settings),
                              live=settings.live, checkpoint_every=settings.checkpoint_seconds)
        self.worker = Worker(config, on_alert=runtime.on_alert, store=runtime.store)
        self._thread = threading.Thread(target=self._run, name="kafka-worker", daemon=True)
        self._producer: Any = None
        self._lock = threading.Lock()

    def _run(self) -> None:
        try:
            self.worker.run()
        except Exception:  # logged with its trace; /healthz still answers from the store
            log.exception("kafka worker stopped")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.worker.stop()
        self._thread.join(timeout=60)
        with self._lock:
            if self._producer is not None:
                self._producer.close()

    def submit(self, records: list[Record]) -> None:
        """Produce to the real input topics (topic by logical name, key = service)."""
        names = {"reports": self.topics.reports, "error-rates": self.topics.error_rates}
        with self._lock:
            if self._producer is None:
                self._producer = kafka_io.producer(self.bootstrap)
            for rec in records:
                self._producer.send(names[rec.topic], key=rec.key, value=rec.value)
            self._producer.flush()

    def counters(self) -> dict[str, Any]:
        """Worker totals (processed, dead letters by reason, alerts sent)."""
        try:
            c = self.worker.counters()
        except RuntimeError:  # partitions reassigned while counting: report nothing this time
            return {}
        return {"processed": c["processed"], "dead_letter": c["dead_letter"],
                "alerts": c["alerts_sent"]}


def kafka_runtime(settings: Settings,
                  topics: kafka_io.TopicNames | None = None) -> tuple[Runtime, KafkaService]:
    """A runtime reading the worker's store under `settings.data`; ingest goes to Kafka."""
    runtime = Runtime(store=Store(Path(settings.data) / "store.sqlite"), mode="kafka")
    names = topics or kafka_io.TopicNames.prefixed(settings.kafka_prefix)
    service = KafkaService(settings, runtime, names)
    runtime.submit, runtime.extra_counters = service.submit, service.counters
    return runtime, service
