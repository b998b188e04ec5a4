"""Fixtures of the API tests: apps on an in-memory store, filled by hand or through ingest."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import Runtime
from api.settings import Settings
from api.wiring import memory_runtime
from streams.store import Store

T0 = 1_770_148_800.0  # 2026-02-03T20:00:00Z

ALERT = {
    "alert_id": "a1", "incident_id": "inc-1", "service": "chatgpt", "status": "open",
    "started_at": "2026-02-03T20:01:00Z", "detected_at": "2026-02-03T20:01:10Z",
    "resolved_at": None, "observed": 2464.0, "expected": 31.5, "upper": 55.0, "score": 41.2,
    "signals": ["reports"], "sources": ["downdetector"], "top_categories": ["login"],
    "top_regions": ["FR"], "related": ["chatgpt-api"],
}


def filled_store() -> Store:
    """Two services, three buckets (series t = bucket end), one incident opened in the
    second bucket then resolved (exact values)."""
    store = Store(":memory:")
    names = ["chatgpt", "sora"]
    for k, obs in enumerate([30.0, 2464.0, 40.0]):
        state = "incident" if k == 1 else "ok"
        store.write_bucket(T0 + 60 * (k + 1), names, [obs, 3.0], [31.5, 4.0],
                           [55.0, float("nan")], [float("nan"), 0.01], [state, "ok"])
    store.write_alert(ALERT, T0 + 60, T0 + 70)
    resolved = dict(ALERT, alert_id="a2", status="resolved", observed=40.0,
                    resolved_at="2026-02-03T20:04:00Z", detected_at="2026-02-03T20:04:00Z")
    store.write_alert(resolved, T0 + 60, T0 + 240)
    store.commit()
    return store


@pytest.fixture
def make_client() -> Iterator[Callable[..., TestClient]]:
    """Build TestClients for given settings/runtime; all are closed after the test."""
    clients: list[TestClient] = []

    def make(runtime: Runtime | None = None, **settings: object) -> TestClient:
        config = Settings(**settings)
        client = TestClient(create_app(config, runtime or memory_runtime(config)))
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def read_client(make_client: Callable[..., TestClient]) -> TestClient:
    """An app reading a hand-filled store (no pipeline): exact JSON is predictable."""
    return make_client(Runtime(store=filled_store(), mode="test"))
