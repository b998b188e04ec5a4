"""Command line of one Kafka worker: `python -m streams.worker --bootstrap HOST:PORT ...`."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys

from streams import kafka_io
from streams.settings import PipelineSettings
from streams.worker import Worker, WorkerConfig


def main(argv: list[str] | None = None) -> None:
    """`python -m streams.worker --bootstrap HOST:PORT ...`: one worker, status lines on stdout."""
    ap = argparse.ArgumentParser(prog="streams.worker", description=__doc__.splitlines()[0])
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--group", default="outage-radar")
    ap.add_argument("--prefix", default="", help="prefix of all five topic names")
    ap.add_argument("--alerts-topic", default=None)
    ap.add_argument("--bucket", type=float, default=60.0)
    ap.add_argument("--checkpoint-every", type=float, default=10.0)
    ap.add_argument("--idle-exit", type=float, default=None)
    ap.add_argument("--session-timeout-ms", type=int, default=10_000)
    ap.add_argument("--max-poll-records", type=int, default=5000)
    ap.add_argument("--live", action="store_true")
    fetch = ap.add_mutually_exclusive_group()
    fetch.add_argument("--fetch-process", dest="fetch_process", action="store_true",
                       default=True, help="fetch and parse records in a child process (other "
                       "core; the default)")
    fetch.add_argument("--in-process-fetch", dest="fetch_process", action="store_false",
                       help="fetch and parse records in this process")
    args = ap.parse_args(argv)
    topics = kafka_io.TopicNames.prefixed(args.prefix)
    if args.alerts_topic:
        topics = topics.with_alerts(args.alerts_topic)
    config = WorkerConfig(args.bootstrap, args.group, topics,
                          PipelineSettings(bucket_seconds=args.bucket),
                          checkpoint_every=args.checkpoint_every, idle_exit=args.idle_exit,
                          live=args.live, session_timeout_ms=args.session_timeout_ms,
                          max_poll_records=args.max_poll_records,
                          fetch_process=args.fetch_process)
    worker = Worker(config, on_checkpoint=lambda d: print(json.dumps(d), flush=True))
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    worker.run()
    print(json.dumps({"event": "exit", "alerts": worker.alerts,
                      "dead_letters": worker.dead_letters}), flush=True)


if __name__ == "__main__":
    main()
