"""`serve --kafka`: the API ingests into the real topics, the worker thread detects, the API
serves the worker's store and streams its alerts (api engineer's test, on the shared broker)."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from api.kafka_mode import kafka_runtime
from api.settings import Settings
from streams import kafka_io
from streams.store import Store

T = 1_770_148_800  # 2026-02-03T20:00:00Z
_groups = itertools.count()


def wait_until(check, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_serve_kafka_ingest_detect_and_read(bootstrap, topics, tmp_path: Path) -> None:
    settings = Settings(kafka=bootstrap, data=tmp_path, live=False, checkpoint_seconds=2,
                        kafka_group=f"api-test-{next(_groups)}-{time.time_ns()}")
    runtime, service = kafka_runtime(settings, topics)
    with TestClient(create_app(settings, runtime, background=[service])) as client:
        quiet = [{"service": "chatgpt", "ts": T + 60 * k + 30, "count": 2} for k in range(120)]
        spike = [{"service": "chatgpt", "ts": T + 7200 + s, "count": 200, "category": "login"}
                 for s in range(0, 60, 5)]
        later = {"service": "chatgpt", "ts": T + 7500, "count": 2}
        assert client.post("/reports", json=quiet).status_code == 202
        assert client.post("/reports", json=[*spike, later]).status_code == 202
        wait_until(lambda: client.get("/incidents?service=chatgpt").json() != [])
        [incident] = client.get("/incidents?service=chatgpt").json()
        assert incident["started_at"] == "2026-02-03T22:00:00Z"
        assert client.get("/services/chatgpt").json()["id"] == "chatgpt"
        assert [a["service"] for a in runtime.hub.recent(10)] == ["chatgpt"] * len(
            runtime.hub.recent(10))
        assert client.get("/healthz").json()["mode"] == "kafka"
        assert "outage_radar_events_processed_total" in client.get("/metrics").text


def test_serve_worker_process_consumes_and_alerts(bootstrap, topics, tmp_path: Path) -> None:
    """`outage-radar serve --kafka ... --worker`: a headless group member (settings from env)."""
    prefix = topics.alerts.removesuffix("alerts")
    quiet = [{"service": "chatgpt", "ts": T + 60 * k + 30, "count": 2} for k in range(120)]
    spike = [{"service": "chatgpt", "ts": T + 7200 + s, "count": 200} for s in range(0, 60, 5)]
    later = {"service": "chatgpt", "ts": T + 7500, "count": 2}
    kafka_io.publish([("reports", "chatgpt", json.dumps(e).encode())
                      for e in [*quiet, *spike, later]], bootstrap, topics)
    env = dict(os.environ, OUTAGE_RADAR_KAFKA_PREFIX=prefix, OUTAGE_RADAR_LIVE="false",
               OUTAGE_RADAR_KAFKA_GROUP=f"api-worker-{time.time_ns()}")
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--kafka", bootstrap,
                             "--worker", "--data", str(tmp_path)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_until(lambda: kafka_io.read_topic(bootstrap, topics.alerts, timeout_s=5) != [],
                   timeout=180)  # generous: shared 2-core machines
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    alerts = [json.loads(m.value) for m in kafka_io.read_topic(bootstrap, topics.alerts)]
    assert alerts[0]["service"] == "chatgpt" and alerts[0]["status"] == "open"
    store = Store(tmp_path / "store.sqlite")
    assert [i["incident_id"] for i in store.incidents()] == [alerts[0]["incident_id"]]
