"""Checkpoints of per-partition pipeline state in the compacted `detector-state` topic.

One message per (consumer group, input partition): key `"<group>/<partition>"`, value the
zlib-compressed `Pipeline.snapshot()` (bank, buckets, damper and the consumed positions
inside). A save returns only once the broker acknowledged it (acks=all), so the worker can
commit offsets after it; compaction keeps the latest value per key. Loading reads the topic
from where the previous load stopped to its current end, so a worker that receives a
partition on a rebalance also sees the checkpoints its peers wrote meanwhile. Values are kept
compressed and inflated only when their key is loaded: the topic also holds other groups'
and superseded checkpoints (compaction is lazy), which a worker never needs to inflate.
The first read starts in a background thread as soon as the store is built (the worker builds
it before joining its group), so the first assignment finds the topic mostly read already.
"""

from __future__ import annotations

import threading
import zlib
from typing import Any

from streams import kafka_io
from streams.errors import CheckpointError


def state_key(group: str, partition: int) -> str:
    """Checkpoint key of one input partition of a consumer group."""
    return f"{group}/{partition}"


class KafkaCheckpoints:
    """Saves and loads snapshot bytes by key in a compacted topic."""

    def __init__(self, bootstrap: str, topic: str, producer: Any) -> None:
        self.bootstrap, self.topic, self._producer = bootstrap, topic, producer
        self._reader: Any = None
        self._parts: list[Any] = []
        self._latest: dict[str, bytes] = {}  # key -> zlib-compressed snapshot
        self.saved = 0
        self._early: threading.Thread | None = threading.Thread(
            target=self._read_early, name="checkpoint-prefetch", daemon=True)
        self._early.start()

    def _read_early(self) -> None:
        """The first `_catch_up`, off the caller's thread; a failure is left for `load` to
        meet again (and raise) on the caller's thread."""
        try:
            self._catch_up()
        except Exception:  # noqa: BLE001 - retried, and raised, by the next load
            pass

    def _wait_early(self) -> None:
        if self._early is not None:
            self._early.join()
            self._early = None

    def save(self, key: str, snapshot: bytes, timeout_s: float = 600.0) -> None:
        """Write one checkpoint and wait for the broker's acknowledgement."""
        self.save_all([(key, snapshot)], timeout_s)

    def save_all(self, items: list[tuple[str, bytes]], timeout_s: float = 600.0) -> None:
        """Write several checkpoints, then wait for every acknowledgement (one round trip
        for all of them instead of one per key); returns only once all are acknowledged."""
        packed = [(key, zlib.compress(snapshot, 1)) for key, snapshot in items]
        futures = [self._producer.send(self.topic, key=key.encode(), value=value)
                   for key, value in packed]
        for future in futures:
            future.get(timeout=timeout_s)
        for key, value in packed:
            self._latest[key] = value
            self.saved += 1

    def load(self, key: str) -> bytes | None:
        """Latest snapshot saved under `key` (by anyone), or None."""
        self._wait_early()
        self._catch_up()
        value = self._latest.get(key)
        if value is None:
            return None
        try:
            return zlib.decompress(value)
        except zlib.error as exc:
            raise CheckpointError(f"corrupt checkpoint {key!r}: {exc}") from exc

    def position(self, key: str, topic: str, partition: int) -> int:
        """Next offset of input (logical `topic`, `partition`) inside the latest checkpoint."""
        from streams.pipeline import Pipeline

        data = self.load(key)
        if data is None:
            return 0
        pipe = Pipeline.restore(data, on_alert=_ignore, on_dead_letter=_ignore)
        return pipe.positions.get((topic, partition), 0)

    def _catch_up(self) -> None:
        from kafka import TopicPartition

        if self._reader is None:  # set up completely or not at all (a failure is met again)
            reader = kafka_io.plain_consumer(self.bootstrap)
            kafka_io.load_metadata(reader, [self.topic], all_topics=True)  # (creates none)
            parts = reader.partitions_for_topic(self.topic)
            if not parts:
                reader.close()
                raise CheckpointError(f"checkpoint topic {self.topic!r} does not exist")
            self._parts = [TopicPartition(self.topic, p) for p in sorted(parts)]
            reader.assign(self._parts)
            reader.seek_to_beginning(*self._parts)
            self._reader = reader
        end = self._reader.end_offsets(self._parts)
        for batch in kafka_io.drain(self._reader, self._parts, end, timeout_s=120.0):
            for msg in batch:
                self._apply(msg.key, msg.value)

    def _apply(self, key: bytes | None, value: bytes | None) -> None:
        if key is None:
            return
        name = key.decode()
        if value is None:  # tombstone
            self._latest.pop(name, None)
        else:
            self._latest[name] = value

    def close(self) -> None:
        self._wait_early()
        if self._reader is not None:
            self._reader.close()
            self._reader = None


def _ignore(_: dict) -> None:
    """Sink of a pipeline restored only to be read."""
