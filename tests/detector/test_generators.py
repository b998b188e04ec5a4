"""The generators' streams have the properties they claim, and return their truth."""

from __future__ import annotations

import numpy as np
import pytest

from detector.generators import (
    DAY,
    SHAPES,
    Outage,
    Profile,
    error_events,
    events,
    fleet,
    generate,
    seasonal,
    shape_profile,
    weekend_share,
)
from detector.references import merged, reference


def quiet(profile: Profile, days: float = 14.0, seed: int = 0) -> np.ndarray:
    return generate("q", [profile], t0=1_764_547_200.0, days=days, seed=seed).reports[:, 0]


def test_same_seed_same_stream_other_seed_other_stream() -> None:
    a, b, c = (reference("related", seed=s).reports for s in (3, 3, 4))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_daily_cycle_weekend_and_growth() -> None:
    p = Profile("s", base=50.0, diurnal=0.5, peak_hour=20.0, weekend=0.6, growth=0.2)
    x = quiet(p)
    by_hour = x.reshape(14, 24, 60).sum(2)
    assert by_hour[:5, 20].mean() > 2.0 * by_hour[:5, 8].mean()  # peak vs trough
    daily = x[: 7 * 1440].reshape(7, -1).mean(1)  # 2025-12-01 was a Monday
    assert daily[5:7].mean() / daily[1:4].mean() == pytest.approx(0.63, rel=0.1)
    assert 0.6 < daily[0] / daily[1:4].mean() < 0.95  # Monday morning still half weekend
    t = 1_764_547_200.0 + 60.0 * (np.arange(14 * 1440) + 0.5)
    assert x.mean() == pytest.approx(seasonal(p, t, 1_764_547_200.0).mean(), rel=0.03)
    assert x[7 * 1440:].sum() / x[: 7 * 1440].sum() == pytest.approx(1.2, rel=0.05)


def test_weekend_level_switches_smoothly() -> None:
    monday = 1_764_547_200.0
    h = np.arange(0.0, 168.0, 0.25)
    w = weekend_share(monday + 3600.0 * h)
    assert np.all(w[(h > 12) & (h < 108)] < 0.01) and np.all(w[(h > 132) & (h < 156)] > 0.99)
    assert np.abs(np.diff(w)).max() < 0.05 and w[0] == pytest.approx(0.5)


def test_counts_are_overdispersed_gamma_poisson() -> None:
    x = quiet(Profile("s", base=100.0, diurnal=0.0, weekend=1.0, dispersion=0.05), days=2)
    assert x.mean() == pytest.approx(100.0, rel=0.03)
    assert x.var() == pytest.approx(100.0 + 0.05 * 100.0**2, rel=0.15)  # ~6x Poisson
    poisson = quiet(Profile("s", base=100.0, diurnal=0.0, weekend=1.0, dispersion=0.0), days=2)
    assert poisson.var() == pytest.approx(100.0, rel=0.15)


@pytest.mark.parametrize("shape", SHAPES)
def test_shapes_are_zero_outside_their_window_and_reach_their_peak(shape: str) -> None:
    o = Outage("s", onset=1000.0, end=4600.0, peak=10.0, shape=shape)
    t = np.arange(0.0, 6000.0, 10.0)
    y = shape_profile(o, t)
    assert np.all(y[(t < 1000) | (t >= 4600)] == 0) and y.max() == pytest.approx(1.0)
    assert np.all((y >= 0) & (y <= 1))


def test_unknown_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown outage shape"):
        shape_profile(Outage("s", 0.0, 1.0, 1.0, "wobble"), np.zeros(2))


