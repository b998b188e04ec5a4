"""The caches and short cuts that make a bank step cheap answer what the full computation does."""

from __future__ import annotations

import numpy as np

from detector import BankConfig, DetectorBank
from detector.counts import NegBinTest
from detector.seasonal import SeasonalBaseline


def _fresh_mu(s: SeasonalBaseline, t: float) -> np.ndarray:
    """`floored` computed from scratch, with no cached slots or rows."""
    s._slots = s._rows = None
    return np.maximum(s.cols["level"] * s.factor(t), s.prior_floor())


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def test_slots_and_mu_reused_after_learning_equal_fresh_ones() -> None:
    rng = np.random.default_rng(3)
    bank = DetectorBank(BankConfig(bucket_seconds=60))
    bank.ensure([f"s{i}" for i in range(6)])
    s, t, reused = bank._seasonal, 1.77e9, 0
    for i in range(400):  # crosses slot rows, six-hour renormalisations, a service added
        if i == 150:
            bank.add_service("late")
        bank.step(t, rng.poisson(12.0, len(bank.services)).astype(float))
        reused += s._rows is not None and s._rows[0] == s._version
        mu, _ = bank.expected_band(t + 60)
        got = s.slots(t + 30)
        assert not mu.flags.writeable and mu is s.floored(t + 30)
        keep = [a.copy() for a in (got.p, got.n, got.w, got.cur, got.f)]
        assert _same(mu.copy(), _fresh_mu(s, t + 30))
        fresh = s.slots(t + 30)
        assert fresh is not got and all(_same(a, b) for a, b in zip(
            keep, (fresh.p, fresh.n, fresh.w, fresh.cur, fresh.f), strict=True))
        assert _same(fresh.p, s.cols["prof"][fresh.rows]) and _same(fresh.n,
                                                                      s.cols["prof_n"][fresh.rows])
        t += 60
    assert reused > 300  # the learned rows were there to start from


def test_the_cached_expectation_follows_growth_snapshots_and_a_new_normal() -> None:
    rng = np.random.default_rng(5)
    bank = DetectorBank(BankConfig(bucket_seconds=60))
    bank.ensure(["a", "b"])
    t = 1.77e9
    for _ in range(100):
        bank.step(t, rng.poisson(8.0, 2).astype(float))
        t += 60
    mu, _ = bank.expected_band(t)
    bank.add_service("c")  # between the band and the step it was computed for
    bank.step(t, np.array([8.0, 9.0, 1.0]))
    assert bank._latest.cols["mu"].shape == (3,)
    s = bank._seasonal
    mu = s.floored(t + 30)
    s.cols["shadow"][1] = 3 * s.cols["level"][1]
    s.accept_new_normal(np.array([1]))
    assert s.floored(t + 30)[1] != mu[1]
    assert _same(s.floored(t + 30).copy(), _fresh_mu(s, t + 30))
    back = DetectorBank.from_bytes(bank.to_bytes(), BankConfig(bucket_seconds=60))
    assert _same(back.expected(t + 60)[0], bank.expected(t + 60)[0])


def test_dispersion_short_cut_equals_the_general_form() -> None:
    rng = np.random.default_rng(1)
    t = NegBinTest()
    t.grow(40)
    for den in (rng.uniform(1e-12, 50.0, 40), np.r_[rng.uniform(1.0, 5.0, 39), 0.0],
                np.r_[rng.uniform(1.0, 5.0, 39), 1e-13], np.r_[rng.uniform(1.0, 5.0, 39), np.nan]):
        c, cfg = t.cols, t.config
        c["k_num"][...] = rng.normal(3.0, 2.0, 40)
        c["k_den"][...] = den
        c["k_n"][...] = rng.integers(0, 500, 40)
        est = np.where(den > 0, c["k_num"] / np.maximum(den, 1e-12), cfg.k_prior)
        w = c["k_n"] / (c["k_n"] + cfg.k_warm)
        want = np.clip(w * est + (1 - w) * cfg.k_prior, cfg.k_min, cfg.k_max)
        assert _same(t._dispersion(), want)
