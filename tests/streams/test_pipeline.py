"""Pipeline end to end on the real DetectorBank: dead letters, early alerts, exact restarts."""

from __future__ import annotations

import json

import numpy as np
import pytest

from streams.errors import CheckpointError
from streams.pipeline import Pipeline, Record
from streams.schema import Alert, iso
from streams.settings import PipelineSettings
from streams.store import Store
from tests.streams.gen import SPIKE_AT, T0, records, spike_events


@pytest.fixture(scope="module")
def spike_records() -> list[Record]:
    return records(spike_events())


@pytest.fixture(scope="module")
def straight(spike_records: list[Record]) -> tuple[Store, list[dict], list[dict]]:
    """One uninterrupted run over the spike stream, with a store."""
    store = Store(":memory:")
    _, alerts, dead = _run(spike_records, store=store)
    return store, alerts, dead


def _run(recs: list[Record], **kw) -> tuple[Pipeline, list[dict], list[dict]]:
    alerts: list[dict] = []
    dead: list[dict] = []
    pipe = Pipeline(on_alert=alerts.append, on_dead_letter=dead.append, **kw)
    pipe.process(recs)
    pipe.flush()
    return pipe, alerts, dead


def test_bad_records_go_to_dead_letter_and_the_pipeline_goes_on() -> None:
    ok = {"service": "chatgpt", "ts": T0 + 10}
    recs = [Record("reports", b"{oops", partition=2, offset=7),
            Record("reports", json.dumps(ok).encode(), offset=8),
            Record("reports", json.dumps({**ok, "count": -3}).encode(), offset=9),
            Record("reports", json.dumps({**ok, "ts": T0 + 400}).encode(), offset=10),
            Record("reports", json.dumps({**ok, "ts": T0 + 5, "reporter": "h"}).encode(),
                   offset=11),  # late
            Record("reports", json.dumps({**ok, "ts": T0 + 9 * 86400}).encode(), offset=12),
            Record("error-rates", json.dumps({**ok, "error_rate": 7}).encode(), offset=0)]
    pipe, _, dead = _run(recs)
    assert [(d["reason"], d["offset"]) for d in dead] == [
        ("not json", 7), ("negative count", 9), ("late", 11), ("far from watermark", 12),
        ("error_rate out of range", 0)]
    assert dead[0] == {"reason": "not json", "topic": "reports", "partition": 2, "offset": 7,
                       "raw": "{oops"}
    assert "reporter" not in dead[2]["raw"] and json.loads(dead[2]["raw"])["ts"] == T0 + 5
    c = pipe.counters
    assert (c.processed, c.events, sum(c.dead_letter.values())) == (7, 2, 5)
    assert c["dead_letter"]["late"] == 1
    assert pipe.positions == {("reports", 2): 8, ("reports", 0): 13, ("error-rates", 0): 1}


def test_big_spike_alerts_within_the_first_minute(straight: tuple) -> None:
    _, alerts, dead = straight
    assert dead == []
    early = [a for a in alerts if a["service"] == "chatgpt" and a["status"] != "resolved"
             and iso(SPIKE_AT) <= a["detected_at"] < iso(SPIKE_AT + 60)]
    assert early, "no alert for chatgpt during the first minute of a 2,464/min spike"
    first = early[0]
    assert first["detected_at"] <= iso(SPIKE_AT + 30)  # a partial bucket, well before its end
    assert first["observed"] > 100 and first["observed"] > 5 * first["expected"]
    assert "history" in first["top_categories"]
    Alert.model_validate(first)  # the DESIGN.md alert format


