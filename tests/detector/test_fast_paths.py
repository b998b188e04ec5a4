"""The shortcuts taken for speed give exactly what the plain numpy / scipy calls give."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from detector.columns import Columns, Field, clip
from detector.counts import nb_sf, nb_upper
from detector.fusion import fuse


def test_nb_sf_matches_scipy_inside_and_outside_the_support() -> None:
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.uniform(-3.0, 3000.0, 5000), [0.0, 0.5, 1.0, np.inf, np.nan]])
    mu = rng.uniform(0.05, 300.0, x.size)
    k = rng.uniform(0.01, 5.0, x.size)
    size = 1.0 / k
    want = stats.nbinom.sf(np.ceil(x) - 1.0, size, size / (size + mu))
    assert np.array_equal(nb_sf(x, mu, k), want, equal_nan=True)
    inside = x >= 1.0  # the fast path proper (every value in the support)
    assert np.array_equal(nb_sf(x[inside], mu[inside], k[inside]), want[inside])


@pytest.mark.parametrize("p", [1e-7, 1e-4, 0.05, 0.0, 1.0])
def test_nb_upper_matches_scipy_isf(p: float) -> None:
    rng = np.random.default_rng(6)
    mu = np.concatenate([np.exp(rng.uniform(-12.0, 9.0, 3000)), [1e-300, 0.0, np.nan]])
    k = np.concatenate([np.exp(rng.uniform(np.log(0.01), np.log(5.0), 3000)), [1.0, 1.0, 1.0]])
    size = 1.0 / k
    want = np.asarray(stats.nbinom.isf(p, size, size / (size + mu)), dtype=float) + 1.0
    assert np.array_equal(nb_upper(mu, k, p), want, equal_nan=True)
    valid = slice(0, 3001)  # the direct ufunc path proper (every argument valid)
    assert np.array_equal(nb_upper(mu[valid], k[valid], p), want[valid])


def test_clip_is_np_clip() -> None:
    v = np.array([np.nan, -np.inf, -7.0, -0.0, 0.0, 3.0, 9.0, np.inf])
    assert np.array_equal(clip(v, -5.0, 5.0), np.clip(v, -5.0, 5.0), equal_nan=True)
    v32 = v.astype(np.float32)
    got = clip(v32, -50.0, 50.0)
    assert got.dtype == np.float32
    assert np.array_equal(got, np.clip(v32, -50.0, 50.0), equal_nan=True)


def test_fuse_without_error_input_equals_error_p_values_of_one() -> None:
    rng = np.random.default_rng(9)
    p_rep = np.where(rng.random(500) < 0.5, 1.0, 10.0 ** -rng.uniform(0, 12, 500))
    cusum = np.where(rng.random(500) < 0.5, 0.0, rng.uniform(0, 3, 500))
    still = rng.random(500) < 0.3
    for active in (None, still):
        a, b = fuse(p_rep, cusum, None, rep_active=active), fuse(p_rep, cusum, np.ones(500),
                                                                  rep_active=active)
        for name in ("hot", "moderate", "active", "score", "p_value", "signals"):
            assert np.array_equal(getattr(a, name), getattr(b, name)), name


def test_cached_column_views_follow_growth_and_load() -> None:
    c = Columns({"level": Field("f8", 1.5), "slots": Field("f4", 1.0, rows=3)})
    c.resize(2)
    c["level"] += 1.0  # in place through the cached view
    c.resize(20)  # reallocates: views must point at the new storage
    c["level"][19] = 7.0
    assert c["level"].shape == (20,) and c["slots"].shape == (3, 20)
    assert c["level"][:2].tolist() == [2.5, 2.5] and c["level"][19] == 7.0
    saved = c.export("x.")
    d = Columns({"level": Field("f8", 1.5), "slots": Field("f4", 1.0, rows=3)})
    d.load(saved, "x.", 20)
    d["level"] *= 2.0
    assert d["level"][19] == 14.0 and c["level"][19] == 7.0


def _mixed_run(fast: bool, few_share: int = 32) -> tuple[list, bytes, list]:
    """A bank through quiet stretches, outages, partial looks, error rates, a late service."""
    from detector import DetectorBank

    rng = np.random.default_rng(11)
    n, steps = 40, 2000
    base = np.exp(rng.uniform(np.log(0.2), np.log(300.0), n))
    lam = base * (1 + 0.5 * np.sin(np.arange(steps) / 229.0))[:, None]
    lam[1500:1520, 3] *= 40.0  # spike
    lam[1600:1700, 9] *= np.linspace(1.0, 8.0, 100)  # ramp
    lam[1750:, 17] *= 5.0  # shift
    x = rng.poisson(lam).astype(float)
    bank = DetectorBank()
    bank.fast, bank.few_share = fast, few_share
    bank.ensure([f"s{i}" for i in range(n - 1)])
    out, status = [], []
    for k in range(steps):
        if k == 900:
            bank.add_service(f"s{n - 1}")
        m = len(bank.services)
        t = 60.0 * (k + 1)
        if k >= 1450:  # the pipeline's partial looks
            out += bank.step(t - 40.0, x[k, :m] / 3, fraction=1 / 3)
        err = {} if not 1480 <= k < 1520 else {
            "error_rate": np.where(np.arange(m) == 5, 0.3, 0.01), "requests": np.full(m, 900.0)}
        out += bank.step(t, x[k, :m], **err)
        if k % 50 == 0:
            status.append(bank.status())
            with pytest.raises(ValueError):
                bank.step(t, np.zeros(m + 1))  # a malformed bucket changes nothing
    return out, bank.to_bytes(), status


@pytest.mark.parametrize("few_share", [32, 1])
def test_the_fast_paths_give_the_full_paths_transitions_and_state(few_share: int) -> None:
    """Quiet and few-services paths (few_share=1: on every step without error rates)."""
    fast, full = _mixed_run(True, few_share), _mixed_run(False)
    assert fast[0] == full[0] and fast[1] == full[1] and fast[2] == full[2]
    assert {t.service for t in fast[0] if t.status == "open"} >= {"s3", "s9", "s17"}
