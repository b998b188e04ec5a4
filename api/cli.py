"""`outage-radar` command line: one argparse sub-command per job (replay, serve, demo).

Each sub-command registers itself with an `add_<name>(subparsers)` function that sets
`func`; heavy imports happen inside the handlers so `--help` stays fast.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path


def _positive(text: str) -> float:
    """argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be > 0: {text!r}")
    return value


def add_replay(sub: argparse._SubParsersAction) -> None:
    """`replay FILE... [--alerts-out PATH] [--bucket SECONDS] [--dead-letter PATH]`."""
    p = sub.add_parser("replay", help="feed JSONL/CSV files through the pipeline in event time")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE",
                   help="JSONL reports/error-rates, or NAB-style timestamp,value CSV")
    p.add_argument("--alerts-out", type=Path, default=None, help="write alerts as JSONL here")
    p.add_argument("--bucket", type=_positive, default=60.0, metavar="SECONDS",
                   help="event-time bucket width (default 60)")
    p.add_argument("--dead-letter", type=Path, default=Path("dead-letter.jsonl"),
                   help="where rejected input goes (default dead-letter.jsonl, only if any)")
    p.add_argument("--store", type=Path, default=None,
                   help="also write series and incidents to this SQLite file")
    p.add_argument("--to-kafka", default=None, metavar="HOST:PORT",  # Kafka engineer
                   help="publish the JSONL files into the Kafka input topics instead")
    p.set_defaults(func=_replay)


def _replay(args: argparse.Namespace) -> int:
    from streams.replay import run
    from streams.settings import PipelineSettings
    from streams.store import Store

    missing = [str(f) for f in args.files if not f.is_file()]
    if missing:
        print(f"outage-radar replay: no such file: {', '.join(missing)}")
        return 2
    if args.to_kafka:  # Kafka engineer: publish with original event times, no local replay
        from streams.kafka_io import publish_file

        for f in args.files:
            print(f"{f}: {publish_file(f, args.to_kafka)}")
        return 0
    store = Store(args.store) if args.store else None
    try:
        run(args.files, alerts_out=args.alerts_out, dead_letter_out=args.dead_letter,
            settings=PipelineSettings(bucket_seconds=args.bucket), store=store)
    finally:
        if store is not None:
            store.close()
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The `outage-radar` parser with every registered sub-command."""
    parser = argparse.ArgumentParser(
        prog="outage-radar",
        description="Detect service outages from streams of problem reports and error rates.")
    sub = parser.add_subparsers(dest="command", required=True)
    add_replay(sub)
    from api import demo, serve  # api engineer: `serve` and `demo` sub-commands

    serve.add_parser(sub)
    demo.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `outage-radar`; returns the process exit code."""
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
