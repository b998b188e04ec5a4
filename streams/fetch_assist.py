"""What the fetch process (`streams.kafka_fetch`) does for a worker whose thread is the bound
(`FetchProcess.assist`, switched by `Worker._pace_assist`): it decodes the reports
(`report_tuples`), and its partitions take turns (`Turns`) so that the worker gets their
records interleaved and even in event time, for `streams.lockstep`.

Neither changes what the worker computes: decoded reports equal the worker's own
`decode_many`, and turns change only the order in which different partitions' records
arrive (each partition's stay in offset order).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from streams import record_batches

EVEN = 0.5  # a partition ahead by this share of a turn's event time skips turns (`Turns`)
# the events as plain tuples, and the indexes of the values the worker decodes itself
Decoded = tuple[list[tuple], list[int]]


def report_tuples(values: list[bytes]) -> Decoded:
    """`decode_many` of reports for the worker: each `ReportEvent` as a plain tuple of its
    fields (pickled and unpickled in C, ~3x cheaper than the named tuple, and turned back
    into one by `tuple.__new__`), and the indexes of the values that are no event (their
    tuple is empty: the worker decodes them itself, with the same outcome). Equal strings
    (services, categories, regions, sources) are sent as one object: pickled once."""
    from streams.parsing import REPORTS, decode_many  # (first use: the fetch process starts
    from streams.schema import ReportEvent  # light, and imports these only when assisting)

    memo: dict[str, str] = {}
    keep = memo.setdefault
    out: list[tuple] = []
    todo: list[int] = []
    for i, ev in enumerate(decode_many(REPORTS, values)):
        if ev.__class__ is ReportEvent:
            svc, ts, count, cat, reg, src, reporter, message = ev
            out.append((keep(svc, svc), ts, count, cat and keep(cat, cat),
                        reg and keep(reg, reg), src and keep(src, src), reporter, message))
        else:
            out.append(())
            todo.append(i)
    return out, todo


def last_ts(decoded: Decoded | None) -> float | None:
    """Event time of the last decoded report (None: none)."""
    for event in reversed(decoded[0] if decoded is not None else ()):
        if event:
            return event[1]
    return None


class Turns:
    """Partitions take turns in the child's polls, a chunk each, so that the worker gets
    their records interleaved (for `streams.lockstep`) instead of one partition's whole
    fetch (up to `max_partition_fetch_bytes`, ~65,000 small messages) before the next's.

    kafka-python's poll drains one partition's fetched records before it moves to the next
    partition's; a partition paused meanwhile keeps its parsed records parked (KAFKA-7548)
    and continues from them when resumed. So after each poll the partitions it delivered
    wait (paused) until no other partition has records in hand, then all resume but those
    ahead in event time of the one furthest behind by more than `EVEN` of a turn's span (a
    chunk of a partition with more services spans less time: else they drift apart); the
    batches of such a round go to the worker in one message, so that it has every
    partition's records of that stretch at hand when its partitions step together. Partitions
    the worker paused (`held`) are left to the worker. kafka-python (3.0.12) brings parked
    records back only while no partition's records are in line, and leaves a drained one
    in line (not None) until the next fetch replaces it: `before_poll` clears that
    (`record_batches.unpark`)."""

    def __init__(self, cons: Any) -> None:
        self.cons = cons
        self.active = False  # the worker turns them on (`FetchProcess.assist`)
        self.fetcher = getattr(cons, "_fetcher", None)
        self.held: set[Any] = set()  # paused by the worker
        self.waiting: set[Any] = set()  # paused here for their turn
        self.reached: dict[Any, float] = {}  # event time of the last report delivered
        self.spans: dict[Any, float] = {}  # event time its last turn moved it on

    def paused_by_worker(self, tps: list[Any], paused: bool) -> None:
        """The worker paused (or resumed) `tps`: theirs to hold, no turn's."""
        (self.held.update if paused else self.held.difference_update)(tps)
        self.waiting.difference_update(tps)

    def keep(self, assigned: Iterable[Any]) -> None:
        """Forget the partitions no longer assigned."""
        mine = set(assigned)
        self.waiting &= mine
        self.held &= mine

    def set_active(self, on: bool) -> None:
        """Turns on or off; off, the waiting partitions resume (their parked records come
        back in line through `record_batches.unpark`, which the child calls at every poll)."""
        self.active = on
        if not on and self.waiting:
            self.cons.resume(*self.waiting)
            self.waiting.clear()

    def before_poll(self) -> bool:
        """Resume the waiting partitions once no other partition has records in hand; whether
        a round is over (every partition with records in hand had its turn)."""
        record_batches.unpark(self.cons)  # (the child does it before its other polls too)
        fetcher = self.fetcher
        nxt = fetcher._next_partition_records
        if nxt is not None and nxt.topic_partition in self.waiting:
            # parked now, as the poll would park it: else that poll parks it and returns
            # nothing, then waits for a fetch (paused partitions are not fetched)
            fetcher._paused_partition_records[nxt.topic_partition] = nxt
            fetcher._next_partition_records = None
        if self.waiting and not self._others_in_hand():
            reached = self.reached
            known = [reached[tp] for tp in self.waiting if tp in reached]
            spans = [self.spans[tp] for tp in self.waiting if tp in self.spans]
            until = min(known, default=0.0) + EVEN * min(spans, default=0.0)
            turn = [tp for tp in self.waiting if reached.get(tp, until) <= until]
            self.cons.resume(*turn)
            self.waiting.difference_update(turn)
            return True
        return not self.waiting

    def after_poll(self, delivered: dict[Any, float | None]) -> None:
        """Partitions that delivered records wait for their next turn; `delivered`: the
        event time each reached (None where unknown)."""
        turn = [tp for tp in delivered if tp not in self.held]
        if turn:
            self.cons.pause(*turn)
            self.waiting.update(turn)
        for tp, ts in delivered.items():
            if ts is not None:
                self.spans[tp] = ts - self.reached.get(tp, ts)
                self.reached[tp] = ts

    def _others_in_hand(self) -> bool:
        fetcher = self.fetcher
        nxt, skip = fetcher._next_partition_records, self.waiting | self.held
        return (any(c.topic_partition not in skip for c in fetcher._completed_fetches)
                or (bool(nxt) and nxt.topic_partition not in skip)
                or any(tp not in skip for tp in fetcher._paused_partition_records))

    @staticmethod
    def supported(cons: Any) -> bool:
        """This kafka-python parks a paused partition's records (else no turns)."""
        fetcher = getattr(cons, "_fetcher", None)
        return all(hasattr(fetcher, name) for name in (
            "_next_partition_records", "_completed_fetches", "_paused_partition_records"))
