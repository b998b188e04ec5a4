"""decode(): every kind of bad input becomes BadMessage with a stable reason."""

from __future__ import annotations

import json

import pytest

from streams.errors import BadMessage
from streams.parsing import MAX_BYTES, decode, infer_topic
from streams.schema import ErrorRateEvent, ReportEvent


def _reason(topic: str, value: bytes | dict) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    with pytest.raises(BadMessage) as info:
        decode(topic, raw)
    return info.value.reason


OK = {"service": "chatgpt", "ts": "2026-02-03T21:04:12Z"}


@pytest.mark.parametrize(("topic", "value", "reason"), [
    ("reports", b"not json at all", "not json"),
    ("reports", b"\xff\xfe\x00", "not json"),
    ("reports", b"[1, 2]", "not an object"),
    ("reports", b'"chatgpt"', "not an object"),
    ("reports", {"ts": 1770152652}, "missing service"),
    ("reports", {"service": "chatgpt"}, "missing ts"),
    ("reports", {"service": "", "ts": 1770152652}, "invalid service"),
    ("reports", {"service": "a" * 65, "ts": 1770152652}, "invalid service"),
    ("reports", {"service": "chat gpt", "ts": 1770152652}, "invalid service"),
    ("reports", {"service": "<script>", "ts": 1770152652}, "invalid service"),
    ("reports", {"service": 42, "ts": 1770152652}, "invalid service"),
    ("reports", {**OK, "ts": "yesterday"}, "bad ts"),
    ("reports", {**OK, "ts": "2026-02-03T21:04:12"}, "bad ts"),  # naive: offset required
    ("reports", {**OK, "ts": 1770152652000}, "bad ts"),  # milliseconds
    ("reports", {**OK, "ts": True}, "bad ts"),
    ("reports", {**OK, "ts": [1]}, "bad ts"),
    ("reports", {**OK, "count": -1}, "negative count"),
    ("reports", {**OK, "count": 1e7}, "absurd count"),
    ("reports", {**OK, "count": "12"}, "bad count"),
    ("reports", {**OK, "category": {"a": 1}}, "bad category"),
    ("reports", b'{"service": "chatgpt", "ts": 1770152652, "pad": "' + b"x" * MAX_BYTES + b'"}',
     "oversize"),
    ("error-rates", {**OK, "error_rate": 1.5}, "error_rate out of range"),
    ("error-rates", {**OK, "error_rate": -0.1}, "error_rate out of range"),
    ("error-rates", {**OK, "errors": 31, "requests": 10}, "errors > requests"),
    ("error-rates", {**OK, "errors": 31}, "missing requests"),
    ("error-rates", {**OK, "errors": -1, "requests": 10}, "negative errors"),
    ("error-rates", OK, "missing error_rate"),
    ("alerts", OK, "unknown topic"),
])
def test_bad_input_reason(topic: str, value: bytes | dict, reason: str) -> None:
    assert _reason(topic, value) == reason


@pytest.mark.parametrize("value", [b'{"service": "a", "ts": 1770152652, "count": NaN}',
                                   b'{"service": "a", "ts": 1770152652, "count": 1e400}',
                                   b'{"service": "a\\ud800", "ts": 1770152652}'])
def test_not_strict_json_rejected(value: bytes) -> None:
    assert _reason("reports", value) == "not json"


def test_null_count_means_one() -> None:
    assert decode("reports", json.dumps({**OK, "count": None}).encode()).count == 1.0


def test_report_defaults_and_unknown_fields_ignored() -> None:
    ev = decode("reports", json.dumps({**OK, "surprise": [1, 2], "reporter": "h1"}).encode())
    assert isinstance(ev, ReportEvent)
    assert (ev.service, ev.ts, ev.count, ev.reporter) == ("chatgpt", 1770152652.0, 1.0, "h1")
    assert "reporter" not in ev.model_dump()  # never leaves the pipeline
    assert "surprise" not in ev.model_dump()


@pytest.mark.parametrize("ts", ["2026-02-03T22:04:12+01:00", 1770152652, 1770152652.0,
                                "1770152652", "2026-02-03T21:04:12.000Z"])
def test_timestamp_forms(ts: object) -> None:
    assert decode("reports", json.dumps({"service": "a", "ts": ts}).encode()).ts == 1770152652.0


def test_error_rate_forms() -> None:
    ev = decode("error-rates", json.dumps({**OK, "errors": 31, "requests": 1200}).encode())
    assert isinstance(ev, ErrorRateEvent) and (ev.errors, ev.requests) == (31.0, 1200.0)
    ev = decode("error-rates", json.dumps({**OK, "error_rate": 0.026}).encode())
    assert ev.error_rate == 0.026 and ev.requests is None


def test_infer_topic() -> None:
    assert infer_topic({"service": "a", "errors": 1}) == "error-rates"
    assert infer_topic({"service": "a", "error_rate": 0.1}) == "error-rates"
    assert infer_topic({"service": "a", "count": 3}) == "reports"


def test_pipeline_never_stops_on_random_input() -> None:
    """Seeded junk (random bytes, random JSON values in every field) only makes dead letters."""
    import random

    from streams.pipeline import Pipeline, Record

    rng = random.Random(5)
    values = [None, True, -1, 0, 1.5, 1e308, -1e308, 10**30, "", "x" * 300, "2026-02-03T21:04:12Z",
              "1770152652", [], {}, [1], {"a": 1}, 1770152652, 1770152652.5, "NaN"]
    fields = ["service", "ts", "count", "category", "region", "source", "reporter", "message",
              "errors", "requests", "error_rate"]
    recs = []
    for k in range(3000):
        if k % 5 == 0:
            value = bytes(rng.randrange(256) for _ in range(rng.randrange(40)))
        else:
            obj = {"service": rng.choice(["chatgpt", "sora"]), "ts": 1770152652 + k}
            obj.update({f: rng.choice(values) for f in rng.sample(fields, rng.randrange(4))})
            value = json.dumps(obj).encode()
        recs.append(Record(rng.choice(["reports", "error-rates"]), value, offset=k))
    dead: list[dict] = []
    pipe = Pipeline(on_alert=lambda a: None, on_dead_letter=dead.append)
    pipe.process(recs)
    pipe.flush()
    c = pipe.counters
    assert c.processed == 3000 and c.events + len(dead) == 3000
    assert c.events > 500 and len(dead) > 1000 and c.buckets >= 50
    assert all(d["reason"] and isinstance(d["raw"], str) for d in dead)
