"""`outage-radar serve`: pipeline and API in one process (embedded bus, or Kafka with --kafka)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    """Register `serve [--host] [--port] [--kafka HOST:PORT] [--worker] [--data DIR]`."""
    p = sub.add_parser("serve", help="run the pipeline and the HTTP API + dashboard")
    p.add_argument("--host", default=None, help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="port (default 8000)")
    p.add_argument("--kafka", default=None, metavar="HOST:PORT",
                   help="consume the real Kafka topics instead of the in-memory bus")
    p.add_argument("--worker", action="store_true", default=None,
                   help="with --kafka: worker only (no HTTP); several share the partitions")
    p.add_argument("--data", type=Path, default=None, help="state and store (default ./data)")
    p.set_defaults(func=run_serve)


def settings_from(args: argparse.Namespace, **extra: Any) -> Any:
    """Settings from the environment (OUTAGE_RADAR_*) overridden by the flags given."""
    from api.settings import Settings

    flags = {k: getattr(args, k, None) for k in ("host", "port", "kafka", "worker", "data")}
    return Settings(**{k: v for k, v in {**flags, **extra}.items() if v is not None})


def run_serve(args: argparse.Namespace) -> int:
    """Build the runtime for the chosen mode and serve it with uvicorn until interrupted."""
    import uvicorn

    from api.app import create_app

    settings = settings_from(args)
    if settings.worker:
        return run_worker(settings)
    if settings.kafka:
        from api.kafka_mode import kafka_runtime

        runtime, service = kafka_runtime(settings)
    else:
        from api.embedded import embedded_runtime

        runtime, service = embedded_runtime(settings)
    app = create_app(settings, runtime, background=[service])
    print(f"outage-radar serving on http://{settings.host}:{settings.port}/ "
          f"({runtime.mode}, data in {settings.data})", flush=True)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
    return 0


def run_worker(settings: Any) -> int:
    """`serve --kafka HOST:PORT --worker`: a consumer-group member only, no HTTP server."""
    import signal

    from api.kafka_mode import kafka_runtime

    if not settings.kafka:
        print("outage-radar serve: --worker needs --kafka HOST:PORT")
        return 2
    runtime, service = kafka_runtime(settings)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: service.worker.stop())
    print(f"outage-radar worker in group outage-radar on {settings.kafka}", flush=True)
    service.worker.run()  # returns after a checkpoint once stopped
    runtime.store.close()
    return 0
