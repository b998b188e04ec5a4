"""InputMerge: one partition's input records released in event-time order merged over inputs.

A record is released only while every other input of that partition either has a buffered
record (whose event time is known) or is caught up (idle), so the watermark never runs ahead
of an input that still has data to deliver. Ties go to `reports` first; messages without a
readable event time go first (they only reach dead-letter). Each record is decoded once, when
it is added; `release_decoded` hands the decoded events on to `Pipeline.process_decoded`.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable

from streams.errors import BadMessage
from streams.parsing import REPORTS, decode, decode_many
from streams.records import Record
from streams.schema import Event

Decoded = tuple[Record, Event | BadMessage]


def event_time(rec: Record) -> float:
    """Event time of a valid record; -inf for an invalid one (it only reaches dead-letter)."""
    try:
        return decode(rec.topic, rec.value).ts
    except BadMessage:
        return -math.inf


class InputMerge:
    """Buffers one partition's input records and releases them in merged event-time order.

    An event further ahead than `far` seconds of the newest valid event time released so far
    (`seen`) merges as -inf: the pipeline rejects it anyway ("far from watermark"), and it
    must not hold back the other input.
    """

    def __init__(self, topics: tuple[str, ...], far: float = math.inf) -> None:
        self.queues: dict[str, deque[Decoded]] = {t: deque() for t in topics}
        self.far = far
        self._rank = {t: (0 if t == REPORTS else 1) for t in topics}

    def add(self, topic: str, records: list[Record],
            events: list[Event | BadMessage] | None = None) -> None:
        """Buffer `records` of `topic`, decoded once, as a batch (`decode_many`), unless
        their `events` come decoded already (by the fetch process)."""
        if events is None:
            events = decode_many(topic, [rec.value for rec in records])
        self.queues[topic].extend(zip(records, events, strict=True))

    def push_back(self, items: list[Decoded]) -> None:
        """Return released `items` (a tail of what `release_decoded` gave, in its order) to
        the front of their queues, to be released again first (`streams.lockstep.align`)."""
        for item in reversed(items):
            self.queues[item[0].topic].appendleft(item)

    def buffered(self, topic: str) -> int:
        return len(self.queues[topic])

    def release(self, idle: Callable[[str], bool], seen: float = -math.inf) -> list[Record]:
        """Records safe to process now: stops when an input is empty but not idle."""
        return [rec for rec, _ in self.release_decoded(idle, seen)]

    def release_decoded(self, idle: Callable[[str], bool],
                        seen: float = -math.inf) -> list[Decoded]:
        """`release` with each record's decoded event (or BadMessage) alongside."""
        out: list[Decoded] = []
        queues = self.queues
        while True:
            ready = [t for t, q in queues.items() if q]
            if not ready or any(not q and not idle(t) for t, q in queues.items()):
                return out
            if len(ready) == 1:  # every other input is idle: release the whole queue
                out.extend(queues[ready[0]])
                queues[ready[0]].clear()
                return out
            key, _, topic = min((self._key(t, seen), self._rank[t], t) for t in ready)
            seen = max(seen, key)
            out.append(queues[topic].popleft())

    def _key(self, topic: str, seen: float) -> float:
        event = self.queues[topic][0][1]
        ts = -math.inf if isinstance(event, BadMessage) else event.ts
        return -math.inf if ts > seen + self.far and seen > -math.inf else ts
