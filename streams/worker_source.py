"""Where a Kafka worker's input records come from: its group consumer itself, or a fetch
process fed with that consumer's assignment (`WorkerConfig.fetch_process`, see
`streams.kafka_fetch`). Either way the worker sees the same `Record`s of each input partition,
in offset order, from the positions it sought."""

from __future__ import annotations

from typing import Any

from streams.kafka_fetch import FetchProcess
from streams.pipeline import Record

GROUP_POLL_MS = 200  # a group consumer's poll gets this long (joins, coordinator look-ups)


class InputSource:
    """Polls, seeks, pauses and reports high-water marks of the worker's input partitions."""

    def __init__(self, consumer: Any, logical: dict[str, str],
                 fetch: FetchProcess | None = None) -> None:
        self.consumer, self.fetch = consumer, fetch
        self._logical = logical  # kafka topic -> logical input name
        self._tps: dict[tuple[str, int], Any] = {}

    def poll(self, timeout_ms: int) -> list[tuple[Any, list[Record]]]:
        """(TopicPartition, records) of each partition that delivered records."""
        logical = self._logical
        if self.fetch is None:
            polled = self.consumer.poll(timeout_ms=max(timeout_ms, GROUP_POLL_MS))
            return [(tp, [Record(logical[tp.topic], m.value, m.key, m.partition, m.offset)
                          for m in msgs]) for tp, msgs in polled.items()]
        busy = self._group_busy()  # the consumer only keeps membership: its partitions are
        self.consumer.poll(timeout_ms=GROUP_POLL_MS if busy else 0)  # paused
        return [(self.tp(t, p), [Record(logical[t], v, None, p, o)
                                  for v, o in zip(values, offsets, strict=True)])
                for t, p, _, values, offsets in self.fetch.poll(0 if busy else timeout_ms / 1000)]

    def _group_busy(self) -> bool:
        """The group consumer has membership work (coordinator look-up, join, rebalance),
        which a zero-timeout poll would abandon (kafka-python's coordinator, read-only)."""
        coord = getattr(self.consumer, "_coordinator", None)
        try:
            return (not self.consumer.assignment() or coord.coordinator_unknown()
                    or coord.need_rejoin())
        except AttributeError:  # another kafka-python: always give the group its time
            return True

    def tp(self, topic: str, p: int) -> Any:
        """The (cached) TopicPartition of a kafka topic name and partition."""
        tp = self._tps.get((topic, p))
        if tp is None:
            from kafka import TopicPartition

            tp = self._tps[(topic, p)] = TopicPartition(topic, p)
        return tp

    def seek(self, tp: Any, position: int) -> None:
        self.consumer.seek(tp, position)
        if self.fetch is not None:
            self.consumer.pause(tp)  # the fetch process reads it instead
            self.fetch.seek(tp.topic, tp.partition, position)

    def release(self, tp: Any) -> None:
        """Stop reading a revoked partition."""
        if self.fetch is not None:
            self.fetch.unassign(tp.topic, tp.partition)

    def highwater(self, tp: Any) -> int | None:
        if self.fetch is None:
            return self.consumer.highwater(tp)
        return self.fetch.highwater.get((tp.topic, tp.partition))

    def paused(self, tp: Any) -> bool:
        if self.fetch is None:
            return tp in self.consumer.paused()
        return self.fetch.paused(tp.topic, tp.partition)

    def pause(self, tp: Any) -> None:
        if self.fetch is None:
            self.consumer.pause(tp)
        else:
            self.fetch.pause(tp.topic, tp.partition)

    def resume(self, tp: Any) -> None:
        if self.fetch is None:
            self.consumer.resume(tp)
        else:
            self.fetch.resume(tp.topic, tp.partition)

    def close(self) -> None:
        if self.fetch is not None:
            self.fetch.close()
