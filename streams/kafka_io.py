"""Kafka behind one thin module: topic names, lazily built kafka-python clients, (de)serialisers.

Consumers poll in batches with auto-commit off (offsets are committed by the worker only after
its state is saved); the producer waits for all in-sync replicas (acks=all) and is idempotent-
friendly (one in flight per connection keeps per-partition order across retries).
`publish_file` puts a historical JSONL file into the input topics with its original event
times (`outage-radar replay FILE --to-kafka HOST:PORT`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from streams.errors import BadMessage
from streams.names import ERROR_RATES, REPORTS  # not `parsing`: the fetch child stays light

MAX_MESSAGE_BYTES = 16 * 1024 * 1024  # checkpoints of large fleets exceed Kafka's 1 MB default


@dataclass(frozen=True)
class TopicNames:
    """Names of the five topics of DESIGN.md (configurable, e.g. a prefix per test run)."""

    reports: str = REPORTS
    error_rates: str = ERROR_RATES
    alerts: str = "alerts"
    dead_letter: str = "dead-letter"
    state: str = "detector-state"

    @classmethod
    def prefixed(cls, prefix: str) -> TopicNames:
        """All five names with `prefix` in front (isolated topic sets on one broker)."""
        base = cls()
        return cls(*(prefix + name for name in (base.reports, base.error_rates, base.alerts,
                                                 base.dead_letter, base.state)))

    def with_alerts(self, alerts: str) -> TopicNames:
        return replace(self, alerts=alerts)

    @property
    def inputs(self) -> dict[str, str]:
        """Kafka topic name -> logical input name understood by `streams.parsing.decode`."""
        return {self.reports: REPORTS, self.error_rates: ERROR_RATES}


# -- (de)serialisers: small callables ------------------------------------------------------
def json_bytes(obj: Any) -> bytes:
    """Compact UTF-8 JSON of one message."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def json_value(data: bytes) -> Any:
    return json.loads(data)


def key_bytes(key: str | None) -> bytes | None:
    return None if key is None else key.encode()


# -- clients (kafka-python imported only when a client is built) --------------------------
def consumer(bootstrap: str, group_id: str | None = None, **overrides: Any) -> Any:
    """A KafkaConsumer with batched polls and auto-commit off; values stay raw bytes."""
    from kafka import KafkaConsumer
    from kafka.coordinator.assignors.range import RangePartitionAssignor

    config: dict[str, Any] = {
        "bootstrap_servers": bootstrap, "group_id": group_id, "enable_auto_commit": False,
        "auto_offset_reset": "earliest", "max_poll_records": 5000,
        "fetch_max_bytes": 32 * 1024 * 1024, "max_partition_fetch_bytes": 4 * 1024 * 1024,
        # range assignment gives partition p of every input topic to the same member
        "partition_assignment_strategy": [RangePartitionAssignor],
        "session_timeout_ms": 10_000, "heartbeat_interval_ms": 2_000,
        "max_poll_interval_ms": 300_000, "reconnect_backoff_max_ms": 2_000,
    }
    config.update(overrides)
    return KafkaConsumer(**config)


def producer(bootstrap: str, **overrides: Any) -> Any:
    """A KafkaProducer for alerts, dead letters and checkpoints: acks=all, ordered retries."""
    from kafka import KafkaProducer

    config: dict[str, Any] = {
        "bootstrap_servers": bootstrap, "acks": "all", "linger_ms": 5,
        "max_request_size": MAX_MESSAGE_BYTES, "max_in_flight_requests_per_connection": 1,
        "retries": 2**31 - 1, "delivery_timeout_ms": 600_000, "max_block_ms": 600_000,
        "reconnect_backoff_max_ms": 2_000,
    }
    config.update(overrides)
    return KafkaProducer(**config)


def admin(bootstrap: str) -> Any:
    from kafka import KafkaAdminClient

    return KafkaAdminClient(bootstrap_servers=bootstrap)


def create_topics(bootstrap: str, names: TopicNames = TopicNames(), partitions: int = 4) -> None:
    """Create the five topics if missing: inputs with `partitions`, state compacted."""
    from kafka.errors import TopicAlreadyExistsError

    compact = {"cleanup.policy": "compact", "min.cleanable.dirty.ratio": "0.1",
               "segment.ms": "60000", "max.message.bytes": str(MAX_MESSAGE_BYTES)}
    spec = {names.reports: {"num_partitions": partitions, "replication_factor": 1},
            names.error_rates: {"num_partitions": partitions, "replication_factor": 1},
            names.alerts: {"num_partitions": 1, "replication_factor": 1},
            names.dead_letter: {"num_partitions": 1, "replication_factor": 1},
            names.state: {"num_partitions": 1, "replication_factor": 1, "configs": compact}}
    client = admin(bootstrap)
    try:
        existing = set(client.list_topics())
        todo = {k: v for k, v in spec.items() if k not in existing}
        if todo:
            try:
                client.create_topics(todo, wait_for_metadata=True)
            except TopicAlreadyExistsError:
                pass
    finally:
        client.close()


def read_topic(bootstrap: str, topic: str, timeout_s: float = 30.0) -> list[Any]:
    """Every message of `topic` from the beginning to its current end (tests, tools)."""
    from kafka import TopicPartition

    cons = plain_consumer(bootstrap)
    try:
        parts = [TopicPartition(topic, p) for p in sorted(cons.partitions_for_topic(topic) or ())]
        cons.assign(parts)
        cons.seek_to_beginning(*parts)
        end = cons.end_offsets(parts)
        out: list[Any] = []
        for batch in drain(cons, parts, end, timeout_s):
            out.extend(batch)
        return out
    finally:
        cons.close()


