"""Where a Kafka worker's input records come from: its group consumer itself, or a fetch
process fed with that consumer's assignment (`WorkerConfig.fetch_process`, see
`streams.kafka_fetch`). Either way the worker sees the same `Record`s of each input partition,
in offset order, from the positions it sought, and record batches are read by
`streams.record_batches` (kafka-python's reader only where it cannot be replaced).

With a fetch process the group consumer itself delivers the first records while the child
starts (its interpreter and `import kafka` take ~0.3-0.5 s, longer than the group join). When
the child says it is up, it is sought to where the group consumer got; when its first records
arrive the source hands over, dropping from the child's batches what the group consumer
delivered in between (`_trimmed`), and pauses the group consumer's partitions."""

from __future__ import annotations

import time
from collections.abc import Iterable
from itertools import repeat
from operator import itemgetter
from typing import Any

from streams.errors import BadMessage
from streams.kafka_fetch import FetchProcess
from streams.parsing import decode_many
from streams.records import Record
from streams.schema import Event, ReportEvent

GROUP_POLL_MS = 200  # in-process fetch: a group consumer's poll gets at least this long
JOIN_WAIT_MS = 5000  # longest wait for the group's work (look-up, join, sync) in one `poll`
GROUP_EVERY_S = 0.1  # fetch process: the group consumer is polled at most this often
Polled = tuple[Any, list[Record], list[Event | BadMessage] | None]  # tp, records, events


def _events(logical: str, values: list[bytes], tuples: list[tuple],
            todo: list[int]) -> list[Event | BadMessage]:
    """The fetch process's `report_tuples` as `decode_many` gives them: `ReportEvent`s, and
    the values it left (`todo`, no event) decoded here, into their dead-letter reasons."""
    new = tuple.__new__
    if not todo:
        return list(map(new, repeat(ReportEvent), tuples))  # (in C: ~10% less than a loop)
    events: list[Event | BadMessage] = [new(ReportEvent, e) if e else None  # type: ignore[misc]
                                        for e in tuples]
    for i, event in zip(todo, decode_many(logical, [values[i] for i in todo]), strict=True):
        events[i] = event
    return events


_first, _second = itemgetter(0), itemgetter(1)


def _made(topic: str, values: Iterable[bytes], partition: int, offsets: Iterable[int]
          ) -> list[Record]:
    """One `Record` per value, built in C: `tuple.__new__` over the tuples of a `zip` (which
    reuses its tuple once each is copied), ~30% less than a comprehension of them. `values`
    and `offsets` have the same length (else a ValueError, where both are lists)."""
    if isinstance(values, list) and isinstance(offsets, list) and len(values) != len(offsets):
        raise ValueError(f"{len(values)} values but {len(offsets)} offsets")
    fields = zip(repeat(topic), values, repeat(None), repeat(partition), offsets)  # noqa: B905
    return list(map(tuple.__new__, repeat(Record), fields))


def _in_hand(consumer: Any) -> bool:
    """kafka-python (3.0.12) holds fetched records: its next poll returns them at once. A
    fetch of a partition the worker paused (`_throttle`) counts too: that poll then returns
    nothing, and lockstep's wait stays bounded (`Lockstep.hold_s`, `backlog`). False where
    the fetcher cannot be read so (another version)."""
    fetcher = getattr(consumer, "_fetcher", None)
    try:
        nxt, done = fetcher._next_partition_records, fetcher._completed_fetches
    except AttributeError:
        return False
    return bool(nxt) or bool(done)


