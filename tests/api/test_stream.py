"""GET /alerts/stream: server-sent events, bounded by limit/timeout so tests never hang."""

from __future__ import annotations

import json
import threading
import time

from fastapi.testclient import TestClient

from api.runtime import Runtime
from tests.api.conftest import ALERT, filled_store


def events(text: str) -> list[dict]:
    """The `alert` events of an SSE body, decoded."""
    out = []
    for block in text.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if lines.get("event") == "alert":
            out.append(dict(json.loads(lines["data"]), _id=lines["id"]))
    return out


def test_backlog_then_limit(make_client) -> None:
    runtime = Runtime(store=filled_store())
    client = make_client(runtime)
    runtime.on_alert(dict(ALERT, reporter="never-exposed", extra="dropped"))
    r = client.get("/alerts/stream?backlog=5&limit=1")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    assert r.text.startswith("retry: 3000\n\n")
    assert events(r.text) == [dict(ALERT, _id="a1")]
    assert "never-exposed" not in r.text


def test_live_alert_reaches_a_connected_client(make_client) -> None:
    """An alert published from another thread (the pipeline's) arrives over the stream."""
    runtime = Runtime(store=filled_store())
    client = make_client(runtime)

    def publish_when_subscribed() -> None:
        deadline = time.monotonic() + 5
        while runtime.hub.subscriber_count == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        runtime.on_alert(dict(ALERT, alert_id="live-1"))

    threading.Thread(target=publish_when_subscribed, daemon=True).start()
    r = client.get("/alerts/stream?limit=1&timeout=10")
    assert [e["alert_id"] for e in events(r.text)] == ["live-1"]
    assert runtime.hub.subscriber_count == 0  # unsubscribed when the stream ended


def test_reconnect_with_last_event_id_gets_what_was_missed(make_client) -> None:
    runtime = Runtime(store=filled_store())
    client = make_client(runtime)
    for name in ("a1", "a2", "a3"):
        runtime.on_alert(dict(ALERT, alert_id=name))
    r = client.get("/alerts/stream?limit=2&timeout=5", headers={"Last-Event-ID": "a1"})
    assert [e["alert_id"] for e in events(r.text)] == ["a2", "a3"]


def test_timeout_ends_an_idle_stream(read_client: TestClient) -> None:
    r = read_client.get("/alerts/stream?timeout=0.2")
    assert r.status_code == 200 and events(r.text) == []


def test_bad_stream_parameters_are_422(read_client: TestClient) -> None:
    for query in ("limit=0", "timeout=-1", "backlog=9999", "limit=x"):
        assert read_client.get(f"/alerts/stream?{query}").status_code == 422, query