def load_metadata(cons: Any, topics: Iterable[str] = (), *, all_topics: bool = False,
                  wait_ms: int | None = 5_000, attempts: int = 3) -> bool:
    """Fetch the metadata of `cons`'s topics (plus `topics`; every topic with `all_topics`) at
    once, and wait for it at most `wait_ms` (None: do not wait). True once it is known.

    kafka-python sends a metadata request only `retry_backoff_ms` (100 ms) after its previous
    one, and every client makes one on connecting: so a consumer's first look at its topics
    came ~0.1 s late. A group leader that joined meanwhile assigned nothing ("No partition
    metadata") and rebalanced again when they came, at every worker start; offset look-ups
    and the checkpoint reader waited the same. The Java client skips that backoff for new
    topics (`Metadata.requestUpdateForNewTopics`); this does the same. A request already in
    flight answers for the topics it asked about only, so this asks again (`attempts` in
    all) until every topic is known. `topics` are tracked (asked for by name, which lets a
    broker with auto-creation create them) unless `all_topics`, which asks for every topic
    and creates none. With another kafka-python, lacking these internals: False, and
    nothing is done (the old behaviour).
    """
    cluster = getattr(cons, "_cluster", None)
    net, manager = getattr(cons, "_net", None), getattr(cons, "_manager", None)
    needed = ("_last_refresh_ms", "_topics", "need_all_topic_metadata")
    if net is None or manager is None or not all(hasattr(cluster, a) for a in needed):
        return False
    import time

    from kafka.errors import KafkaError

    want = cluster._topics | set(topics)
    track = set() if all_topics else want
    if wait_ms is None:  # (not `all_topics`: its flag is read when the request is sent)
        _request_now(cluster, track)
        return False
    deadline = time.monotonic() + wait_ms / 1000
    for _ in range(attempts):
        stash = cluster.need_all_topic_metadata
        cluster.need_all_topic_metadata = stash or all_topics
        try:
            left_ms = max(1, int((deadline - time.monotonic()) * 1000))
            net.run(manager.wait_for, _request_now(cluster, track), left_ms)
        except KafkaError:
            return False
        finally:
            cluster.need_all_topic_metadata = stash
        if all(cluster.partitions_for_topic(t) is not None for t in want):
            return True
    return False


def _request_now(cluster: Any, topics: set[str]) -> Any:
    """Track `topics` too and ask for metadata without kafka-python's backoff (its future)."""
    cluster._last_refresh_ms = 0  # the backoff counts from the last request: none, for this one
    if topics - cluster._topics:
        return cluster.set_topics(topics)
    return cluster.request_update()


def plain_consumer(bootstrap: str, topics: Iterable[str] = ()) -> Any:
    """A consumer outside any group (manual assignment, offsets look-ups); the metadata of
    `topics` is asked for at once (`load_metadata`, without waiting for it)."""
    from kafka import KafkaConsumer

    cons = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                         auto_offset_reset="earliest", fetch_max_bytes=32 * 1024 * 1024)
    if topics:
        load_metadata(cons, topics, wait_ms=None)
    return cons


def subscribe(cons: Any, topics: list[str], listener: Any = None) -> None:
    """`cons.subscribe(topics)` with their metadata loaded before the first poll joins the
    group (`load_metadata`): the leader then assigns every partition at the first join."""
    cons.subscribe(topics, listener=listener)
    load_metadata(cons)


def drain(cons: Any, parts: list[Any], end: dict[Any, int], timeout_s: float) -> Iterator[list]:
    """Poll `cons` until every partition reached its `end` offset (or `timeout_s`)."""
    import time

    deadline = time.monotonic() + timeout_s
    while any(cons.position(tp) < end[tp] for tp in parts):
        if time.monotonic() > deadline:
            raise TimeoutError(f"reading {parts} did not reach {end}")
        yield from cons.poll(timeout_ms=500).values()


# -- replay --to-kafka ---------------------------------------------------------------------
def file_messages(path: str | Path) -> Iterator[tuple[str, str | None, bytes]]:
    """(logical topic, key, raw value) per JSONL line; bad lines are kept, as reports.

    Bad lines are published as they are, so the consumers' dead-letter path sees them.
    """
    from streams.parsing import infer_topic, load_object

    with open(path, "rb") as fh:
        for line in fh:
            raw = line.rstrip(b"\r\n")
            if not raw.strip():
                continue
            try:
                obj = load_object(raw)
                topic, key = infer_topic(obj), obj.get("service")
            except BadMessage:
                yield REPORTS, None, raw
                continue
            yield topic, key if isinstance(key, str) else None, raw


def publish_file(path: str | Path, bootstrap: str, names: TopicNames = TopicNames(),
                 *, create: bool = True) -> dict[str, int]:
    """Publish a JSONL file into the input topics, key = service, lines unchanged.

    The original event times travel inside the messages (the pipeline reads only those); the
    Kafka record timestamp stays the producer's clock, so time-based retention does not
    delete historical data as soon as it lands. Returns messages per Kafka topic.
    """
    if create:
        create_topics(bootstrap, names)
    return publish(file_messages(path), bootstrap, names)


def publish(messages: Iterable[tuple[str, str | None, bytes]], bootstrap: str,
            names: TopicNames = TopicNames()) -> dict[str, int]:
    """Send (logical topic, key, value) messages in order; flush before returning."""
    real = {logical: topic for topic, logical in names.inputs.items()}
    prod = producer(bootstrap, linger_ms=20, batch_size=256 * 1024)
    counts: dict[str, int] = {}
    try:
        for logical, key, value in messages:
            topic = real[logical]
            prod.send(topic, value=value, key=key_bytes(key))
            counts[topic] = counts.get(topic, 0) + 1
        prod.flush()
    finally:
        prod.close()
    return counts
