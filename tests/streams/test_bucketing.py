"""Event-time bucketing: watermark, allowed lateness, gaps and partial buckets."""

from __future__ import annotations

import json

import numpy as np
import pytest

from streams.bucketing import Bucketer
from streams.errors import FarFromWatermark, LateEvent
from streams.settings import PipelineSettings

T0 = 1770112800.0
NAMES = ["a", "b"]


def _bucketer(**kw: float) -> Bucketer:
    return Bucketer(PipelineSettings(**{"allowed_lateness": 120.0, **kw}))


def _add(b: Bucketer, i: int, ts: float, count: float = 1.0) -> list:
    end = b.admit(ts)
    b.add_report(i, end, count, "login", "FR", None)
    return b.advance(ts, NAMES)


def test_bucket_closes_only_when_watermark_passes_its_end() -> None:
    b = _bucketer()
    assert _add(b, 0, T0 + 5) == []
    assert [v for v in _add(b, 0, T0 + 60 + 119) if v.fraction == 1.0] == []
    closed = [v for v in _add(b, 1, T0 + 180) if v.fraction == 1.0]
    assert [v.t_end for v in closed] == [T0 + 60]
    assert closed[0].reports.tolist() == [1.0, 0.0]
    assert closed[0].context["a"].categories == {"login": 1.0}


def test_late_within_lateness_corrects_bucket_later_is_dead_lettered() -> None:
    b = _bucketer()
    _add(b, 0, T0 + 10)
    _add(b, 0, T0 + 150)  # watermark T0+30: bucket [T0, T0+60) still open
    _add(b, 1, T0 + 20)  # late but within the lateness: corrects it
    views = [v for v in _add(b, 0, T0 + 185) if v.fraction == 1.0]
    assert views[0].t_end == T0 + 60 and views[0].reports.tolist() == [1.0, 1.0]
    with pytest.raises(LateEvent):
        b.admit(T0 + 30)  # its bucket is closed now
    assert b.admit(T0 + 70) == T0 + 120  # the next one is not


def test_far_future_is_rejected() -> None:
    b = _bucketer()
    _add(b, 0, T0)
    with pytest.raises(FarFromWatermark):
        b.admit(T0 + 86400 + 1)
    assert b.admit(T0 + 86400 - 1) > T0


def test_quiet_gap_is_stepped_bucket_by_bucket() -> None:
    b = _bucketer()
    _add(b, 0, T0 + 1)
    views = [v for v in _add(b, 1, T0 + 3600 + 1) if v.fraction == 1.0]
    ends = [v.t_end for v in views]
    assert ends == [T0 + 60 * k for k in range(1, 59)]  # up to watermark T0+3481
    assert sum(v.reports.sum() for v in views) == 1.0


def test_gap_longer_than_max_gap_is_skipped() -> None:
    b = _bucketer(max_gap_seconds=600.0, far_future_seconds=10 * 86400)
    _add(b, 0, T0 + 1)
    views = [v for v in _add(b, 1, T0 + 86400 + 1) if v.fraction == 1.0]
    assert len(views) == 1 + 10  # the bucket with data, then at most 10 empty ones
    views = [v for v in _add(b, 1, T0 + 86400 + 300) if v.fraction == 1.0]
    # the rest of the gap is skipped; the bucket of the new event and those after it are not
    assert [v.t_end for v in views] == [T0 + 86400 + 60, T0 + 86400 + 120, T0 + 86400 + 180]
    assert views[0].reports.tolist() == [0.0, 1.0]


def test_partial_view_every_ten_seconds_and_on_band_crossing() -> None:
    b = _bucketer(partial_every=10.0, partial_min_seconds=5.0)
    b.set_band(np.array([50.0, 50.0]))
    partial = [v for v in _add(b, 0, T0 + 3) if v.fraction < 1]
    assert partial == []  # too early in the bucket
    partial = [v for v in _add(b, 0, T0 + 6, count=100.0) if v.fraction < 1]
    assert len(partial) == 1 and partial[0].t_end == T0 + 6  # band crossed
    assert partial[0].fraction == pytest.approx(0.1)
    assert partial[0].reports.tolist() == [101.0, 0.0]
    assert [v for v in _add(b, 0, T0 + 9, count=100.0) if v.fraction < 1] == []  # once
    partial = [v for v in _add(b, 1, T0 + 16) if v.fraction < 1]
    assert [v.t_end for v in partial] == [T0 + 16]  # 10 s after the previous look


def test_flush_closes_everything_then_everything_is_late() -> None:
    b = _bucketer()
    _add(b, 0, T0 + 1)
    _add(b, 1, T0 + 130)
    views = b.flush(NAMES)
    assert [v.t_end for v in views] == [T0 + 60, T0 + 120, T0 + 180]
    with pytest.raises(LateEvent):
        b.admit(T0 + 170)


def test_state_round_trip_is_exact() -> None:
    b = _bucketer()
    b.set_band(np.array([5.0, np.inf]))
    for k, ts in enumerate([T0 + 1, T0 + 61, T0 + 30, T0 + 125.5]):
        _add(b, k % 2, ts, count=k + 1.0)
    c = _bucketer()
    c.load_state(json.loads(json.dumps(b.to_state())))
    assert c.to_state() == b.to_state()
    for bb in (b, c):
        bb.admit(T0 + 200)
    ends_b = [(v.t_end, v.reports.tolist()) for v in b.flush(NAMES)]
    assert ends_b == [(v.t_end, v.reports.tolist()) for v in c.flush(NAMES)]
