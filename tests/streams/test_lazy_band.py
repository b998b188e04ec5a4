"""Bands computed when first read (`detector.band.UpperBand`) decide exactly what bands computed
for every service at once decide: the same band values, the same early looks, alerts and
snapshots on mixed and pre-aggregated input, and only a few services ever computed."""

from __future__ import annotations

import math

import numpy as np
import pytest

from detector.band import UpperBand, upper_values
from detector.counts import CountConfig
from streams import bucketing
from streams.pipeline import Pipeline, Record
from tests.streams.corpus import mixed_records
from tests.streams.test_preaggregated import _minutes

P_OPEN = 1e-7


def _arrays(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    mu = np.exp(rng.uniform(-12.0, 9.0, n))
    mu[:4] = [0.0, 1e-300, 3.0, 2e12]  # zero, tiny, ordinary, beyond the trusted floor
    k = np.exp(rng.uniform(np.log(0.01), np.log(5.0), n))
    return mu, k


@pytest.mark.parametrize("seed", [1, 2])
def test_every_answer_is_the_exact_bands(seed: int) -> None:
    mu, k = _arrays(400, seed)
    c = CountConfig()
    exact = upper_values(mu, k, P_OPEN, c.min_count, c.min_ratio)
    lazy = UpperBand.lazy(mu, k, P_OPEN, c.min_count, c.min_ratio)
    rng = np.random.default_rng(seed)
    for i in rng.permutation(len(mu)).tolist():
        for x in (0.0, lazy.floor[i], exact[i], exact[i] + 0.5, math.nextafter(exact[i], 0.0),
                  float(rng.uniform(0.0, 3.0 * exact[i]))):
            assert lazy.passed(i, x) == (x > exact[i]), (i, x)
        assert lazy.floor[i] <= exact[i]
    assert lazy.passed(len(mu), 1e300) is False  # a service added after the band: none
    fresh = UpperBand.lazy(mu, k, P_OPEN, c.min_count, c.min_ratio)
    assert fresh.items() == [(i, float(u)) for i, u in enumerate(exact) if math.isfinite(u)]
    assert np.array_equal(fresh.values(), exact)
    assert [fresh.get(i) for i in range(len(mu))] == exact.tolist()


def test_a_trusted_floor_implies_a_finite_band() -> None:
    """Where the floor is finite the band must be too (else a missing band, which always asks
    for an early look, would be skipped under its floor): over the whole trusted range."""
    mu = np.concatenate([[0.0], np.geomspace(1e-300, 1e12, 4000)])
    for k_value in (1e-6, 0.01, 0.3, 5.0, 1e3):
        for p in (1e-12, P_OPEN, 1e-3, 0.5):
            k = np.full(mu.size, k_value)
            band = UpperBand.lazy(mu, k, p, 10.0, 2.0)
            trusted = np.isfinite(band.floor)
            assert trusted.all()
            assert np.isfinite(upper_values(mu, k, p, 10.0, 2.0)[trusted]).all(), (k_value, p)


def _eager(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bucketers from now on compute every band when it is set (the former behaviour)."""
    set_band = bucketing.Bucketer.set_band

    def eager(self, upper):
        if isinstance(upper, UpperBand) and upper.values() is not None:
            upper = upper.values()
        set_band(self, upper)

    monkeypatch.setattr(bucketing.Bucketer, "set_band", eager)


def _run(records: list[Record], monkeypatch: pytest.MonkeyPatch) -> tuple[list, bytes, int]:
    """Alerts, a mid-run snapshot and how many single bands were computed on demand."""
    computed, compute = [0], UpperBand._compute

    def counting(self, i):
        computed[0] += 1
        return compute(self, i)

    monkeypatch.setattr(UpperBand, "_compute", counting)
    alerts: list[dict] = []
    pipe = Pipeline(on_alert=alerts.append, on_dead_letter=alerts.append)
    for k in range(0, len(records), 700):
        pipe.process(records[k:k + 700])
    snapshot = pipe.snapshot()
    pipe.flush()
    return alerts, snapshot, computed[0]


def _records(events: list[dict]) -> list[Record]:
    from streams import kafka_io

    return [Record("reports", kafka_io.json_bytes(e), None, 0, n) for n, e in enumerate(events)]


@pytest.mark.parametrize("shape", ["mixed", "preaggregated"])
def test_lazy_bands_change_nothing(shape: str, monkeypatch: pytest.MonkeyPatch) -> None:
    records = mixed_records() if shape == "mixed" else _records(_minutes(400, spike_at=300))
    lazy_alerts, lazy_snapshot, computed = _run(records, monkeypatch)
    _eager(monkeypatch)
    eager_alerts, eager_snapshot, _ = _run(records, monkeypatch)
    assert any(a.get("status") == "open" for a in eager_alerts)  # the comparison sees alerts
    assert lazy_alerts == eager_alerts
    assert lazy_snapshot == eager_snapshot
    if shape == "preaggregated":
        assert computed < 400 * 20 // 20  # under 5% of the 8,000 bands of 20 services


@pytest.mark.parametrize("seed", range(3))
def test_on_pace_is_the_plain_rule(seed: int) -> None:
    """`Bucketer._on_pace` (floors first, `paced` inlined) answers what the plain rule says:
    some service's paced count is above its band times the fraction, or it has no band."""
    rng = np.random.default_rng(seed)
    c = CountConfig()
    for _ in range(400):
        n = int(rng.integers(1, 6))
        mu, k = rng.uniform(0.0, 60.0, n), rng.uniform(0.01, 5.0, n)
        band = UpperBand.lazy(mu, k, P_OPEN, c.min_count, c.min_ratio)
        if rng.random() < 0.3:  # bands given as values, some missing
            band = UpperBand.of(np.where(rng.random(n) < 0.3, np.nan, band.values()))
        exact = dict(band.items())
        bucket = bucketing.OpenBucket()
        for i in rng.choice(n + 1, size=int(rng.integers(1, n + 2)), replace=False).tolist():
            bucket.reports[i] = float(rng.choice([0.0, 1.0, 9.0, 30.0, 150.0, 900.0]))
            if rng.random() < 0.5:
                bucket.batched[i] = bucket.reports[i] * float(rng.choice([0.5, 1.0]))
        fraction = float(rng.choice([0.1, 0.25, 0.5, 0.9, 1.0]))
        plain = any(bucket.paced(i, fraction, exact.get(i, math.inf))
                    > exact.get(i, -1.0) * fraction for i in bucket.reports)
        b = bucketing.Bucketer()
        b.set_band(band)
        assert b._on_pace(bucket, fraction) == plain


@pytest.mark.parametrize(("mu", "k"), [(math.inf, 0.3), (math.nan, 0.3), (-1.0, 0.3),
                                       (3.0, 0.0), (3.0, math.inf), (3.0, math.nan),
                                       (3.0, -1.0), (0.0, 1e-9), (5e11, 5.0)])
@pytest.mark.parametrize("p", [P_OPEN, 0.5])
def test_one_band_on_floats_is_the_arrays_band(mu: float, k: float, p: float) -> None:
    """`UpperBand._compute` (Python floats where the arguments are valid, the arrays' path
    otherwise) gives `upper_values`' band, missing where that is not finite."""
    with np.errstate(all="ignore"):
        want = float(upper_values(np.array([mu]), np.array([k]), p, 10.0, 2.0)[0])
        got = UpperBand.lazy(np.array([mu]), np.array([k]), p, 10.0, 2.0).get(0)
    assert got == (want if math.isfinite(want) else None)
