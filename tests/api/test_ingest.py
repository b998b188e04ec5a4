"""Ingest: auth, validation, size limits, rate limiting, and reports reaching the detector."""

from __future__ import annotations

import json

from api.ratelimit import RateLimiter

T = 1_770_148_800  # 2026-02-03T20:00:00Z
ONE = {"service": "chatgpt", "ts": "2026-02-03T21:04:12Z", "category": "login"}


def test_token_required_when_configured(make_client) -> None:
    client = make_client(ingest_token="s3cret")
    r = client.post("/reports", json=ONE)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert r.json() == {"detail": "bearer token required"}
    r = client.post("/error-rates", json={**ONE, "error_rate": 0.1},
                    headers={"Authorization": "Bearer wrong"})
    assert (r.status_code, r.json()) == (403, {"detail": "invalid token"})
    r = client.post("/reports", json=ONE, headers={"Authorization": "Bearer s3cret"})
    assert (r.status_code, r.json()) == (202, {"accepted": 1})


def test_open_without_token(make_client) -> None:
    r = make_client().post("/reports", json=[ONE, ONE])
    assert (r.status_code, r.json()) == (202, {"accepted": 2})


def test_validation_errors_are_clear_and_never_echo_input(make_client) -> None:
    client = make_client()
    bad = {"service": "a b", "ts": 5, "count": -1, "reporter": "secret-reporter-42"}
    r = client.post("/reports", json=bad)
    assert r.status_code == 422
    assert "secret-reporter-42" not in r.text
    locs = {tuple(e["loc"][-1:]) for e in r.json()["detail"]}
    assert {("service",), ("ts",), ("count",)} <= locs
    assert client.post("/reports", content=b"{not json",
                       headers={"content-type": "application/json"}).status_code == 422
    assert client.post("/reports", json={"ts": "2026-02-03T21:04:12Z"}).status_code == 422
    r = client.post("/error-rates", json={"service": "api", "ts": T, "errors": 5, "requests": 1})
    assert r.status_code == 422 and "errors must not exceed requests" in r.text
    r = client.post("/error-rates", json={"service": "api", "ts": T})
    assert r.status_code == 422 and "error_rate" in r.text


def test_body_size_limit_is_413(make_client) -> None:
    client = make_client(max_body_bytes=2_000, max_batch=5)
    big = json.dumps([ONE] * 100).encode()
    r = client.post("/reports", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "2000 bytes" in r.json()["detail"]

    def chunks():  # no Content-Length: the limit is enforced while the body streams in
        for i in range(0, len(big), 500):
            yield big[i:i + 500]

    r = client.post("/reports", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    r = client.post("/reports", json=[ONE] * 6)
    assert r.status_code == 413 and r.json() == {"detail": "at most 5 events per request"}


def test_per_reporter_rate_limit_is_429(make_client) -> None:
    client = make_client(reporter_burst=3, reporter_rate_per_minute=1)
    mine = dict(ONE, reporter="r-1")
    assert client.post("/reports", json=[mine, mine, mine]).status_code == 202
    r = client.post("/reports", json=mine)
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert "r-1" not in r.text
    other = dict(ONE, reporter="r-2")
    assert client.post("/reports", json=other).status_code == 202
    assert client.post("/reports", json=ONE).status_code == 202  # anonymous: not limited here


def test_rate_limiter_refills_with_its_clock() -> None:
    now = [0.0]
    limiter = RateLimiter(rate_per_minute=60, burst=2, clock=lambda: now[0])
    assert limiter.try_acquire(["a", "a"]) == 0.0
    assert limiter.try_acquire(["a"]) == 1.0
    now[0] = 1.0
    assert limiter.try_acquire(["a"]) == 0.0
    assert limiter.try_acquire(["a", "b", "b"]) > 0  # all or nothing: b keeps its tokens
    assert limiter.try_acquire(["b", "b"]) == 0.0


def test_ingested_spike_opens_an_incident(make_client) -> None:
    """Reports posted over HTTP reach the real pipeline and detector: a spike opens an incident
    within its minute, explained by its category; a reporter's own burst is damped."""
    client = make_client()
    quiet = [{"service": "chatgpt", "ts": T + 60 * k + 30, "count": 2} for k in range(180)]
    assert client.post("/reports", json=quiet).status_code == 202
    assert client.get("/incidents").json() == []
    spike = [{"service": "chatgpt", "ts": T + 10_800 + s, "count": 200, "category": "login",
              "region": "FR"} for s in range(0, 60, 5)]
    later = {"service": "chatgpt", "ts": T + 10_800 + 300, "count": 2}
    assert client.post("/reports", json=[*spike, later]).status_code == 202
    [incident] = client.get("/incidents?service=chatgpt").json()
    first = client.get(f"/incidents/{incident['incident_id']}").json()["history"][0]
    assert first["status"] == "open" and first["started_at"] == "2026-02-03T23:00:00Z"
    assert first["detected_at"] < "2026-02-03T23:01:01Z"
    assert incident["top_categories"][0] == "login" and incident["top_regions"] == ["FR"]


def test_one_reporter_cannot_open_an_incident(make_client) -> None:
    """The damper (streams/detector) limits what one reporter counts; nothing is exposed."""
    client = make_client(reporter_burst=1000)
    quiet = [{"service": "notes", "ts": T + 60 * k + 30, "count": 2} for k in range(180)]
    client.post("/reports", json=quiet)
    spam = [{"service": "notes", "ts": T + 10_800 + s, "count": 1, "reporter": "spammer-1"}
            for s in range(120)]
    assert client.post("/reports", json=[*spam, {"service": "notes", "ts": T + 11_400}]
                       ).status_code == 202
    assert client.get("/incidents").json() == []
