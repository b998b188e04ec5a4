"""Metrics, CORS, OpenAPI, dashboard and static assets."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.routes.dashboard import plotly_js


def test_metrics_count_pipeline_and_http(make_client) -> None:
    client = make_client()
    client.post("/reports", json=[{"service": "chatgpt", "ts": 1770148830, "count": 3},
                                  {"service": "chatgpt", "ts": 1770148890}])
    client.post("/reports", content=b'{"service": "x"}', headers={"content-type": "text/plain"})
    text = client.get("/metrics").text
    assert "outage_radar_events_processed_total 2.0" in text
    assert 'outage_radar_http_requests_total{method="POST",route="/reports",status="202"} 1.0' \
        in text
    assert 'outage_radar_http_requests_total{method="POST",route="/reports",status="422"} 1.0' \
        in text
    assert "outage_radar_incidents_open 0.0" in text
    assert 'outage_radar_alerts_total{status="open"} 0.0' in text


def test_each_app_has_its_own_registry(make_client) -> None:
    first, second = make_client(), make_client()
    first.get("/healthz")
    assert 'route="/healthz"' in first.get("/metrics").text
    assert 'route="/healthz"' not in second.get("/metrics").text


def test_cors_off_by_default_and_opt_in(make_client) -> None:
    origin = {"Origin": "https://example.org"}
    r = make_client().get("/services", headers=origin)
    assert "access-control-allow-origin" not in r.headers
    r = make_client(cors_origins=["https://example.org"]).get("/services", headers=origin)
    assert r.headers["access-control-allow-origin"] == "https://example.org"


def test_openapi_and_docs(read_client: TestClient) -> None:
    spec = read_client.get("/openapi.json").json()
    assert {"/healthz", "/metrics", "/services", "/services/{service_id}",
            "/services/{service_id}/series", "/incidents", "/incidents/{incident_id}",
            "/alerts/stream", "/reports", "/error-rates"} == set(spec["paths"])
    docs = read_client.get("/docs")
    assert docs.status_code == 200 and "/docs-assets/swagger-ui-bundle.js" in docs.text
    assert read_client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    assert read_client.get("/docs-assets/../settings.py").status_code == 404
    assert "/docs-assets/redoc.standalone.js" in read_client.get("/redoc").text


def test_dashboard_and_local_plotly(read_client: TestClient) -> None:
    page = read_client.get("/")
    assert page.status_code == 200 and '<div id="chart"' in page.text
    assert 'src="/static/plotly.min.js"' in page.text and "cdn" not in page.text.lower()
    js = read_client.get("/static/plotly.min.js")
    assert js.status_code == 200 and len(js.content) == plotly_js().stat().st_size
    assert read_client.get("/static/app.js").status_code == 200
    assert read_client.get("/static/nope.js").status_code == 404
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert js.headers["x-content-type-options"] == "nosniff"
