"""End-to-end throughput on a real Kafka broker: reports/s through detection to alerts.

For each input shape (single reports with count=1, and pre-aggregated per-minute counts) the
same topic is read, in the same run and alternately, by (a) a bare kafka-python consumer
that only counts messages (the raw consumption rate) and (b) the `Worker`: consumer group,
event-time merge, one Pipeline per partition, detection, alerts produced with acks=all and a
final checkpoint. Reported, never asserted: `ratio` = e2e / raw (target >= 0.8). The
in-memory Pipeline rate on the same records (no Kafka) is reported too, to show where the
time goes. Writes benchmarks/results/e2e_kafka.json.

    python -m benchmarks.e2e_kafka [--services 200] [--messages 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from detector.generators import events, fleet
from streams import kafka_io
from streams.broker import KAFKA_VERSION, KafkaBroker
from streams.pipeline import Pipeline, Record
from streams.worker import Worker, WorkerConfig

RESULTS = Path(__file__).parent / "results" / "e2e_kafka.json"
PARTITIONS = 4


def _days_for(services: int, limit: int, seed: int, per_minute: bool) -> float:
    """Days of a seeded fleet that yield about `limit` messages (a short probe run first)."""
    probe = fleet(services, days=1 / 24, seed=seed)
    per_hour = float((probe.reports > 0).sum() if per_minute else probe.reports.sum())
    return max(1 / 24, 1.1 * limit / max(per_hour, 1.0) / 24)


def single_events(services: int, limit: int, seed: int) -> list[dict]:
    """One message per report (count=1), from a seeded fleet (no planted outages: fleet
    outages start at t0 when there is no warm-up and would multiply the volume)."""
    sc = fleet(services, days=_days_for(services, limit, seed, False), seed=seed)
    return events(sc, seed=seed)[:limit]


def aggregated_events(services: int, limit: int, seed: int) -> list[dict]:
    """One message per service and minute carrying that minute's count."""
    sc = fleet(services, days=_days_for(services, limit, seed, True), seed=seed)
    b, s = np.nonzero(sc.reports > 0)
    out = [{"service": sc.services[j], "ts": float(sc.t0 + 60 * i + 1 + (j % 50)),
            "count": int(sc.reports[i, j]), "source": "downdetector"}
           for i, j in zip(b, s, strict=True)]
    out.sort(key=lambda e: e["ts"])
    return out[:limit]


def raw_rate(bootstrap: str, topic: str, total: int, group: str) -> float:
    """Messages/s of a bare group consumer that only counts what it receives."""
    start = time.perf_counter()
    cons = kafka_io.consumer(bootstrap, group)
    cons.subscribe([topic])
    seen = 0
    while seen < total:
        seen += sum(len(m) for m in cons.poll(timeout_ms=200).values())
    elapsed = time.perf_counter() - start
    cons.close()
    return total / elapsed


def e2e_rate(bootstrap: str, topics: kafka_io.TopicNames, total: int,
             group: str) -> tuple[float, dict[str, Any]]:
    """Messages/s of the Worker from start until every message is processed and flushed."""
    worker = Worker(WorkerConfig(bootstrap, group, topics, checkpoint_every=5.0))
    runner = threading.Thread(target=worker.run)
    start = time.perf_counter()
    runner.start()
    while sum(p.counters.processed for p in list(worker.pipelines.values())) < total:
        time.sleep(0.005)
    worker.stop()
    runner.join()
    elapsed = time.perf_counter() - start
    return total / elapsed, worker.summary


def pipeline_rate(values: list[tuple[str, bytes]]) -> float:
    """Messages/s of one in-memory Pipeline over the same messages (no Kafka at all)."""
    records = [Record("reports", v, k.encode(), 0, i) for i, (k, v) in enumerate(values)]
    pipe = Pipeline(on_alert=lambda a: None, on_dead_letter=lambda d: None)
    start = time.perf_counter()
    pipe.process(records)
    return len(records) / (time.perf_counter() - start)


def run_case(bootstrap: str, name: str, evs: list[dict], repeat: int) -> dict[str, Any]:
    """Publish one shape once, then alternate raw and end-to-end reads `repeat` times."""
    values = [(e["service"], kafka_io.json_bytes(e)) for e in evs]
    topics = kafka_io.TopicNames.prefixed(f"bench-{name}-{time.time_ns()}.")
    kafka_io.create_topics(bootstrap, topics, partitions=PARTITIONS)
    kafka_io.publish((("reports", k, v) for k, v in values), bootstrap, topics)
    raws, e2es, summary = [], [], {}
    for r in range(repeat):
        raws.append(raw_rate(bootstrap, topics.reports, len(values), f"raw-{r}"))
        rate, summary = e2e_rate(bootstrap, topics, len(values), f"e2e-{r}")
        e2es.append(rate)
    raw, e2e = statistics.median(raws), statistics.median(e2es)
    per_msg = sum(e["count"] for e in evs) / len(evs)
    return {"case": name, "messages": len(values), "reports": int(per_msg * len(values)),
            "services": len({e["service"] for e in evs}), "partitions": PARTITIONS,
            "raw_msgs_per_s": round(raw), "e2e_msgs_per_s": round(e2e),
            "e2e_reports_per_s": round(e2e * per_msg), "ratio": round(e2e / raw, 3),
            "raw_runs": [round(x) for x in raws], "e2e_runs": [round(x) for x in e2es],
            "pipeline_only_msgs_per_s": round(pipeline_rate(values)),
            "alerts": summary.get("alerts_sent"), "target_ratio": 0.8}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--services", type=int, default=200)
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=RESULTS)
    argv = sys.argv[1:] if argv is None else argv
    args = ap.parse_args(argv)
    shapes = {"single_count1": single_events, "preaggregated": aggregated_events}
    with KafkaBroker() as broker:
        cases = [run_case(broker.bootstrap, name, make(args.services, args.messages, args.seed),
                          args.repeat) for name, make in shapes.items()]
    result = {"benchmark": "e2e_kafka", "kafka": f"kafka_2.13 {KAFKA_VERSION} (KRaft, 1 node)",
              "command": " ".join(["python -m benchmarks.e2e_kafka", *argv]),
              "python": platform.python_version(), "cpus": os.cpu_count(),
              "load_avg_1m_at_end": round(os.getloadavg()[0], 2), "cases": cases}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    for c in cases:
        print(f"{c['case']:>15}: raw {c['raw_msgs_per_s']:>7} msg/s  e2e {c['e2e_msgs_per_s']:>7}"
              f" msg/s ({c['e2e_reports_per_s']} reports/s)  ratio {c['ratio']}"
              f"  pipeline-only {c['pipeline_only_msgs_per_s']} msg/s")


if __name__ == "__main__":
    main()
