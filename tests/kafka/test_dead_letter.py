"""Bad input on the real broker goes to dead-letter with its reason and offset; nothing stops."""

from __future__ import annotations

import json

from streams.kafka_io import read_topic
from streams.parsing import ERROR_RATES, REPORTS
from streams.worker import Worker, WorkerConfig
from tests.kafka.data import (
    T0,
    by_service,
    published_alerts,
    read_inputs,
    run_worker,
    scenario_messages,
    send,
    straight_run,
)

BAD = [  # (position in the stream, topic, value, expected reason)
    (10, REPORTS, b"not json at all", "not json"),
    (20, REPORTS, b'{"ts": "2025-12-01T00:10:00Z", "count": 1}', "missing service"),
    (30, REPORTS, b'{"service": "svc-1"}', "missing ts"),
    (40, REPORTS, b'{"service": "svc-1", "ts": 1764547800, "count": -5}', "negative count"),
    (50, REPORTS, b'{"service": "svc-1", "ts": 1764547800, "count": 1e12}', "absurd count"),
    (60, REPORTS, b'{"service": "svc-1", "ts": 1764547800, "message": "'
     + b"x" * 70_000 + b'"}', "oversize"),
    (900, REPORTS, json.dumps({"service": "svc-2", "ts": T0 + 30 * 86400}).encode(),
     "far from watermark"),
    (1500, REPORTS, json.dumps({"service": "svc-2", "ts": T0 + 30}).encode(), "late"),
    (1600, ERROR_RATES, json.dumps({"service": "svc-0", "ts": T0 + 7200, "errors": 9,
                                    "requests": 3}).encode(), "errors > requests"),
]


def test_bad_messages_go_to_dead_letter_and_the_pipeline_keeps_going(bootstrap, topics):
    good = scenario_messages()
    stream = list(good)
    for pos, topic, value, _ in sorted(BAD, reverse=True):
        stream.insert(pos, (topic, "svc-1", value))
    send(bootstrap, topics, stream)
    inputs = read_inputs(bootstrap, topics)

    worker = Worker(WorkerConfig(bootstrap, "dl", topics, checkpoint_every=1.0, idle_exit=2.0))
    run_worker(worker)

    dead = [json.loads(m.value) for m in read_topic(bootstrap, topics.dead_letter)]
    assert sorted(d["reason"] for d in dead) == sorted(reason for *_, reason in BAD)
    real = {REPORTS: topics.reports, ERROR_RATES: topics.error_rates}
    where = {(r.topic, r.value): (real[r.topic], r.partition, r.offset)
             for parts in inputs.values() for recs in parts.values() for r in recs}
    for d, (_, topic, value, reason) in zip(sorted(dead, key=lambda d: d["reason"]),
                                            sorted(BAD, key=lambda b: b[3]), strict=True):
        assert d["reason"] == reason
        assert (d["topic"], d["partition"], d["offset"]) == where[(topic, value)]
        assert d["raw"] == value.decode()[:2048]
    assert worker.dead_letters == len(BAD)
    assert worker.summary["processed"] == len(stream)
    assert sum(worker.summary["dead_letter"].values()) == len(BAD)

    # the good messages gave exactly the alerts of a clean straight run, in order per service
    bad_values = {value for _, _, value, _ in BAD}
    clean = {p: {t: [r for r in recs if r.value not in bad_values] for t, recs in parts.items()}
             for p, parts in inputs.items()}
    expected = straight_run(clean)
    assert expected, "the scenario's outages must raise alerts"
    assert by_service(published_alerts(bootstrap, topics.alerts)) == by_service(expected)
