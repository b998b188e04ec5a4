"""A partition paused while its records were in line, then resumed, reads on
(`streams.record_batches.unpark`, which the worker's group consumer and the fetch process
call before their polls): on a real broker, every record comes once, in order."""

from __future__ import annotations

import time

from kafka import TopicPartition

from streams import kafka_io, record_batches
from tests.kafka.conftest import PARTITIONS

MESSAGES = 4000


def _take(polled: dict, got: dict[int, list[int]]) -> None:
    for tp, msgs in polled.items():
        got[tp.partition].extend(offset for offset, _ in msgs)


def test_a_partition_resumed_after_its_records_were_parked_reads_on(bootstrap, topics):
    kafka_io.publish((("reports", f"svc-{i % 40}", b'{"n": %d}' % i) for i in range(MESSAGES)),
                     bootstrap, topics)
    cons = kafka_io.consumer(bootstrap, None)
    assert record_batches.install(cons)
    tps = [TopicPartition(topics.reports, p) for p in range(PARTITIONS)]
    cons.assign(tps)
    for tp in tps:
        cons.seek(tp, 0)
    got: dict[int, list[int]] = {p: [] for p in range(PARTITIONS)}
    fetcher = cons._fetcher
    deadline = time.monotonic() + 30
    try:
        while not fetcher._next_partition_records and time.monotonic() < deadline:
            _take(cons.poll(timeout_ms=100, max_records=10), got)  # until records are in line
        paused = fetcher._next_partition_records.topic_partition
        cons.pause(paused)
        _take(cons.poll(timeout_ms=100, max_records=10), got)
        assert paused in fetcher._paused_partition_records  # its records parked
        cons.resume(paused)
        while sum(map(len, got.values())) < MESSAGES and time.monotonic() < deadline:
            record_batches.unpark(cons)
            _take(cons.poll(timeout_ms=100, max_records=500), got)
    finally:
        cons.close()
    assert sum(map(len, got.values())) == MESSAGES, {p: len(o) for p, o in got.items()}
    assert all(offsets == list(range(len(offsets))) for offsets in got.values())
