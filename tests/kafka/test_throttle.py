"""A worker whose input buffers fill up pauses those partitions and resumes them
(`Worker._throttle`), on both record paths, with the outcome of a run that never paused:
the same records processed, alerts and saved states. With kafka-python's own handling of
records parked by a pause (see `streams.record_batches.unpark`) the in-process worker
stalled here for good, a third of the way through."""

from __future__ import annotations

from streams.worker import Worker, WorkerConfig
from streams.worker_source import InputSource
from tests.kafka.data import (
    assert_same_outcome,
    scenario_messages,
    send,
    worker_outcome,
)

RUNS = ((False, 50_000), (False, 20), (True, 20))  # fetch_process, max_buffer


def test_paused_and_resumed_inputs_lose_nothing(bootstrap, topics, monkeypatch):
    stream = list(scenario_messages(hours=4.0))
    send(bootstrap, topics, stream)
    pauses: list[object] = []
    pause = InputSource.pause

    def noted_pause(self, tp):
        pauses.append(tp)
        pause(self, tp)

    monkeypatch.setattr(InputSource, "pause", noted_pause)
    runs, paused = {}, {}
    for fetch_process, max_buffer in RUNS:
        names = topics.with_alerts(f"{topics.alerts}.throttle.{fetch_process}.{max_buffer}")
        group = f"throttle-{fetch_process}-{max_buffer}"
        before = len(pauses)
        worker = Worker(WorkerConfig(bootstrap, group, names, checkpoint_every=0.5,
                                     idle_exit=2.0, max_poll_records=50,
                                     fetch_process=fetch_process, max_buffer=max_buffer))
        runs[(fetch_process, max_buffer)] = worker_outcome(worker, bootstrap, names, group,
                                                           timeout=120)
        paused[(fetch_process, max_buffer)] = len(pauses) - before

    assert paused[RUNS[0]] == 0 and all(paused[run] > 0 for run in RUNS[1:]), paused
    assert runs[RUNS[0]][1]  # the reference has alerts
    for key, outcome in runs.items():
        assert_same_outcome(outcome, runs[RUNS[0]], len(stream), key)
