"""A worker's partitions step together from its first records: while its group consumer
reads (the fetch process not up yet, or none), kafka-python delivers one partition's whole
fetch before the next's, and `streams.lockstep` waits for the others because that consumer
has their records in hand (`InputSource.ready`). Before, nothing was waited for then, and
the first partition stepped alone through its whole fetch (every bucket of a short run)."""

from __future__ import annotations

import pytest

from benchmarks.e2e_inputs import aggregated_events
from streams import kafka_io
from streams.worker import Worker, WorkerConfig
from tests.kafka.conftest import PARTITIONS
from tests.kafka.data import run_worker

MESSAGES = 8_000  # 100 services' per-minute counts: ~80 buckets, read before the child is up
POLL = 500  # records per poll: a partition's 2,000 take several


@pytest.mark.parametrize("fetch_process", [False, True])
def test_partitions_step_together_from_the_start(bootstrap, topics, fetch_process):
    evs = aggregated_events(100, MESSAGES, 0)
    kafka_io.publish((("reports", e["service"], kafka_io.json_bytes(e)) for e in evs),
                     bootstrap, topics)
    worker = Worker(WorkerConfig(bootstrap, f"together-{fetch_process}", topics, idle_exit=1.0,
                                 max_poll_records=POLL, fetch_process=fetch_process))
    run_worker(worker)
    assert worker.summary["processed"] == MESSAGES
    steps, grouped = worker.summary["buckets"], worker.summary["group_steps"]
    # every step but a few was one of all the partitions together
    assert grouped * PARTITIONS >= 0.9 * steps, (grouped, steps)
