"""A worker starts processing with its first poll when the other input is empty: it does not
hold every record back until a fetch response tells that input's high-water mark (the end
offsets looked up at assignment decide until then, `Worker._seek`)."""

from __future__ import annotations

import json

import pytest

from streams import pipeline as pipeline_module
from streams import worker as worker_module
from streams.parsing import REPORTS
from streams.worker import Worker, WorkerConfig
from tests.kafka.data import T0, run_worker, send

POLL = 200  # records per poll: the backlog below takes dozens of polls
MESSAGES = 12_000


@pytest.mark.parametrize("fetch_process", [False, True])
def test_records_flow_before_the_backlog_is_fetched(bootstrap, topics, monkeypatch,
                                                    fetch_process):
    send(bootstrap, topics, ((REPORTS, f"svc-{i % 8}",
                              json.dumps({"service": f"svc-{i % 8}",
                                          "ts": T0 + i * 0.5}).encode())
                             for i in range(MESSAGES)))  # error-rates stays empty
    delivered, at_first_process = [0], []
    poll, process = worker_module.InputSource.poll, pipeline_module.run_items

    def counting_poll(self, timeout_ms):
        batch = poll(self, timeout_ms)
        delivered[0] += sum(len(records) for _, records, _ in batch)
        return batch

    def noting_process(pipe, items):  # every record path of the pipeline runs this
        if not at_first_process:
            at_first_process.append(delivered[0])
        return process(pipe, items)

    monkeypatch.setattr(worker_module.InputSource, "poll", counting_poll)
    monkeypatch.setattr(pipeline_module, "run_items", noting_process)
    worker = Worker(WorkerConfig(bootstrap, f"start-{fetch_process}", topics, idle_exit=1.0,
                                 max_poll_records=POLL, fetch_process=fetch_process))
    run_worker(worker)
    assert worker.summary["processed"] == MESSAGES
    # the fetch process may hand over a few polls' worth at once; never the whole backlog
    assert at_first_process and at_first_process[0] <= MESSAGES // 4, at_first_process


@pytest.mark.parametrize("fetch_process", [False, True])
def test_the_first_join_assigns_every_partition(bootstrap, topics, fetch_process):
    """The worker loads its topics' metadata before its first poll joins the group
    (`kafka_io.subscribe`). kafka-python asked for it only after its 100 ms retry backoff,
    so a group leader that joined first assigned nothing ("No partition metadata") and a
    second rebalance followed, at 7 of 8 starts measured; now there is one assignment."""
    send(bootstrap, topics, ((REPORTS, f"svc-{i % 8}",
                              json.dumps({"service": f"svc-{i % 8}", "ts": T0 + i}).encode())
                             for i in range(200)))
    events: list[dict] = []
    worker = Worker(WorkerConfig(bootstrap, f"first-join-{fetch_process}", topics, idle_exit=1.0,
                                 fetch_process=fetch_process), on_checkpoint=events.append)
    run_worker(worker)
    assert worker.summary["processed"] == 200
    assert [e["partitions"] for e in events if e["event"] == "assigned"] == [[0, 1, 2, 3]]
