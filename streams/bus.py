"""In-memory bus: topics of partitions of Records, consumer positions and group commits.

The embedded default of `serve` and `replay` (no Kafka): producers append, consumers poll
from their own positions, and a group's committed positions survive a consumer restart,
just like the Kafka topics of DESIGN.md, so the same Pipeline code runs on both.
Thread-safe: one lock plus a condition that wakes pollers when records arrive.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Iterable

from streams.pipeline import Pipeline, Record
from streams.sqlite_checkpoint import SqliteCheckpoint


def partition_for(key: bytes | str | None, partitions: int) -> int:
    """Stable partition of a key (crc32; Python's hash() is salted per process)."""
    if key is None or partitions == 1:
        return 0
    data = key.encode() if isinstance(key, str) else key
    return zlib.crc32(data) % partitions


class InMemoryBus:
    """Append-only topics with a fixed number of partitions each (created on first use).

    >>> bus = InMemoryBus(partitions=2)
    >>> rec = bus.produce("reports", b"{}", key="chatgpt")
    >>> consumer = BusConsumer(bus, ["reports"], group="g")
    >>> [r.value for r in consumer.poll()], consumer.poll()
    ([b'{}'], [])
    >>> consumer.commit(); bus.committed("g")[("reports", rec.partition)]
    1
    """

    def __init__(self, partitions: int = 1) -> None:
        self.default_partitions = partitions
        self._topics: dict[str, list[list[Record]]] = {}
        self._committed: dict[str, dict[tuple[str, int], int]] = {}
        self._cond = threading.Condition()

    def create_topic(self, topic: str, partitions: int | None = None) -> None:
        """Create `topic` (idempotent)."""
        with self._cond:
            if topic not in self._topics:
                n = partitions or self.default_partitions
                self._topics[topic] = [[] for _ in range(n)]

    def partitions(self, topic: str) -> int:
        self.create_topic(topic)
        return len(self._topics[topic])

    def produce(self, topic: str, value: bytes, key: bytes | str | None = None,
                partition: int | None = None) -> Record:
        """Append one message (partitioned by key) and return it with its offset."""
        self.create_topic(topic)
        with self._cond:
            parts = self._topics[topic]
            p = partition_for(key, len(parts)) if partition is None else partition
            kb = key.encode() if isinstance(key, str) else key
            rec = Record(topic, value, kb, p, len(parts[p]))
            parts[p].append(rec)
            self._cond.notify_all()
        return rec

    def fetch(self, topic: str, partition: int, offset: int, max_records: int) -> list[Record]:
        """Records of one partition from `offset` on (at most `max_records`)."""
        with self._cond:
            return self._topics.get(topic, [[]])[partition][offset:offset + max_records]

    def end_offset(self, topic: str, partition: int) -> int:
        with self._cond:
            return len(self._topics.get(topic, [[]])[partition])

    def wait(self, timeout: float) -> None:
        """Block until something is produced or `timeout` seconds pass."""
        with self._cond:
            self._cond.wait(timeout)

    def commit(self, group: str, positions: dict[tuple[str, int], int]) -> None:
        """Store a group's next offsets (after its checkpoint was saved)."""
        with self._cond:
            self._committed.setdefault(group, {}).update(positions)

    def committed(self, group: str) -> dict[tuple[str, int], int]:
        with self._cond:
            return dict(self._committed.get(group, {}))


class BusConsumer:
    """Polls several topics of a bus from its own positions, partitions in round robin."""

    def __init__(self, bus: InMemoryBus, topics: Iterable[str], group: str = "outage-radar",
                 positions: dict[tuple[str, int], int] | None = None) -> None:
        self.bus, self.group = bus, group
        self.topics = list(topics)
        start = positions if positions is not None else bus.committed(group)
        self.positions = {(t, p): start.get((t, p), 0)
                          for t in self.topics for p in range(bus.partitions(t))}

    def poll(self, max_records: int = 1000, timeout: float = 0.0) -> list[Record]:
        """Up to `max_records` new records; waits up to `timeout` seconds when none."""
        batch = self._take(max_records)
        if not batch and timeout > 0:
            self.bus.wait(timeout)
            batch = self._take(max_records)
        return batch

    def _take(self, max_records: int) -> list[Record]:
        out: list[Record] = []
        share = max(1, max_records // max(1, len(self.positions)))
        for (topic, part), off in self.positions.items():
            recs = self.bus.fetch(topic, part, off, share)
            self.positions[(topic, part)] = off + len(recs)
            out.extend(recs)
        return out

    def seek(self, positions: dict[tuple[str, int], int]) -> None:
        """Resume from positions (e.g. those saved inside a checkpoint)."""
        for key, off in positions.items():
            if key in self.positions:
                self.positions[key] = off

    def commit(self) -> None:
        self.bus.commit(self.group, self.positions)


class EmbeddedWorker:
    """Pumps a bus into a Pipeline and checkpoints it: the embedded (Kafka-less) worker.

    Checkpoint order: the pipeline has flushed its sinks (store commit, alert callbacks) at the
    end of each batch; then the state with positions inside is saved; then offsets committed.
    """

    TOPICS = ("reports", "error-rates")

    def __init__(self, bus: InMemoryBus, pipeline: Pipeline,
                 checkpoint: SqliteCheckpoint | None = None, *, group: str = "outage-radar",
                 checkpoint_every: int = 10_000) -> None:
        self.bus, self.pipeline, self.ckpt = bus, pipeline, checkpoint
        self.consumer = BusConsumer(bus, self.TOPICS, group, positions=dict(pipeline.positions))
        self.checkpoint_every = checkpoint_every
        self._since = 0

    @staticmethod
    def restore_pipeline(checkpoint: SqliteCheckpoint, **pipeline_kwargs) -> Pipeline:
        """The pipeline saved in `checkpoint`, or a fresh one when there is none."""
        saved = checkpoint.load()
        if saved is None:
            return Pipeline(**pipeline_kwargs)
        settings = pipeline_kwargs.pop("settings", None)
        return Pipeline.restore(saved[0], settings, **pipeline_kwargs)

    def step(self, max_records: int = 1000, timeout: float = 0.1) -> int:
        """Process one polled batch; checkpoint every `checkpoint_every` records."""
        batch = self.consumer.poll(max_records, timeout)
        if batch:
            self.pipeline.process(batch)
            self._since += len(batch)
            if self._since >= self.checkpoint_every:
                self.checkpoint()
        return len(batch)

    def checkpoint(self) -> None:
        """Save state with positions (atomically), then commit the group's offsets."""
        if self.ckpt is not None:
            self.ckpt.save(self.pipeline.snapshot(), self.pipeline.positions)
        self.consumer.commit()
        self._since = 0