@pytest.mark.parametrize("cut", [1234, 7000])  # mid-baseline, inside the spike
def test_snapshot_restore_gives_identical_alerts(spike_records: list[Record], cut: int,
                                                 straight: tuple) -> None:
    """A run stopped at `cut` and resumed from its snapshot equals the straight run (so the
    same input also gives the same alert ids)."""
    straight = straight[1]
    assert len({a["alert_id"] for a in straight}) == len(straight)
    first: list[dict] = []
    pipe = Pipeline(on_alert=first.append, on_dead_letter=lambda d: None)
    pipe.process(spike_records[:cut])
    data = pipe.snapshot()
    rest: list[dict] = []
    resumed = Pipeline.restore(data, on_alert=rest.append, on_dead_letter=lambda d: None)
    assert resumed.snapshot() == data
    done = {k: v for k, v in resumed.positions.items()}
    todo = [r for r in spike_records if r.offset >= done.get((r.topic, r.partition), 0)]
    assert len(todo) == len(spike_records) - cut
    resumed.process(todo)
    resumed.flush()
    assert [a["alert_id"] for a in first + rest] == [a["alert_id"] for a in straight]
    assert first + rest == straight


def test_store_gets_series_and_incidents(straight: tuple) -> None:
    store, alerts, _ = straight
    series = store.series("chatgpt", since=SPIKE_AT + 1, until=SPIKE_AT + 120)
    assert [p["ts"] for p in series] == [SPIKE_AT + 60, SPIKE_AT + 120]
    assert 2464 <= series[0]["observed"] < 2464 + 80  # spike plus the usual ~30
    assert series[0]["expected"] < 100 < series[0]["upper"] + 2464
    assert series[0]["state"] == "incident"
    ids = {a["incident_id"] for a in alerts}
    assert {i["incident_id"] for i in store.incidents()} == ids
    inc = store.incident(alerts[-1]["incident_id"])
    assert inc is not None and inc["history"][-1] == alerts[-1]
    assert {s["service"] for s in store.services()} == {"chatgpt", "claude", "chatgpt-api"}


def test_settings_bucket_width_is_used() -> None:
    recs = records([{"service": "a", "ts": T0 + k * 7.0} for k in range(100)])
    pipe, _, _ = _run(recs, settings=PipelineSettings(bucket_seconds=30))
    assert pipe.counters.buckets == 700 // 30 + 1


def test_restore_refuses_other_bucket_width_and_garbage() -> None:
    pipe = Pipeline(on_alert=print, on_dead_letter=print)
    pipe.process(records([{"service": "a", "ts": T0}]))
    kw = {"on_alert": print, "on_dead_letter": print}
    with pytest.raises(CheckpointError, match="30"):
        Pipeline.restore(pipe.snapshot(), PipelineSettings(bucket_seconds=30), **kw)
    with pytest.raises(CheckpointError):
        Pipeline.restore(b"{not a snapshot", **kw)
    assert Pipeline.restore(pipe.snapshot(), **kw).positions == {("reports", 0): 1}


def test_error_rate_jump_alerts_within_the_first_minute() -> None:
    rng = np.random.default_rng(1)
    events = [{"service": "chatgpt-api", "ts": T0 + 10 * k + 1.0, "requests": 1000,
               "errors": int(rng.binomial(1000, 0.3 if T0 + 10 * k >= SPIKE_AT else 0.02))}
              for k in range(int(3.5 * 360))]
    _, alerts, _ = _run(records(events))
    assert alerts and alerts[0]["status"] == "open" and "error_rate" in alerts[0]["signals"]
    assert iso(SPIKE_AT) < alerts[0]["detected_at"] < iso(SPIKE_AT + 60)


def test_advance_watermark_closes_idle_buckets() -> None:
    store = Store(":memory:")
    pipe, _, dead = _run([], store=store)
    pipe.process(records([{"service": "a", "ts": T0 + 5}]))
    assert pipe.counters.buckets == 0
    pipe.advance_watermark(T0 + 60 * 10)  # the wall clock moved on, nothing came in
    assert pipe.counters.buckets == 8  # ends T0+60 .. T0+480 <= watermark T0+480
    assert [p["observed"] for p in store.series("a")] == [1.0] + [0.0] * 7
    pipe.process(records([{"service": "a", "ts": T0 + 30}]))
    assert dead[-1]["reason"] == "late"
    pipe.process(records([{"service": "a", "ts": T0 + 600 + 301}]))  # a client clock ahead
    assert dead[-1]["reason"] == "far from watermark"
    pipe.process(records([{"service": "a", "ts": T0 + 600 + 299}]))
    assert pipe.counters.events == 2