class InputSource:
    """Polls, seeks, pauses and reports high-water marks of the worker's input partitions."""

    def __init__(self, consumer: Any, logical: dict[str, str],
                 fetch: FetchProcess | None = None) -> None:
        from streams import record_batches

        self.consumer, self.fetch = consumer, fetch
        self._unpark = record_batches.unpark
        self._fast = record_batches.install(consumer)  # its polls give (offset, value) pairs
        self._logical = logical  # kafka topic -> logical input name
        self._tps: dict[tuple[str, int], Any] = {}
        self._group_due = 0.0  # monotonic time of the next membership poll (fetch process)
        self.early = fetch is not None  # the group consumer reads until the child answers
        self.early_records = 0  # records it delivered before the hand-over
        self._switching = False  # the child is up and sought, its first answer not yet read
        self._pos: dict[Any, int] = {}  # early: next offset per sought partition
        self._trim: dict[Any, int] = {}  # the child's batches keep offsets from here on

    def ready(self) -> bool:
        """A `poll` now returns records without waiting: the fetch process has a message
        waiting, or (the group consumer reading) kafka-python has fetched records in hand."""
        if self.fetch is not None and not self.early:
            return self.fetch.ready()
        return _in_hand(self.consumer)

    def poll(self, timeout_ms: int) -> list[Polled]:
        """(TopicPartition, records, events) of each partition that delivered records: events
        are the records' decoded reports where the fetch process decoded them, else None.

        The group's work is waited for (`_settle_group`) before the in-process consumer's
        poll (whose records follow the seeks of that poll's rebalance callbacks) and right
        after the fetch process's poll of the group consumer (its batches carry epochs)."""
        if self.early and self.fetch is not None and self.fetch.ready():
            if not self._switching:
                self._switch()
            elif batches := self.fetch.poll(0):  # its first records: it reads from now on
                self._hand_over()
                return self._trimmed(self._batch_records(batches))
            # (an answer without records: the group consumer reads on meanwhile)
        if self.fetch is None or self.early:
            self._settle_group()
            self._unpark(self.consumer)  # (a partition `_throttle` resumed reads on)
            polled = self.consumer.poll(timeout_ms=max(timeout_ms, GROUP_POLL_MS))
            out = self._records(polled)
            if self.early:
                for tp, records, _ in out:
                    if tp in self._pos:  # else revoked meanwhile: nothing to hand over
                        self._pos[tp] = records[-1].offset + 1
                    self.early_records += len(records)
            return out
        busy = False
        if time.monotonic() >= self._group_due:  # each poll wakes kafka-python's IO thread
            self.consumer.poll(timeout_ms=0)  # membership only: its partitions are paused
            busy = self._settle_group()  # a rebalance this poll began is not left in flight
            self._group_due = time.monotonic() + GROUP_EVERY_S
        out = self._batch_records(self.fetch.poll(0 if busy else timeout_ms / 1000))
        return self._trimmed(out) if self._trim else out

    def _batch_records(self, batches: list) -> list[Polled]:
        """The fetch process's batches as (TopicPartition, records, events)."""
        logical = self._logical
        return [(self.tp(t, p), _made(logical[t], values, p, offsets),
                 None if decoded is None else _events(logical[t], values, *decoded))
                for t, p, _, values, offsets, decoded in batches]

    def _records(self, polled: dict[Any, list]) -> list[Polled]:
        """The group consumer's polled records as `Record`s (`streams.record_batches` pairs,
        or kafka-python's `ConsumerRecord`s if its reader could not be replaced)."""
        logical = self._logical
        if not self._fast:
            return [(tp, [Record(logical[tp.topic], m.value, None, m.partition, m.offset)
                          for m in msgs], None) for tp, msgs in polled.items()]
        return [(tp, _made(logical[tp.topic], map(_second, msgs), tp.partition,
                           map(_first, msgs)), None) for tp, msgs in polled.items()]

    def _switch(self) -> None:
        """The child is up (its first message): seek it to where the group consumer got."""
        assert self.fetch is not None
        self.fetch.poll(0)  # that message: nothing assigned, no batch
        self._switching = True
        for tp, position in self._pos.items():
            self.fetch.seek(tp.topic, tp.partition, position)

    def _hand_over(self) -> None:
        """The child sent its first records after its seeks: it reads from now on. Each
        partition's batches are trimmed up to where the group consumer got meanwhile (`_pos`).

        Not at an answer without records (its first fetch still in flight): handing over then
        left the worker without records until the child's next answer, ~0.1-0.2 s."""
        assert self.fetch is not None
        self.early = False
        throttled = self.consumer.paused()  # `pause` kept them from the group consumer
        for tp in self.consumer.assignment():
            self.consumer.pause(tp)
            if tp in throttled:
                self.fetch.pause(tp.topic, tp.partition)
        self._trim, self._pos = dict(self._pos), {}

    def _trimmed(self, out: list[Polled]) -> list[Polled]:
        """`out` without the records the group consumer delivered before the hand-over."""
        kept = []
        for tp, records, events in out:
            start = self._trim.get(tp)
            if start is not None:
                if records[-1].offset >= start:  # later batches are past it
                    del self._trim[tp]
                keep = [i for i, r in enumerate(records) if r.offset >= start]
                records = [records[i] for i in keep]
                events = None if events is None else [events[i] for i in keep]
            if records:
                kept.append((tp, records, events))
        return kept

    def _settle_group(self) -> bool:
        """Whether the group consumer has membership work (coordinator look-up, join, sync,
        rebalance callbacks); if so, wait until it is done (at most `JOIN_WAIT_MS`).

        kafka-python (3.0.12) keeps a join in flight when a poll times out, and a later poll
        awaits it only while `need_rejoin()` holds. Two ways that fails: a join that completes
        between two polls is dropped and sent again (from the group leader: another rebalance
        of the whole group); and a join begun for a metadata change (the first assignment
        had no partition metadata yet) stops being needed once the leader has computed the
        assignment, so no later poll completes it: the member stays rebalancing, without
        partitions and heartbeats, for good. The fetch process's polls of 0 ms left joins in
        flight at every rebalance. Here, right after the poll that began a join, it is waited
        for, and a join in flight that kafka-python would not complete is asked for again."""
        coord = getattr(self.consumer, "_coordinator", None)
        try:
            rejoin, joining = coord.need_rejoin(), coord.rejoining or not coord.stable()
            if joining and not rejoin:
                coord.request_rejoin()  # the next poll awaits the join in flight (or redoes it)
            busy = rejoin or joining or coord.coordinator_unknown()
        except AttributeError:  # another kafka-python: give the group its time in a poll
            self.consumer.poll(timeout_ms=GROUP_POLL_MS)
            return True
        if busy:
            coord.poll(timeout_ms=JOIN_WAIT_MS)  # returns as soon as the member is joined
        return busy

    def tp(self, topic: str, p: int) -> Any:
        """The (cached) TopicPartition of a kafka topic name and partition."""
        tp = self._tps.get((topic, p))
        if tp is None:
            from kafka import TopicPartition

            tp = self._tps[(topic, p)] = TopicPartition(topic, p)
        return tp

    def seek(self, tp: Any, position: int) -> None:
        self.consumer.seek(tp, position)
        self._trim.pop(tp, None)  # a new epoch: the child starts at `position`
        if self.fetch is None:
            return
        if self.early:
            self._pos[tp] = position
        else:
            self.consumer.pause(tp)  # the fetch process reads it instead
        if not self.early or self._switching:
            self.fetch.seek(tp.topic, tp.partition, position)

    def release(self, tp: Any) -> None:
        """Stop reading a revoked partition."""
        self._pos.pop(tp, None)
        self._trim.pop(tp, None)
        if self.fetch is not None:
            self.fetch.unassign(tp.topic, tp.partition)

    @property
    def _local(self) -> bool:
        """The group consumer reads the records (no fetch process, or not up yet)."""
        return self.fetch is None or self.early

    def highwater(self, tp: Any) -> int | None:
        if self._local:
            return self.consumer.highwater(tp)
        return self.fetch.highwater.get((tp.topic, tp.partition))  # type: ignore[union-attr]

    def paused(self, tp: Any) -> bool:
        if self._local:
            return tp in self.consumer.paused()
        return self.fetch.paused(tp.topic, tp.partition)  # type: ignore[union-attr]

    def pause(self, tp: Any) -> None:
        if self._local:
            self.consumer.pause(tp)
        else:
            self.fetch.pause(tp.topic, tp.partition)  # type: ignore[union-attr]

    def resume(self, tp: Any) -> None:
        if self._local:
            self.consumer.resume(tp)
        else:
            self.fetch.resume(tp.topic, tp.partition)  # type: ignore[union-attr]

    def assist(self, on: bool) -> None:
        """The fetch process assists (`FetchProcess.assist`) or not."""
        if self.fetch is not None:
            self.fetch.assist(on)

    def close(self) -> None:
        if self.fetch is not None:
            self.fetch.close()
