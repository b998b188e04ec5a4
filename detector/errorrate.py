"""Error-rate (and general real-valued) baseline with an upper-tail test, vectorised.

Per service an EWMA mean m and an EWMA of the excess variance (beyond binomial noise).
When the request count n behind a rate r is known, the sampling variance m(1-m)/n is added and
the exact binomial tail P(errors >= r n | n, m) must agree (the larger p-value wins); for plain
rate samples and other real-valued streams (latency, CPU) the test is the normal tail of the
standardised residual. Minimum absolute and relative increases gate the test, so a rate going
from 0.1 % to 0.3 % is no outage. Samples are NaN where a bucket had none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from detector.columns import Field, VectorModel


@dataclass(frozen=True)
class RateConfig:
    """Hyperparameters of `RateBaseline`."""

    alpha: float = 1.0 / 120.0  # slowest mean / variance step (two hours of buckets)
    warmup: int = 10  # samples before any p-value below 1
    sd_floor: float = 0.005  # smallest standard deviation (rate units)
    min_abs: float = 0.02  # rate must exceed the mean by this much ...
    min_ratio: float = 2.0  # ... and be this multiple of it


class RateBaseline(VectorModel):
    """Vectorised baseline of a rate or real-valued stream with an upper-tail p-value.

    >>> b = RateBaseline(); b.grow(2)
    >>> rng = np.random.default_rng(0)
    >>> for _ in range(200):
    ...     b.learn(0.01 + 0.002 * rng.standard_normal(2), None, np.ones(2, bool))
    >>> p = b.pvalue(np.array([0.30, 0.011]), None)
    >>> bool(p[0] < 1e-9), float(p[1])
    (True, 1.0)
    """

    FIELDS = {"m": Field("f8", 0.0), "v": Field("f8", 0.0), "n": Field("f8", 0.0)}

    def __init__(self, config: RateConfig | None = None) -> None:
        self.config = config or RateConfig()
        super().__init__()

    @staticmethod
    def _binom_var(m: np.ndarray, requests: np.ndarray | None) -> np.ndarray:
        if requests is None:
            return np.zeros_like(m)
        req = np.where(np.isfinite(requests) & (requests > 0), requests, np.inf)
        return np.clip(m, 0.0, 1.0) * (1 - np.clip(m, 0.0, 1.0)) / req

    def sd(self, requests: np.ndarray | None = None) -> np.ndarray:
        """Standard deviation of a sample around the mean."""
        c = self.cols
        return np.sqrt(c["v"] + self._binom_var(c["m"], requests) + self.config.sd_floor ** 2)

    def pvalue(self, r: np.ndarray, requests: np.ndarray | None) -> np.ndarray:
        """Upper-tail p-value of samples ``r`` (NaN = none); 1.0 where gated out or warming."""
        c, cfg = self.cols, self.config
        ok = np.isfinite(r) & (c["n"] >= cfg.warmup)
        rr = np.where(ok, r, 0.0)
        ok &= (rr - c["m"] >= cfg.min_abs) & (rr >= cfg.min_ratio * c["m"])
        p = np.ones(len(c))
        idx = np.flatnonzero(ok)
        if idx.size == 0:
            return p
        req = None if requests is None else requests[idx]
        m = c["m"][idx]
        sd = np.sqrt(c["v"][idx] + self._binom_var(m, req) + cfg.sd_floor ** 2)
        p[idx] = stats.norm.sf((rr[idx] - m) / sd)
        if req is not None:
            known = np.isfinite(req) & (req > 0)
            n = np.where(known, req, 1.0)
            pb = stats.binom.sf(np.ceil(rr[idx] * n) - 1, n, np.clip(m, 1e-6, 1 - 1e-6))
            p[idx] = np.where(known, np.maximum(p[idx], pb), p[idx])
        return p

    def learn(self, r: np.ndarray, requests: np.ndarray | None, mask: np.ndarray) -> None:
        """Learn samples ``r`` where present and ``mask``."""
        c = self.cols
        m = mask & np.isfinite(r)
        rr = np.where(m, r, c["m"])
        a = np.where(m, np.maximum(1.0 / (c["n"] + 1.0), self.config.alpha), 0.0)
        resid = rr - c["m"]
        excess = np.maximum(resid * resid - self._binom_var(c["m"], requests), 0.0)
        c["v"] += np.where(c["n"] > 0, a, 0.0) * (excess - c["v"])
        c["m"] += a * resid
        c["n"][m] += 1.0
