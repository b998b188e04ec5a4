"""The partitions a `streams.worker.Worker` holds: their sinks, checkpoints, and what happens
when the group assigns or revokes them.

Checkpoint order (`checkpoint`): flush the producer (alerts and dead letters acknowledged),
save each partition's `Pipeline.snapshot()` (positions inside) to `detector-state`, then
commit the consumed offsets. On (re)assignment each partition's pipeline is restored from its
latest checkpoint and both inputs are sought to the positions inside it (`_seek`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from streams import kafka_io
from streams.input_merge import InputMerge
from streams.kafka_checkpoint import KafkaCheckpoints, state_key
from streams.kafka_fetch import list_offsets
from streams.lockstep import Lockstep
from streams.pipeline import Pipeline
from streams.store import Store
from streams.worker_config import WorkerConfig, commit_offsets
from streams.worker_source import InputSource


class PartitionsMixin:
    """`Worker`'s partition ownership: sinks, `checkpoint`, the rebalance callbacks."""

    config: WorkerConfig
    store: Store | None
    on_alert: Callable[[dict], None] | None
    on_checkpoint: Callable[[dict], None] | None
    pipelines: dict[int, Pipeline]
    merges: dict[int, InputMerge]
    alerts: int
    dead_letters: int
    _consumer: Any
    _source: InputSource
    _producer: Any
    _checkpoints: KafkaCheckpoints | None
    _offsets: Any
    _last_checkpoint: float
    _idle_since: float | None
    _dirty: set[int]
    _next: dict[Any, int]
    _ends: dict[Any, int]
    _logical: dict[str, str]
    _real: dict[str, str]
    _lockstep: Lockstep | None
    counters: Callable[[], dict[str, Any]]  # (`Worker.counters`)

    def _tp(self, logical: str, p: int) -> Any:
        return self._source.tp(self._real[logical], p)

    # -- sinks --------------------------------------------------------------------------
    def _sinks(self, p: int) -> tuple[Callable[[dict], None], Callable[[dict], None]]:
        topics = self.config.topics

        def alert(a: dict) -> None:
            self._producer.send(topics.alerts, key=a["service"].encode(),
                                value=kafka_io.json_bytes(a))
            self.alerts += 1
            if self.on_alert is not None:
                self.on_alert(a)

        def dead(d: dict) -> None:
            d = dict(d, topic=self._real.get(d["topic"], d["topic"]))
            self._producer.send(topics.dead_letter, key=d["reason"].encode(),
                                value=kafka_io.json_bytes(d))
            self.dead_letters += 1

        return alert, dead

    # -- checkpoints and rebalances -----------------------------------------------------
    def checkpoint(self, parts: set[int] | None = None, *, in_callback: bool = False) -> None:
        """Flush sinks, save state with positions inside, then commit offsets.

        Inside a rebalance callback the commit is sent asynchronously (blocking calls of the
        group consumer are refused there); offsets are advisory anyway, the state holds them.
        """
        if self._lockstep is not None:  # no step may wait while the state is saved
            self._lockstep.flush(self.pipelines)
        todo = sorted(self.pipelines if parts is None else parts & set(self.pipelines))
        todo = [p for p in todo if p in self._dirty]
        self._last_checkpoint = time.monotonic()
        if not todo:
            return
        t0 = time.perf_counter()
        self._producer.flush()
        t1 = time.perf_counter()
        assert self._checkpoints is not None
        self._checkpoints.save_all([(state_key(self.config.group, p), self.pipelines[p].snapshot())
                                    for p in todo])
        t2 = time.perf_counter()
        offsets: dict[Any, int] = {}
        for p in todo:
            self._dirty.discard(p)
            for (logical, part), pos in self.pipelines[p].positions.items():
                offsets[self._tp(logical, part)] = pos
        commit_offsets(self._consumer, offsets, in_callback)
        t3 = time.perf_counter()
        self._report("checkpoint", todo, flush_s=round(t1 - t0, 4), save_s=round(t2 - t1, 4),
                     commit_s=round(t3 - t2, 4))

    def _revoke(self, parts: set[int]) -> None:
        self.checkpoint(parts, in_callback=True)
        if self._lockstep is not None:  # the new owner reads them again from the checkpoint
            self._lockstep.flush(self.pipelines, drop=parts)
        for p in parts:
            self.pipelines.pop(p, None)
            if self.merges.pop(p, None) is not None:
                for t in self._real:
                    self._source.release(self._tp(t, p))
        self._idle_since = None

    def _assign(self, parts: set[int]) -> None:
        assert self._checkpoints is not None
        new = sorted(parts - set(self.pipelines))
        for p in new:
            alert, dead = self._sinks(p)
            data = self._checkpoints.load(state_key(self.config.group, p))
            if data is None:
                pipe = Pipeline(self.config.pipeline, on_alert=alert, on_dead_letter=dead,
                                store=self.store)
            else:
                pipe = Pipeline.restore(data, self.config.pipeline, on_alert=alert,
                                        on_dead_letter=dead, store=self.store)
            self.pipelines[p] = pipe
            self.merges[p] = InputMerge(tuple(self._real), self.config.pipeline.far_future_seconds)
        self._seek(new)
        self._idle_since = None
        self._report("assigned", sorted(parts))

    def _seek(self, parts: list[int]) -> None:
        """Seek both inputs of each of `parts` to the positions in its state (else their
        beginning); one look-up of beginnings and one of ends (say if an input is caught up
        until a fetch tells, `_idle`: else an empty one held the other back) for all."""
        assigned = self._consumer.assignment()
        tps = [(p, tp) for p in parts for tp in (self._tp(t, p) for t in self._real)
               if tp in assigned]
        at = {tp: self.pipelines[p].positions.get((self._logical[tp.topic], p)) for p, tp in tps}
        fresh = [tp for tp, pos in at.items() if pos is None]
        start = list_offsets(self._offsets, fresh, end=False)  # kafka-python's KeyError retried
        self._ends.update(list_offsets(self._offsets, list(at), end=True))
        for tp, pos in at.items():
            pos = start[tp] if pos is None else pos
            self._source.seek(tp, pos)
            self._next[tp] = pos

    def _report(self, event: str, parts: list[int], **timings: float) -> None:
        """Tell `on_checkpoint` what happened (a checkpoint adds its steps' seconds)."""
        if self.on_checkpoint is not None:
            self.on_checkpoint({"event": event, "partitions": parts,
                                "processed": self.counters()["processed"],
                                "alerts": self.alerts, "dead_letters": self.dead_letters,
                                **timings})