def per_minute(name: str, seed: int = 0) -> tuple[np.ndarray, int, object]:
    sc = reference(name, seed=seed, bucket_seconds=20.0)
    o = sc.outages[0]
    x = (sc.reports + sc.spam_reports)[:, sc.services.index(o.service)].reshape(-1, 3).sum(1)
    return x, int((o.onset - sc.t0) // 60), o


def test_reference_spike_2464_over_about_30() -> None:
    x, k, o = per_minute("spike")
    assert 20 <= x[k - 30:k].mean() <= 45
    assert x[k + 1:k + 10].mean() == pytest.approx(2464 + 30, rel=0.15)
    assert x[k + 60:k + 120].mean() < 60  # over after 40 minutes


def test_reference_ramp_4_to_120_over_30_minutes_and_tiny_app() -> None:
    x, k, _ = per_minute("ramp")
    assert x[k - 60:k].mean() == pytest.approx(4.0, rel=0.35)
    assert x[k + 25:k + 35].mean() == pytest.approx(120.0, rel=0.2)
    assert x[k:k + 5].mean() < x[k + 10:k + 15].mean() < x[k + 20:k + 25].mean()
    x, k, _ = per_minute("tiny")
    assert x[: k - 1].mean() == pytest.approx(0.3, rel=0.3)
    assert x[k + 1:k + 19].mean() == pytest.approx(25.3, rel=0.2)


def test_error_rates_rise_with_the_outage() -> None:
    sc = reference("spike", seed=2)
    rate = sc.error_rate()[:, 0]
    k = int((sc.outages[0].onset - sc.t0) // 60)
    assert np.nanmean(rate[k - 120:k]) == pytest.approx(0.005, rel=0.2)
    assert np.nanmean(rate[k + 2:k + 10]) > 0.25
    ev = error_events(sc)
    assert len(ev) == 2 * len(sc.reports)
    assert set(ev[0]) == {"service", "ts", "errors", "requests"} and ev[0]["ts"].endswith("Z")


def test_related_outages_start_within_minutes() -> None:
    sc = reference("related")
    onsets = [o.onset for o in sc.outages]
    assert len({o.service for o in sc.outages}) == 4 and max(onsets) - min(onsets) <= 300


def test_events_match_the_counts_and_carry_the_spammer() -> None:
    sc = reference("spammer")
    ev = events(sc, seed=5)
    assert len(ev) == sc.reports.sum() + 400 == sc.reports.sum() + sc.spam_reports.sum()
    spam = [e for e in ev if e["reporter"] == "spammer-0001"]
    assert len(spam) == 400 and len({e["reporter"] for e in ev}) > 0.99 * (len(ev) - 400)
    assert set(ev[0]) >= {"service", "ts", "count", "category", "region", "source", "reporter"}
    stamps = np.array([e["ts"][:-1] for e in ev], dtype="datetime64[ms]")
    assert np.all(np.diff(stamps.astype(np.int64)) >= 0) and ev[0]["ts"].endswith("Z")
    (s,) = sc.spam
    ts = stamps.astype(np.int64)[[e["reporter"] == "spammer-0001" for e in ev]] / 1000.0
    assert ts.min() >= s.start and ts.max() < s.end


def test_events_during_an_outage_name_outage_categories() -> None:
    sc = reference("tiny")
    (o,) = sc.outages
    inside = [e for e in events(sc)
              if o.onset <= np.datetime64(e["ts"][:-1], "ms").astype(np.int64) / 1000 < o.end]
    assert inside and all(e["category"] not in ("app", "website", "other") for e in inside)


def test_fleet_has_tiny_and_big_services_and_truth_after_warm_up() -> None:
    sc = fleet(40, 4.0, seed=3, with_outages=True)
    means = sc.reports.mean(0)
    assert means.min() < 1.0 and means.max() > 50.0
    assert len(sc.outages) == 40
    assert all(sc.t0 + DAY <= o.onset < o.end <= sc.t0 + 4 * DAY + 4 * 3600 for o in sc.outages)


def test_merged_keeps_hour_of_week_and_refuses_shared_services() -> None:
    sc = merged(["ramp", "tiny"], bucket_seconds=60.0)
    alone = {o.service: o for n in ("ramp", "tiny") for o in reference(n).outages}
    for o in sc.outages:
        assert (o.onset - alone[o.service].onset) % (7 * DAY) == 0
        assert sc.t0 + 2 * DAY <= o.onset and o.end <= sc.t0 + sc.days * DAY
    with pytest.raises(ValueError, match="share services"):
        merged(["spike", "plateau"])
