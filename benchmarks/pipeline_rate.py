"""In-memory Pipeline rate (no Kafka): messages/s of the fast path against the reference path.

The same messages as `benchmarks.e2e_kafka` (single reports with count=1, and one
pre-aggregated message per service per minute), JSON-encoded the same way, are split over
4 partitions by service (as the Kafka worker runs one Pipeline per partition) and fed in
batches of 5,000 records, alternately to `Pipeline.process` (batch decoding, inlined ingest)
and `Pipeline.process_reference` (record by record, the code before the fast path). Both
must give the same alerts and snapshots (checked on every run). Reported: median msg/s and
us/msg per path, and their ratio measured in the same run. Writes
benchmarks/results/pipeline_rate.json.

    python -m benchmarks.pipeline_rate [--messages 60000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import zlib
from pathlib import Path
from typing import Any

from benchmarks.e2e_inputs import aggregated_events, single_events
from streams import kafka_io
from streams.pipeline import Pipeline, Record

RESULTS = Path(__file__).parent / "results" / "pipeline_rate.json"
PARTITIONS = 4
BATCH = 5000


def partitioned(evs: list[dict]) -> list[list[Record]]:
    """The messages as records of `PARTITIONS` partitions (by a stable hash of the service)."""
    parts: list[list[Record]] = [[] for _ in range(PARTITIONS)]
    for e in evs:
        p = zlib.crc32(e["service"].encode()) % PARTITIONS
        parts[p].append(Record("reports", kafka_io.json_bytes(e), e["service"].encode(), p,
                               len(parts[p])))
    return parts


def run(parts: list[list[Record]], path: str) -> tuple[float, list[Any]]:
    """Seconds to push every partition through its own Pipeline on `path`; and the outputs."""
    outputs: list[Any] = []
    elapsed = 0.0
    for recs in parts:
        alerts: list[dict] = []
        pipe = Pipeline(on_alert=alerts.append, on_dead_letter=alerts.append)
        feed = pipe.process if path == "fast" else pipe.process_reference
        start = time.perf_counter()
        for k in range(0, len(recs), BATCH):
            feed(recs[k:k + BATCH])
        pipe.flush()
        elapsed += time.perf_counter() - start
        outputs.append((alerts, pipe.snapshot()))
    return elapsed, outputs


def run_case(name: str, evs: list[dict], repeat: int) -> dict[str, Any]:
    """Alternate both paths `repeat` times on one shape."""
    parts = partitioned(evs)
    n = sum(len(p) for p in parts)
    times: dict[str, list[float]] = {"fast": [], "reference": []}
    for _ in range(repeat):
        outs = {}
        for path in ("reference", "fast"):
            seconds, outs[path] = run(parts, path)
            times[path].append(seconds)
        if outs["fast"] != outs["reference"]:
            raise SystemExit(f"{name}: fast and reference outputs differ")
    med = {p: statistics.median(t) for p, t in times.items()}
    return {"case": name, "messages": n, "services": len({e["service"] for e in evs}),
            "partitions": PARTITIONS, "batch": BATCH,
            "fast_msgs_per_s": round(n / med["fast"]),
            "reference_msgs_per_s": round(n / med["reference"]),
            "fast_us_per_msg": round(med["fast"] / n * 1e6, 2),
            "reference_us_per_msg": round(med["reference"] / n * 1e6, 2),
            "speedup": round(med["reference"] / med["fast"], 2),
            "fast_runs_s": [round(t, 3) for t in times["fast"]],
            "reference_runs_s": [round(t, 3) for t in times["reference"]]}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=60_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=RESULTS)
    argv = sys.argv[1:] if argv is None else argv
    args = ap.parse_args(argv)
    shapes = [("single_count1", single_events, 100), ("preaggregated", aggregated_events, 100),
              ("preaggregated_1000", aggregated_events, 1000)]
    cases = [run_case(name, make(services, args.messages, args.seed), args.repeat)
             for name, make, services in shapes]
    result = {"benchmark": "pipeline_rate",
              "command": " ".join(["python -m benchmarks.pipeline_rate", *argv]),
              "python": platform.python_version(), "cpus": os.cpu_count(),
              "load_avg_1m_at_end": round(os.getloadavg()[0], 2), "cases": cases}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    for c in cases:
        print(f"{c['case']:>19}: fast {c['fast_msgs_per_s']:>7} msg/s ({c['fast_us_per_msg']} us)"
              f"  reference {c['reference_msgs_per_s']:>7} msg/s"
              f" ({c['reference_us_per_msg']} us)  speedup {c['speedup']}x")


if __name__ == "__main__":
    main()
