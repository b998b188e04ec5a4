"""Lockstep: a worker's partitions processed so that their pipelines step each full bucket as one.

Each input partition has its own `Pipeline`, whose bank steps once per bucket; with a small
fleet over several partitions those steps are most of a worker's time, and a step costs about
the same for 25 services as for 100 (numpy call overhead). `Lockstep` runs each partition's
records until its pipeline closes a full bucket (`Pipeline.process_until_close`) and keeps it
there until the other partitions close the same bucket, or cannot for now (they passed it, or
have no records buffered and none to come); the pipelines stopped at the earliest bucket end
are then stepped as one bank (`detector.bank_group.BankGroup`). Records of the partitions
arrive in separate polls (in turns of ~1,000 where the worker asks the fetch process for
them, `fetch_assist.Turns`; else a partition's whole fetch before the next's), so a
partition may wait across polls; but only while more records can be read at once (`ready`):
a worker that would sit idle waiting for the fetch process steps the waiting partitions
alone instead. `backlog` (records queued meanwhile) and
`hold_s` bound any wait; `flush` steps whatever waits (before a checkpoint, a revocation, the
end).

Every pipeline still goes through exactly its own sequence of events and steps: it is paused,
never reordered, and a group step gives each bank what its own step would have given it (or is
not taken: then each steps alone, as without lockstep). So alerts, dead letters, checkpoints
and restart equivalence are those of the pipelines run one after another; only the order in
which different partitions' alerts are sent changes (each service's own order does not).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from detector.bank_group import BankGroup
from streams.buckets import BucketView
from streams.errors import BadMessage
from streams.gc_pause import gc_paused
from streams.pipeline import Pipeline, Record
from streams.schema import Event

Decoded = tuple[Record, Event | BadMessage]
__all__ = ["BankGroup", "Lockstep"]


class Lockstep:
    """Records per partition, processed with their buckets' steps taken together."""

    def __init__(self, hold_s: float = 2.0, backlog: int = 200_000) -> None:
        """`hold_s`, `backlog`: bounds of one wait. While the group consumer reads (the start,
        before the fetch process is up) kafka-python delivers whole partitions one after
        another, ~20,000-27,000 records each in the benchmark's 100k runs; with 0.5 s and
        50,000 records the last partition was given up on in some runs and stepped alone
        through every bucket the others had read. Group steps of all 4 partitions, of ~596
        buckets, over 16 alternated runs each: under 450 in 7 runs (down to 85) before, in 2
        (down to 349) with 2 s and 200,000 (`benchmarks/README.md`, "At 9e252b3")."""
        self.group = BankGroup()
        self.hold_s = hold_s  # longest wait for a partition whose records are still to come
        self.backlog = backlog  # most records queued while a wait lasts
        self._queued = 0  # records queued during the current wait
        self._items: dict[int, Iterator[Decoded]] = {}  # queued records, partly read
        self._pending: dict[int, list[BucketView]] = {}  # stopped at these views (first full)
        self._since: float | None = None  # waiting (for records still to come) since
        self._given_up: set[int] = set()  # waited for in vain: not again until they deliver
        self._stepped: set[int] = set()  # partitions stepped since their last commit

    def add(self, p: int, items: Sequence[Decoded]) -> None:
        """Queue decoded records of partition `p` (in its order) for the next `run`."""
        if self._since is not None:  # (records queued during a wait count to `backlog`)
            self._queued += len(items)
        queued = self._items.get(p)
        self._items[p] = iter(items) if queued is None else itertools.chain(queued, items)
        self._given_up.discard(p)

    def holding(self, p: int) -> bool:
        """Records of `p` queued or a step of it waiting: not caught up."""
        return p in self._items or p in self._pending

    def run(self, pipes: Mapping[int, Pipeline], coming: Callable[[int], bool],
            ready: Callable[[], bool] = lambda: True) -> None:
        """Process the queued records; `coming(p)`: partition p has records still to come
        (then a bucket it has not closed yet may be waited for); `ready()`: records can be
        read now without waiting (else nothing is waited for: the worker would idle)."""
        touched: set[int] = set()
        with gc_paused():
            while True:
                touched |= self._advance(pipes)
                if not self._pending:
                    break
                t = min(views[0].t_end for views in self._pending.values())
                if self._wait(pipes, t, coming, ready):
                    break
                self._step(pipes, t)
        self._commit(pipes, touched)

    def flush(self, pipes: Mapping[int, Pipeline], drop: Iterable[int] = ()) -> None:
        """Step every pipeline that waits, earliest bucket first (nothing waits afterwards:
        its state can be saved), and discard the queued records of partitions `drop`
        (revoked: their new owner reads them again from the checkpoint)."""
        for p in drop:
            self._items.pop(p, None)
        with gc_paused():
            while self._pending:
                self._step(pipes, min(views[0].t_end for views in self._pending.values()))
        self._since = None
        self._commit(pipes, set())

    def _commit(self, pipes: Mapping[int, Pipeline], touched: set[int]) -> None:
        """Commit the stores of the pipelines that processed or stepped anything."""
        for p in sorted(touched | self._stepped):
            if p in pipes:
                pipes[p].commit()
        self._stepped.clear()

    def _advance(self, pipes: Mapping[int, Pipeline]) -> set[int]:
        """Run every partition that does not wait until it stops at a close or runs out."""
        ran = set()
        for p in sorted(self._items):
            if p not in self._pending and p in pipes:
                ran.add(p)
                views = pipes[p].process_until_close(self._items[p])
                if views is None:
                    del self._items[p]  # read to its end
                else:
                    self._pending[p] = views
        return ran

    def _wait(self, pipes: Mapping[int, Pipeline], t: float, coming: Callable[[int], bool],
              ready: Callable[[], bool]) -> bool:
        """Whether to wait for a partition that may still close bucket `t`: it does not wait
        already, has no records queued, has records to come and has not passed `t`; only
        while records can be read at once (`ready`) and fewer than `backlog` were queued
        meanwhile, for at most `hold_s`, after which it is not waited for until it delivers."""
        late = [p for p in pipes if p not in self._pending and p not in self._items
                and p not in self._given_up and coming(p) and _before(pipes[p], t)]
        if not late or not ready():
            return False
        now = time.monotonic()
        if self._since is None:
            self._since = now
        if now - self._since <= self.hold_s and self._queued < self.backlog:
            return True
        self._given_up.update(late)  # (a partition far behind, a merge holding back): go on
        return False

    def _step(self, pipes: Mapping[int, Pipeline], t: float) -> None:
        """Step the views of the partitions stopped at bucket end `t`: the first ones as one
        group when `BankGroup` takes it, the rest (rarely any) one pipeline at a time."""
        due = [(p, self._pending.pop(p)) for p in sorted(self._pending)
               if self._pending[p][0].t_end == t]
        self._since = None
        self._queued = 0
        bands = None
        if len(due) > 1:
            first = [views[0] for _, views in due]
            bands = self.group.step([pipes[p].bank for p, _ in due], t,
                                    [view.reports for view in first])
        for i, (p, views) in enumerate(due):
            self._stepped.add(p)
            if bands is None:
                pipes[p].step_views(views)
            else:
                pipes[p].finish_group_step(views[0], *bands[i])
                pipes[p].step_views(views[1:])


def _before(pipe: Pipeline, t: float) -> bool:
    """The pipeline has not closed bucket end `t` yet (it may still)."""
    closed = pipe.bucketer.closed_until
    return closed is None or closed < t
