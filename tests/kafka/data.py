"""Small seeded data sets for the Kafka tests, and the straight in-memory run they must match."""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterable

from detector.generators import Outage, Profile, error_events, generate
from streams.input_merge import event_time
from streams.kafka_io import TopicNames, publish
from streams.parsing import ERROR_RATES, REPORTS
from streams.pipeline import Pipeline, Record

T0 = 1_764_547_200.0  # Monday 2025-12-01 00:00 UTC
SERVICES = tuple(f"svc-{i}" for i in range(6))


def scenario_messages(hours: float = 6.0, seed: int = 7) -> list[tuple[str, str, bytes]]:
    """(logical topic, key, value): pre-aggregated reports per minute and service, plus
    error-rate samples for two services; three outages after a 3-hour warm-up; time order."""
    profiles = [Profile(s, base=6.0, diurnal=0.2, requests=300.0 if i < 2 else 0.0)
                for i, s in enumerate(SERVICES)]
    outages = [Outage(SERVICES[i], onset=T0 + 3600 * (3.2 + 0.8 * k), peak=120.0,
                      end=T0 + 3600 * (3.2 + 0.8 * k) + 1200, error_peak=0.3)
               for k, i in enumerate((0, 3, 5))]
    sc = generate("kafka-test", profiles, t0=T0, days=hours / 24, outages=outages, seed=seed)
    out: list[tuple[float, int, tuple[str, str, bytes]]] = []
    for b in range(len(sc.reports)):
        for j, s in enumerate(SERVICES):
            n = int(sc.reports[b, j])
            if n:
                ts = T0 + 60 * b + 5 + 7 * j
                msg = {"service": s, "ts": ts, "count": n, "category": "login", "region": "FR"}
                out.append((ts, 0, (REPORTS, s, json.dumps(msg).encode())))
    for e in error_events(sc):
        ts = event_time(Record(ERROR_RATES, json.dumps(e).encode()))
        out.append((ts, 1, (ERROR_RATES, e["service"], json.dumps(e).encode())))
    out.sort(key=lambda x: (x[0], x[1]))
    return [m for _, _, m in out]


def send(bootstrap: str, topics: TopicNames, messages: Iterable[tuple[str, str, bytes]]) -> None:
    publish(messages, bootstrap, topics)


def straight_run(by_partition: dict[int, dict[str, list[Record]]], settings=None,
                 pipes: dict[int, Pipeline] | None = None) -> list[dict]:
    """Alerts of one uninterrupted in-memory Pipeline per partition (inputs merged by event
    time, reports first on ties), flushed at the end: what every Kafka run must reproduce.
    The final pipelines go to `pipes` when given."""
    alerts: list[dict] = []
    for p in sorted(by_partition):
        pipe = Pipeline(settings, on_alert=alerts.append, on_dead_letter=lambda d: None)
        if pipes is not None:
            pipes[p] = pipe
        streams = [[((event_time(r), rank), r) for r in by_partition[p].get(topic, [])]
                   for rank, topic in enumerate((REPORTS, ERROR_RATES))]
        pipe.process(r for _, r in heapq.merge(*streams, key=lambda x: x[0]))
        pipe.flush()
    return alerts


def read_inputs(bootstrap: str, topics: TopicNames) -> dict[int, dict[str, list[Record]]]:
    """Both input topics as stored by the broker: partition -> logical topic -> records."""
    from streams.kafka_io import read_topic

    out: dict[int, dict[str, list[Record]]] = {}
    for real, logical in topics.inputs.items():
        for m in read_topic(bootstrap, real):
            out.setdefault(m.partition, {}).setdefault(logical, []).append(
                Record(logical, m.value, m.key, m.partition, m.offset))
    for parts in out.values():
        for records in parts.values():
            records.sort(key=lambda r: r.offset)
    return out


def published_alerts(bootstrap: str, topic: str) -> list[dict]:
    """Every alert on `topic`, in order."""
    from streams.kafka_io import read_topic

    return [json.loads(m.value) for m in read_topic(bootstrap, topic)]


def by_service(alerts: list[dict]) -> dict[str, list[str]]:
    """Alert ids per service in publication order (one partition per service keeps order)."""
    out: dict[str, list[str]] = {}
    for a in alerts:
        out.setdefault(a["service"], []).append(a["alert_id"])
    return out


def saved_states(bootstrap: str, topics: TopicNames, group: str) -> dict[int, Pipeline]:
    """The latest checkpoint of each partition of `group`, restored as pipelines."""
    from streams.kafka_checkpoint import KafkaCheckpoints, state_key

    store = KafkaCheckpoints(bootstrap, topics.state, producer=None)
    try:
        out = {}
        for p in range(8):
            data = store.load(state_key(group, p))
            if data is not None:
                out[p] = Pipeline.restore(data, on_alert=print, on_dead_letter=print)
        return out
    finally:
        store.close()


def same_state(a: Pipeline, b: Pipeline) -> bool:
    """Same counters (records processed, events, buckets, alerts...), positions and bank view:
    a record lost or processed twice shows here even when no alert changes."""
    return (a.counters.as_dict() == b.counters.as_dict() and a.positions == b.positions
            and a.bank.status() == b.bank.status())


def run_worker(worker, timeout: float = 240.0) -> None:
    """Run a batch-mode `Worker` in a thread; fail with its counters if it does not finish."""
    import threading

    errors: list[BaseException] = []

    def target() -> None:
        try:
            worker.run()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread
            errors.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        state = worker.counters()
        worker.stop()
        thread.join(60)
        raise AssertionError(f"worker did not finish in {timeout:.0f}s: {state}")
    if errors:
        raise errors[0]


Outcome = tuple[dict, list[dict], dict[int, Pipeline]]  # summary, alerts, saved states


def worker_outcome(worker, bootstrap: str, topics: TopicNames, group: str,
                   timeout: float = 240.0) -> Outcome:
    """Run `worker` (`run_worker`); its summary, published alerts and saved states."""
    run_worker(worker, timeout)
    return (worker.summary, published_alerts(bootstrap, topics.alerts),
            saved_states(bootstrap, topics, group))


def assert_same_outcome(outcome: Outcome, reference: Outcome, total: int, key=None) -> None:
    """`outcome` processed all `total` records and equals `reference`: dead letters, alerts
    per service, saved partitions and their states (`key` names the run in a failure)."""
    (summary, alerts, states), (ref_summary, ref_alerts, ref_states) = outcome, reference
    assert summary["processed"] == total, key
    assert summary["dead_letter"] == ref_summary["dead_letter"], key
    assert by_service(alerts) == by_service(ref_alerts), key
    assert sorted(states) == sorted(ref_states), key
    assert all(same_state(states[p], ref_states[p]) for p in states), key
