"""The shortcuts taken for speed give exactly what the plain numpy / scipy calls give."""

from __future__ import annotations

import numpy as np
from scipy import stats

from detector.columns import Columns, Field, clip
from detector.counts import nb_sf
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
