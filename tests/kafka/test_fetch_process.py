"""The fetch process (`WorkerConfig.fetch_process`, the default) equals the in-process consumer
(`fetch_process=False`, kept reachable and tested here): on one mixed stream with bad messages
and both inputs, the same alerts, dead letters (reasons, topics, partitions, offsets),
counters and final states, whatever the poll size."""

from __future__ import annotations

import json
from collections import Counter

from streams.kafka_io import read_topic
from streams.worker import Worker, WorkerConfig
from tests.kafka.data import (
    by_service,
    published_alerts,
    run_worker,
    same_state,
    saved_states,
    scenario_messages,
    send,
)
from tests.kafka.test_dead_letter import BAD

RUNS = ((False, 5000), (True, 5000), (True, 37))  # (fetch_process, max_poll_records)


def test_fetch_process_equals_the_in_process_consumer(bootstrap, topics):
    stream = list(scenario_messages(hours=4.0))
    for pos, topic, value, _ in sorted(BAD, reverse=True):
        stream.insert(pos, (topic, "svc-1", value))
    send(bootstrap, topics, stream)

    runs = {}
    for fetch_process, polls in RUNS:
        names = topics.with_alerts(f"{topics.alerts}.{fetch_process}.{polls}")
        group = f"fetch-{fetch_process}-{polls}"
        worker = Worker(WorkerConfig(bootstrap, group, names, checkpoint_every=0.5,
                                     idle_exit=2.0, max_poll_records=polls,
                                     fetch_process=fetch_process))
        run_worker(worker)
        runs[(fetch_process, polls)] = (worker.summary, published_alerts(bootstrap, names.alerts),
                                        saved_states(bootstrap, names, group))

    ref_summary, ref_alerts, ref_states = runs[RUNS[0]]
    assert ref_alerts and sum(ref_summary["dead_letter"].values()) == len(BAD)
    for key, (summary, alerts, states) in runs.items():
        assert summary["processed"] == len(stream), key
        assert summary["dead_letter"] == ref_summary["dead_letter"], key
        assert by_service(alerts) == by_service(ref_alerts), key
        assert sorted(states) == sorted(ref_states), key
        assert all(same_state(states[p], ref_states[p]) for p in states), key

    # the runs share the dead-letter topic: each bad message is there once per run
    dead = [json.loads(m.value) for m in read_topic(bootstrap, topics.dead_letter)]
    seen = Counter((d["reason"], d["topic"], d["partition"], d["offset"]) for d in dead)
    assert len(seen) == len(BAD) and set(seen.values()) == {len(RUNS)}
