"""The fetch process's partitions take turns (`streams.fetch_assist.Turns`): on a real
broker, a consumer polled as the child polls it delivers every record once, in offset
order per partition, with the partitions interleaved and kept close in event time, where
kafka-python alone delivers one partition's whole fetch before the next's; and when turns
are switched off (the worker stops the assistance) while records are parked, those come back."""

from __future__ import annotations

import time

from kafka import TopicPartition

from benchmarks.e2e_inputs import aggregated_events
from streams import kafka_io, record_batches
from streams.fetch_assist import Turns, last_ts, report_tuples
from tests.kafka.conftest import PARTITIONS

MESSAGES = 60_000
CHUNK = 1000


def _polls(bootstrap: str, topic: str, turns: bool, off_at: int | None = None,
           parked: list[int] | None = None) -> list[tuple[int, list[int], float]]:
    """(partition, offsets, last event time) of each poll until every message came, polled as
    the fetch process polls; `off_at`: turns are switched off at the first poll after that
    many records at which some partition's records are parked (how many partitions: `parked`)."""
    cons = kafka_io.consumer(bootstrap, None)
    record_batches.install(cons)
    tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
    cons.assign(tps)
    for tp in tps:
        cons.seek(tp, 0)
    taking = Turns(cons) if turns else None
    if taking is not None:
        taking.set_active(True)
    out: list[tuple[int, list[int], float]] = []
    deadline = time.monotonic() + 60
    try:
        while (got := sum(len(o) for _, o, _ in out)) < MESSAGES and time.monotonic() < deadline:
            if taking is not None and taking.active:
                held = cons._fetcher._paused_partition_records
                if off_at is not None and got >= off_at and held and parked is not None:
                    parked.append(len(held))
                    taking.set_active(False)
            if taking is not None and taking.active:  # as `streams.fetch_child._serve`
                taking.before_poll()
            else:
                record_batches.unpark(cons)
            polled = cons.poll(timeout_ms=50, max_records=CHUNK)
            reached = {}
            for tp, msgs in polled.items():
                reached[tp] = last_ts(report_tuples([v for _, v in msgs]))
                out.append((tp.partition, [o for o, _ in msgs], reached[tp]))
            if taking is not None and taking.active:
                taking.after_poll(reached)
    finally:
        cons.close()
    return out


def _spread(polls: list[tuple[int, list[int], float]]) -> float:
    """Largest event-time gap between the partitions that delivered, after each poll."""
    reached: dict[int, float] = {}
    worst = 0.0
    for p, _, ts in polls:
        reached[p] = ts
        if len(reached) == PARTITIONS:
            worst = max(worst, max(reached.values()) - min(reached.values()))
    return worst


def _once_in_order(polls: list[tuple[int, list[int], float]]) -> None:
    offsets = {p: [o for q, os, _ in polls if q == p for o in os] for p in range(PARTITIONS)}
    assert sum(map(len, offsets.values())) == MESSAGES
    assert all(os == list(range(len(os))) for os in offsets.values())  # once, in order


def _publish(bootstrap, topics) -> None:
    evs = aggregated_events(100, MESSAGES, 0)
    kafka_io.publish((("reports", e["service"], kafka_io.json_bytes(e)) for e in evs),
                     bootstrap, topics)


def test_partitions_take_turns_and_stay_close_in_event_time(bootstrap, topics):
    _publish(bootstrap, topics)
    plain = _polls(bootstrap, topics.reports, turns=False)
    taking = _polls(bootstrap, topics.reports, turns=True)
    for polls in (plain, taking):
        _once_in_order(polls)
    assert _spread(taking) < _spread(plain) / 4, (_spread(taking), _spread(plain))


def test_records_parked_when_turns_end_are_still_delivered(bootstrap, topics):
    """The worker switched the assistance off (`Worker._pace_assist`) while a partition's
    parsed records were parked: they, and the rest of that partition, still come."""
    _publish(bootstrap, topics)
    parked: list[int] = []
    polls = _polls(bootstrap, topics.reports, turns=True, off_at=5 * CHUNK, parked=parked)
    assert parked and parked[0] > 0  # turns ended with records parked
    _once_in_order(polls)
