"""The Kafka worker: a consumer group member running one Pipeline per input partition.

Both input topics are keyed by service with the same partition count, and the range assignor
gives partition p of both to the same member, so one `Pipeline` holds all state of partition p.

Watermarks across the two inputs (the documented choice): `InputMerge` releases a partition's
records in event-time order merged over its inputs, holding back while another input may still
deliver earlier data (caught up = position at the last known high-water mark). So with data
already in the topics every alert is independent of fetch timing. In live mode (`serve
--kafka`) a partition whose inputs are all idle has its event time advanced to the wall clock.

Lockstep (`streams.lockstep`, on by default): the partitions' records are processed so that
their pipelines close each full bucket together and step it as one bank (with exactly the
results of separate steps), as a step costs about the same for 25 services as for 100; a
partition waits for the others at a bucket close, across polls, only while records can be
read at once (`InputSource.ready`: the worker never idles for them), at most
`Lockstep.hold_s`. Where buckets close often (`_pace_assist`), the fetch process assists: it
decodes the reports and its partitions take turns, so that their records arrive interleaved
and even in event time (`fetch_assist.Turns`).

Checkpoints and rebalances (`streams.worker_partitions`): flush the producer, save each
partition's `Pipeline.snapshot()` (positions inside) to `detector-state`, then commit the
consumed offsets; on (re)assignment each partition's pipeline is restored from its latest
checkpoint and both inputs are sought to the positions inside it, so a crash replays at most
what followed the last checkpoint and re-emits only the same alert ids.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from streams import kafka_io
from streams.gc_pause import gc_paused, worker_gc
from streams.input_merge import InputMerge, event_time
from streams.kafka_checkpoint import KafkaCheckpoints
from streams.kafka_fetch import FetchProcess
from streams.lockstep import Lockstep
from streams.parsing import REPORTS
from streams.pipeline import Pipeline
from streams.store import Store
from streams.worker_config import WorkerConfig, group_done, rebalance_listener
from streams.worker_partitions import PartitionsMixin
from streams.worker_source import InputSource

log = logging.getLogger("outage_radar.worker")
POLL_MS = 50  # longest wait of an idle poll: how soon `stop()` and live watermarks are seen
ASSIST_EVERY = 20_000  # records between two looks at whether the fetch process assists
ASSIST_STEPS = 0.01  # full steps per record from which it does (one per 100 records)

__all__ = ["InputMerge", "Worker", "WorkerConfig", "event_time"]  # the merge lives in input_merge


class Worker(PartitionsMixin):
    """Consumes reports and error-rates as a group member; alerts, dead letters, checkpoints."""

    def __init__(self, config: WorkerConfig, *, on_alert: Callable[[dict], None] | None = None,
                 store: Store | None = None,
                 on_checkpoint: Callable[[dict], None] | None = None) -> None:
        self.config, self.on_alert, self.store = config, on_alert, store
        self.on_checkpoint = on_checkpoint
        self.pipelines: dict[int, Pipeline] = {}
        self.merges: dict[int, InputMerge] = {}
        self.alerts = 0  # sent by this process (repeats after a restart included)
        self.dead_letters = 0
        self.summary: dict[str, Any] = {}
        self._stop = threading.Event()
        self._consumer: Any = None
        self._source: Any = None  # InputSource: the consumer, or a fetch process it feeds
        self._producer: Any = None
        self._checkpoints: KafkaCheckpoints | None = None
        self._offsets: Any = None  # groupless consumer for offset look-ups: rebalance
        # callbacks run on the group consumer's IO thread, where its blocking calls are refused
        self._last_checkpoint = time.monotonic()
        self._idle_since: float | None = None
        self._dirty: set[int] = set()  # partitions changed since their last checkpoint
        self._next: dict[Any, int] = {}  # next offset per input TopicPartition (no network)
        self._ends: dict[Any, int] = {}  # end offsets looked up at assignment (`_seek`)
        self._logical = config.topics.inputs  # kafka topic -> logical name
        self._real = {v: k for k, v in self._logical.items()}
        self._lockstep = Lockstep() if config.lockstep else None  # steps taken together
        self._assist_mark = (0, 0)  # records processed and full steps at the last look

    # -- lifecycle ----------------------------------------------------------------------
    def stop(self) -> None:
        """Ask `run` to checkpoint and return (thread- and signal-safe)."""
        self._stop.set()

    def run(self) -> None:
        """Poll, process, checkpoint until stopped (or idle for `idle_exit` in batch mode)."""
        try:
            with worker_gc():  # (from the start: a full collection while it opens is one too)
                self._open()  # (what it opened before a failure is closed too)
                self._loop()
            self.checkpoint()
            self.summary = self.counters()
        finally:
            self._close()

    def _loop(self) -> None:
        """Poll, process and checkpoint until stopped (or idle in batch mode)."""
        while not self._stop.is_set():
            with gc_paused():  # a poll makes no reference cycles: collect between polls
                self._poll_once()
            if time.monotonic() - self._last_checkpoint >= self.config.checkpoint_every:
                self.checkpoint()
            if self._idle_done():
                for p, pipe in self.pipelines.items():
                    pipe.flush()
                    self._dirty.add(p)
                break

    def counters(self) -> dict[str, Any]:
        """Totals over the partitions held now: records processed, dead letters, alerts,
        full buckets stepped (and how many of those steps were taken together, `lockstep`)."""
        dead: dict[str, int] = {}
        for pipe in self.pipelines.values():
            for reason, n in pipe.counters.dead_letter.items():
                dead[reason] = dead.get(reason, 0) + n
        return {"partitions": sorted(self.pipelines), "alerts_sent": self.alerts,
                "processed": sum(p.counters.processed for p in self.pipelines.values()),
                "dead_letter": dead, "dead_letters_sent": self.dead_letters,
                "buckets": sum(p.counters.buckets for p in self.pipelines.values()),
                "group_steps": 0 if self._lockstep is None else self._lockstep.group.taken}

    def _open(self) -> None:
        """Start the fetch process first (its interpreter and `import kafka` take ~0.4 s: the
        group consumer reads meanwhile, see `streams.worker_source`), then the clients."""
        cfg = self.config
        fetch = (FetchProcess(cfg.bootstrap, cfg.max_poll_records,
                              [t for t, name in self._logical.items() if name == REPORTS])
                 if cfg.fetch_process else None)
        try:
            self._producer = kafka_io.producer(cfg.bootstrap)
            self._checkpoints = KafkaCheckpoints(cfg.bootstrap, cfg.topics.state, self._producer)
            self._offsets = kafka_io.plain_consumer(cfg.bootstrap, self._logical)
            self._consumer = kafka_io.consumer(cfg.bootstrap, cfg.group,
                                               session_timeout_ms=cfg.session_timeout_ms,
                                               max_poll_records=cfg.max_poll_records)
        except BaseException:
            if fetch is not None:
                fetch.close()
            raise
        self._source = InputSource(self._consumer, self._logical, fetch)
        kafka_io.subscribe(self._consumer, list(self._logical),
                           rebalance_listener(self._revoke, self._assign))

    def _close(self) -> None:
        for client in (self._consumer, self._source, self._producer, self._checkpoints,
                       self._offsets):  # the consumer's last revoke still tells the source
            if client is not None:
                try:
                    client.close()
                except Exception:  # noqa: BLE001 - closing is best effort
                    log.exception("closing %r", client)

    # -- the loop -----------------------------------------------------------------------
    def _poll_once(self) -> None:
        batch = self._source.poll(POLL_MS)
        for tp, records, events in batch:
            merge = self.merges.get(tp.partition)
            if merge is None:  # revoked meanwhile: the new owner re-reads from its checkpoint
                continue
            merge.add(records[0].topic, records, events)
            self._next[tp] = records[-1].offset + 1
        lockstep = self._lockstep
        for p, merge in list(self.merges.items()):
            pipe = self.pipelines[p]
            seen = pipe.bucketer.watermark + pipe.bucketer.lateness
            items = merge.release_decoded(lambda t, p=p: self._idle(t, p), seen)
            if items:
                if lockstep is None:
                    pipe.process_decoded(items)
                else:
                    lockstep.add(p, items)
                self._dirty.add(p)
            elif (self.config.live and all(self._idle(t, p) for t in merge.queues)
                  and (lockstep is None or not lockstep.holding(p))):
                pipe.advance_watermark(time.time())
                self._dirty.add(p)
            self._throttle(p, merge)
        if lockstep is not None:
            lockstep.run(self.pipelines, self._coming, self._source.ready)
            self._pace_assist()
        self._track_idle(bool(batch))

    def _pace_assist(self) -> None:
        """Every `ASSIST_EVERY` records, have the fetch process assist (decode reports, its
        partitions take turns: `FetchProcess.assist`) if buckets close often enough that
        detection is the worker's bound (at least `ASSIST_STEPS` full steps per record), else
        not: assisting costs the fetch process more than it saves the worker, which single
        reports (a close every few hundred records of a partition) do not win back."""
        pipes = self.pipelines.values()
        done = sum(p.counters.processed for p in pipes)
        mark, steps0 = self._assist_mark
        if done - mark >= ASSIST_EVERY or done < mark:
            steps = sum(p.counters.buckets for p in pipes)
            if done > mark:
                self._source.assist((steps - steps0) >= ASSIST_STEPS * (done - mark))
            self._assist_mark = (done, steps)

    def _coming(self, p: int) -> bool:
        """Partition p has records still to come (lockstep may wait for them)."""
        merge = self.merges.get(p)
        return merge is not None and not all(self._idle(t, p) for t in merge.queues)

    def _idle(self, logical: str, p: int) -> bool:
        """Caught up: nothing buffered and the position reached the known high-water mark."""
        if self.merges[p].buffered(logical):
            return False
        tp = self._tp(logical, p)
        if tp not in self._consumer.assignment():
            return True  # that input has no such partition here
        high = self._source.highwater(tp)
        if high is None:  # no fetch response yet: the end offset looked up at assignment
            high = self._ends.get(tp)
        return high is not None and self._next.get(tp, 0) >= high

    def _throttle(self, p: int, merge: InputMerge) -> None:
        """Pause an input partition whose buffer is full (the other one lags behind)."""
        for logical in merge.queues:
            tp, n = self._tp(logical, p), merge.buffered(logical)
            if n > self.config.max_buffer and not self._source.paused(tp):
                self._source.pause(tp)
            elif n < self.config.max_buffer // 2 and self._source.paused(tp):
                self._source.resume(tp)

    def _track_idle(self, got_records: bool) -> None:
        caught_up = (not got_records and bool(self.merges) and all(
            self._idle(t, p) for p, m in self.merges.items() for t in m.queues)
            and (self._lockstep is None or not any(map(self._lockstep.holding, self.merges))))
        if not caught_up:
            self._idle_since = None
        elif self._idle_since is None:
            self._idle_since = time.monotonic()

    def _idle_done(self) -> bool:
        """Batch mode: idle for `idle_exit`, and the whole group is done: the broker confirms
        that this worker reached the end of its partitions and the checkpoints of the others
        (a peer may have died: its partitions come here after the session timeout) did too."""
        limit = self.config.idle_exit
        if limit is None or self._idle_since is None:
            return False
        if time.monotonic() - self._idle_since < limit:
            return False
        try:
            done = group_done(self._offsets, self._consumer.assignment(), self._next,
                              self._checkpoints, self.config.group, self._logical)  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001 - broker unreachable: not known to be done
            done = False
        self._idle_since = self._idle_since if done else None
        return done


if __name__ == "__main__":  # `python -m streams.worker`: the command line
    from streams.worker_cli import main
    main()
