"""The fetch process (`WorkerConfig.fetch_process`, the default) equals the in-process consumer
(`fetch_process=False`, kept reachable and tested here): on one mixed stream with bad messages
and both inputs, the same alerts, dead letters (reasons, topics, partitions, offsets),
counters and final states, whatever the poll size, and however many records the group
consumer delivered before the fetch process was up (`InputSource` hands over then), with the
fetch process assisting (decoding reports, partitions taking turns) from the 100th record."""

from __future__ import annotations

import json
import time
from collections import Counter

from streams import worker as worker_module
from streams.kafka_fetch import FetchProcess
from streams.kafka_io import read_topic
from streams.worker import Worker, WorkerConfig
from streams.worker_source import InputSource
from tests.kafka.data import (
    assert_same_outcome,
    scenario_messages,
    send,
    worker_outcome,
)
from tests.kafka.test_dead_letter import BAD

RUNS = ((False, 5000), (True, 5000), (True, 37), (True, 200))  # fetch_process, max_poll_records
# the last run's source takes the child for up after LATE early records, and its first records
# only after OVERLAP more: the child's first batches repeat those and must be trimmed
LATE, OVERLAP = 600, 400


def test_fetch_process_equals_the_in_process_consumer(bootstrap, topics, monkeypatch):
    stream = list(scenario_messages(hours=4.0))
    for pos, topic, value, _ in sorted(BAD, reverse=True):
        stream.insert(pos, (topic, "svc-1", value))
    send(bootstrap, topics, stream)

    sources: list[InputSource] = []
    init, ready = InputSource.__init__, FetchProcess.ready

    def tracked_init(self, *args, **kwargs):
        init(self, *args, **kwargs)
        sources.append(self)

    def late_ready(self):
        source = sources[-1]
        wait = LATE + OVERLAP if source._switching else LATE
        return ready(self) and (source.early_records >= wait or len(sources) < len(RUNS))

    poll = InputSource.poll

    def held_poll(self, timeout_ms):  # the last run's group consumer waits for the child
        held = self is sources[-1] and len(sources) == len(RUNS)
        while (held and self.early
               and self.early_records >= (LATE + OVERLAP if self._switching else LATE)
               and not ready(self.fetch)):  # (a loaded machine starts it late)
            time.sleep(0.02)
        if held and self._switching and self.early_records >= LATE + OVERLAP:
            # an answer of the child without records does not hand over, and the group
            # consumer reads nothing more meanwhile: the overlap stays OVERLAP records
            self.consumer.poll = lambda **_: {}
            try:
                return poll(self, timeout_ms)
            finally:
                del self.consumer.poll
        return poll(self, timeout_ms)

    # the fetch process assists (decodes reports, partitions take turns) after 100 records
    monkeypatch.setattr(worker_module, "ASSIST_EVERY", 100)
    monkeypatch.setattr(worker_module, "ASSIST_STEPS", 0.0)
    monkeypatch.setattr(InputSource, "__init__", tracked_init)
    monkeypatch.setattr(InputSource, "poll", held_poll)
    monkeypatch.setattr(FetchProcess, "ready", late_ready)
    assists, assist = [], FetchProcess.assist

    def noted_assist(self, on):
        assists.append(on)
        assist(self, on)

    monkeypatch.setattr(FetchProcess, "assist", noted_assist)
    runs = {}
    for fetch_process, polls in RUNS:
        names = topics.with_alerts(f"{topics.alerts}.{fetch_process}.{polls}")
        group = f"fetch-{fetch_process}-{polls}"
        worker = Worker(WorkerConfig(bootstrap, group, names, checkpoint_every=0.5,
                                     idle_exit=2.0, max_poll_records=polls,
                                     fetch_process=fetch_process))
        runs[(fetch_process, polls)] = worker_outcome(worker, bootstrap, names, group)

    late = sources[-1]  # handed over after LATE + OVERLAP records, the child's batches trimmed
    assert not late.early and LATE + OVERLAP <= late.early_records < len(stream)
    ref_summary, ref_alerts, _ = runs[RUNS[0]]
    assert ref_alerts and sum(ref_summary["dead_letter"].values()) == len(BAD)
    for key, outcome in runs.items():
        assert_same_outcome(outcome, runs[RUNS[0]], len(stream), key)

    assert assists.count(True) >= len(RUNS) - 1  # each run with a fetch process was assisted
    # the runs share the dead-letter topic: each bad message is there once per run
    dead = [json.loads(m.value) for m in read_topic(bootstrap, topics.dead_letter)]
    seen = Counter((d["reason"], d["topic"], d["partition"], d["offset"]) for d in dead)
    assert len(seen) == len(BAD) and set(seen.values()) == {len(RUNS)}


def test_assistance_switched_off_midway_loses_nothing(bootstrap, topics, monkeypatch):
    """The fetch process's assistance (decoding, partitions taking turns) on from the
    hand-over and switched off for good after a third of the records, as `Worker._pace_assist`
    does when the pace drops: the outcome of the in-process consumer. The group consumer
    reads (almost) nothing here, so that the fetch process delivers the records. (Turns
    switched off while records are parked stranded a partition once; that is checked on
    the consumer itself, where it can be made to happen every time: test_fetch_turns.py.)"""
    stream = list(scenario_messages(hours=4.0))
    send(bootstrap, topics, stream)
    switches: list[bool] = []
    assist, poll = FetchProcess.assist, InputSource.poll

    def noted_assist(self, on):
        if on != self._assist:
            switches.append(on)
        assist(self, on)

    def switching(self):
        done = sum(p.counters.processed for p in self.pipelines.values())
        if not self._source.early:
            self._source.assist(done < len(stream) // 3)

    def child_only_poll(self, timeout_ms):
        if self.early and self.fetch is not None and not self.fetch.ready():
            self._settle_group()  # (the group's work still done, its records not read)
            time.sleep(0.02)
            return []
        return poll(self, timeout_ms)

    monkeypatch.setattr(FetchProcess, "assist", noted_assist)
    monkeypatch.setattr(Worker, "_pace_assist", switching)
    monkeypatch.setattr(InputSource, "poll", child_only_poll)
    runs, sources = {}, []
    for fetch_process in (False, True):
        names = topics.with_alerts(f"{topics.alerts}.switched.{fetch_process}")
        group = f"switched-{fetch_process}"
        worker = Worker(WorkerConfig(bootstrap, group, names, checkpoint_every=0.5,
                                     idle_exit=2.0, max_poll_records=100,
                                     fetch_process=fetch_process))
        runs[fetch_process] = worker_outcome(worker, bootstrap, names, group, timeout=120)
        sources.append(worker._source)

    assert sources[-1].early_records <= 200 and switches == [True, False], switches
    assert runs[False][1] and runs[False][0]["processed"] == len(stream)  # the reference
    assert_same_outcome(runs[True], runs[False], len(stream))
