"""Read side: services, series and incidents as exact JSON from a hand-filled store."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.runtime import Runtime
from tests.api.conftest import ALERT, T0, filled_store

SORA = {"id": "sora", "state": "ok", "t": "2026-02-03T20:03:00Z", "observed": 3.0,
        "expected": 4.0, "upper": None, "score": None, "error_rate": 0.01,
        "incident_id": None, "open_incidents": 0}
CHATGPT = {"id": "chatgpt", "state": "ok", "t": "2026-02-03T20:03:00Z", "observed": 40.0,
           "expected": 31.5, "upper": 55.0, "score": None, "error_rate": None,
           "incident_id": None, "open_incidents": 0}
RESOLVED = dict(ALERT, alert_id="a2", status="resolved", observed=40.0,
                resolved_at="2026-02-03T20:04:00Z", detected_at="2026-02-03T20:04:00Z")
SUMMARY = {"opened_at": "2026-02-03T20:01:10Z", "alerts": 2,  # peak: bucket ending 20:02
           "peak": {"at": "2026-02-03T20:02:00Z", "observed": 2464.0, "expected": 31.5,
                    "upper": 55.0, "score": 41.2}}


def test_healthz(read_client: TestClient) -> None:
    r = read_client.get("/healthz")
    assert (r.status_code, r.json()) == (200, {"status": "ok", "services": 2, "mode": "test"})


def test_services_list_and_one(read_client: TestClient) -> None:
    assert read_client.get("/services").json() == [CHATGPT, SORA]
    assert read_client.get("/services/sora").json() == SORA


def test_unknown_service_and_incident_are_404(read_client: TestClient) -> None:
    for path in ("/services/nope", "/services/nope/series", "/incidents/nope"):
        r = read_client.get(path)
        assert r.status_code == 404, path
        assert "nope" in r.json()["detail"]


def test_series_defaults_to_last_day_and_filters(read_client: TestClient) -> None:
    body = read_client.get("/services/chatgpt/series").json()
    assert body["since"] == "2026-02-02T20:03:00Z" and body["until"] == "2026-02-03T20:03:00Z"
    assert body["points"] == [
        {"t": "2026-02-03T20:01:00Z", "observed": 30.0, "expected": 31.5, "upper": 55.0,
         "error_rate": None, "state": "ok"},
        {"t": "2026-02-03T20:02:00Z", "observed": 2464.0, "expected": 31.5, "upper": 55.0,
         "error_rate": None, "state": "incident"},
        {"t": "2026-02-03T20:03:00Z", "observed": 40.0, "expected": 31.5, "upper": 55.0,
         "error_rate": None, "state": "ok"},
    ]
    r = read_client.get("/services/chatgpt/series",
                        params={"since": "2026-02-03T20:02:00Z", "until": 1770148920})
    assert [p["observed"] for p in r.json()["points"]] == [2464.0]


def test_series_bad_range_is_400_or_422(read_client: TestClient) -> None:
    r = read_client.get("/services/chatgpt/series",
                        params={"since": "2026-02-04T00:00:00Z", "until": "2026-02-03T00:00:00Z"})
    assert r.status_code == 400
    assert read_client.get("/services/chatgpt/series?since=yesterday").status_code == 422


def test_incidents_list_filters_and_detail(read_client: TestClient) -> None:
    listed = read_client.get("/incidents").json()
    assert listed == [dict(RESOLVED, **SUMMARY, history=None)]
    assert read_client.get("/incidents?status=resolved&service=chatgpt").json() == listed
    assert read_client.get("/incidents?status=active").json() == []
    assert read_client.get("/incidents?service=sora").json() == []
    assert read_client.get("/incidents?status=bogus").status_code == 422
    detail = read_client.get("/incidents/inc-1").json()
    assert detail == dict(RESOLVED, **SUMMARY, history=[ALERT, RESOLVED])


def test_read_only_instance_refuses_ingest(read_client: TestClient) -> None:
    r = read_client.post("/reports", json={"service": "x", "ts": 1770148800})
    assert r.status_code == 503 and "read-only" in r.json()["detail"]


def test_read_side_does_not_mutate_the_bank(make_client) -> None:
    """Reads under load leave the detector snapshot byte-identical."""
    client = make_client()
    client.post("/reports", json=[{"service": "chatgpt", "ts": 1770148800 + 60 * k + 1,
                                   "count": 20} for k in range(30)])
    runtime = client.app.state.runtime
    before = runtime.pipeline.snapshot()
    for path in ("/services", "/services/chatgpt", "/services/chatgpt/series", "/incidents",
                 "/metrics", "/healthz", "/alerts/stream?limit=1&timeout=0.1"):
        assert client.get(path).status_code == 200, path
    assert runtime.pipeline.snapshot() == before


def test_a_calm_resolved_alert_keeps_the_incidents_explanation(make_client) -> None:
    store = filled_store()
    opened = dict(ALERT, incident_id="inc-2", alert_id="b1", service="sora")
    calm = dict(opened, alert_id="b2", status="resolved", top_categories=[], top_regions=[],
                signals=[], resolved_at="2026-02-03T20:05:00Z")
    store.write_alert(opened, T0 + 60, T0 + 70)
    store.write_alert(calm, T0 + 60, T0 + 300)
    client = make_client(Runtime(store=store))
    body = client.get("/incidents/inc-2").json()
    assert (body["status"], body["top_categories"], body["top_regions"], body["signals"]) == (
        "resolved", ["login"], ["FR"], ["reports"])
    assert body["history"][1]["top_categories"] == []  # the history itself is untouched
