"""Hand-made cases for the detection metrics (delay, recall, false alarms per service-day)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmarks.metrics import opens, score
from detector.generators import Outage
from detector.types import Transition


def alarm(service: str, t: float, status: str = "open") -> dict:
    return {"service": service, "status": status, "detected_at": t}


TRUTH = [Outage("a", onset=1000.0, end=2000.0, peak=10.0),
         Outage("a", onset=5000.0, end=6000.0, peak=10.0),
         Outage("b", onset=1000.0, end=1500.0, peak=10.0)]


def test_delay_is_first_open_minus_onset_and_reopens_are_not_false() -> None:
    s = score(TRUTH, [alarm("a", 1060.0), alarm("a", 1500.0), alarm("b", 1020.0)],
              service_days=1.0)
    assert s.delays == [60.0, 20.0]
    assert (s.misses, s.false_alarms, s.reopens) == (1, 0, 1)
    assert s.missed == [TRUTH[1]]
    assert math.isclose(s.recall, 2 / 3)


def test_open_on_the_wrong_service_or_outside_the_margins_is_false() -> None:
    alarms = [alarm("b", 5100.0), alarm("a", 999.0), alarm("a", 2000.0 + 601.0)]
    s = score(TRUTH, alarms, service_days=4.0)
    assert s.false_alarms == 3 and s.delays == [] and s.misses == 3
    assert s.false_alarms_per_service_day == 0.75


def test_late_and_early_margins() -> None:
    s = score(TRUTH[:1], [alarm("a", 2599.0)], service_days=1.0, late=600.0)
    assert s.delays == [1599.0] and s.false_alarms == 0
    s = score(TRUTH[:1], [alarm("a", 940.0)], service_days=1.0, early=60.0)
    assert s.delays == [-60.0]


def test_only_opens_after_warm_up_count() -> None:
    alarms = [alarm("a", 10.0), alarm("a", 1100.0, "update"), alarm("a", 1900.0, "resolved"),
              alarm("c", 3000.0)]
    s = score(TRUTH[:1], alarms, service_days=2.0, since=100.0)
    assert s.false_alarms == 1 and s.misses == 1 and s.reopens == 0
    assert [a["detected_at"] for a in opens(alarms)] == [10.0, 3000.0]


def test_delay_stats_and_empty_cases() -> None:
    truth = [Outage("s", onset=float(k * 1000), end=float(k * 1000 + 500), peak=1.0)
             for k in range(10)]
    alarms = [alarm("s", k * 1000 + 10.0 * (k + 1)) for k in range(10)]
    stats = score(truth, alarms, service_days=1.0).delay_stats()
    assert stats == {"median": 55.0, "p90": 91.0, "max": 100.0}
    empty = score([], [], service_days=0.0)
    assert math.isnan(empty.recall) and math.isnan(empty.false_alarms_per_service_day)
    assert math.isnan(empty.delay_stats()["median"]) and empty.as_dict()["outages"] == 0


def test_transitions_work_like_alert_dicts() -> None:
    t = Transition(incident_id="x", service="a", status="open", started_at=990.0,
                   detected_at=1030.0, resolved_at=None, observed=50.0, expected=3.0,
                   upper=9.0, score=7.0, p_value=1e-7)
    assert score(TRUTH[:1], [t], service_days=1.0).delays == [30.0]


def test_cumulative_partials_sum_sub_buckets_inside_each_bucket() -> None:
    from benchmarks.scenarios import cumulative

    rows = np.arange(12.0).reshape(6, 2)  # 6 sub-buckets of 20 s, 2 services
    c = cumulative(rows, 3)
    assert c.shape == (2, 3, 2)
    assert c[0, :, 0].tolist() == [0.0, 2.0, 6.0] and c[1, 2].tolist() == [24.0, 27.0]


def test_replay_refuses_buckets_that_do_not_split_a_minute() -> None:
    from benchmarks.scenarios import replay
    from detector.generators import Profile, generate

    sc = generate("x", [Profile("a", base=1.0)], t0=0.0, days=0.01, bucket_seconds=60.0)
    with pytest.raises(ValueError, match="20.0 s"):
        replay(sc)


def test_river_equivalent_alarms_on_a_spike_and_not_on_steady_counts() -> None:
    from benchmarks.throughput import RiverSeries

    s, rng = RiverSeries(), np.random.default_rng(0)
    quiet = [s.step(0, float(x)) for x in rng.poisson(20.0, 300)]
    assert not any(quiet) and s.step(0, 400.0)


def test_array_bytes_counts_each_array_once() -> None:
    from benchmarks.throughput import array_bytes

    a = np.zeros(100)

    class Holder:
        def __init__(self) -> None:
            self.x, self.view, self.d = a, a[:10], {"y": np.zeros(5, dtype=np.int32), "a": a}

    assert array_bytes(Holder()) == 800 + 20
