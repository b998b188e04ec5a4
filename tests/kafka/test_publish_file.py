"""`outage-radar replay FILE --to-kafka`: a live run over Kafka gives a direct replay's alerts."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from streams import kafka_io
from streams.worker import Worker, WorkerConfig
from tests.kafka.data import published_alerts, run_worker, scenario_messages
from tests.kafka.procs import ROOT


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "api.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_replay_to_kafka_then_worker_matches_direct_replay(bootstrap, tmp_path):
    path = tmp_path / "history.jsonl"
    lines = [value for _, _, value in scenario_messages()]
    lines.insert(100, b"{broken")  # a bad line travels too, and ends in dead-letter
    path.write_bytes(b"\n".join(lines) + b"\n")

    direct = tmp_path / "direct.jsonl"
    done = _cli("replay", str(path), "--alerts-out", str(direct),
                "--dead-letter", str(tmp_path / "dl.jsonl"))
    assert done.returncode == 0, done.stdout + done.stderr
    want = [json.loads(line)["alert_id"] for line in direct.read_text().splitlines()]
    assert want

    # one partition per input: the whole file is one stream, as in the direct replay
    topics = kafka_io.TopicNames.prefixed(f"pub{time.time_ns()}.")
    kafka_io.create_topics(bootstrap, topics, partitions=1)
    published = kafka_io.publish(kafka_io.file_messages(path), bootstrap, topics)
    assert sum(published.values()) == len(lines)
    worker = Worker(WorkerConfig(bootstrap, "pub", topics, checkpoint_every=1.0, idle_exit=2.0))
    run_worker(worker)
    got = [a["alert_id"] for a in published_alerts(bootstrap, topics.alerts)]
    assert got == want
    assert worker.summary["dead_letter"] == {"not json": 1}


def test_cli_to_kafka_publishes_into_the_default_topics(bootstrap, tmp_path):
    path = tmp_path / "few.jsonl"
    path.write_text('{"service": "cli-a", "ts": "2026-02-03T21:04:12Z", "count": 3}\n'
                    '{"service": "cli-a", "ts": 1770152660, "errors": 1, "requests": 10}\n')
    before = {t: _end(bootstrap, t) for t in ("reports", "error-rates")}
    done = _cli("replay", str(path), "--to-kafka", bootstrap)
    assert done.returncode == 0, done.stdout + done.stderr
    assert {t: _end(bootstrap, t) - before[t] for t in before} == {"reports": 1,
                                                                  "error-rates": 1}
    mine = [json.loads(m.value) for m in kafka_io.read_topic(bootstrap, "reports")
            if m.key == b"cli-a"]
    assert mine[-1]["ts"] == "2026-02-03T21:04:12Z"  # original event time, unchanged


def _end(bootstrap: str, topic: str) -> int:
    from kafka import TopicPartition

    cons = kafka_io.plain_consumer(bootstrap)
    try:
        parts = [TopicPartition(topic, p) for p in cons.partitions_for_topic(topic)]
        return sum(cons.end_offsets(parts).values())
    finally:
        cons.close()
