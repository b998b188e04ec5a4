"""`DetectorBank`'s logic for ONE series, built from river objects: the throughput reference.

`RiverBankSeries.step` does per series what `DetectorBank.step` does for all services at once
(score before learning, then learn a full bucket), in the same order and with the same
hyperparameters (`BankConfig`), so that the bank's speed-up is measured against the same work.
Component by component:

Bank component (detector/) -> this reference:

- `seasonal` level, EWMA of count / factor with step max(1/(n+1), 1/360) -> a plain float,
  same arithmetic (the six-hourly profile renormalisation rescales it: no river statistic
  can hold it).
- `seasonal` hour-of-day and hour-of-week profiles, interpolated between slot centres,
  per-slot steps max(1/(n+10), floor) x weight, weekly trust n/(n+60) -> plain lists of
  floats, same arithmetic (no river object learns an interpolated profile;
  `river.time_series.HoltWinters` has one season and fixed steps).
- `seasonal` prior floor, youth, clipping at expected + 5 sd before learning -> plain Python.
- `seasonal` shadow level during an incident (the new normal) -> `river.stats.EWMean(0.05)`
  started at the level.
- `counts` NB2 dispersion k = E[(x-mu)^2 - mu] / E[mu^2], steps max(1/(n+1), 1/2880), shrunk
  towards the prior -> two `_Scheduled` moments: `river.stats.Mean` for the first 2,880
  updates, then `river.stats.EWMean(1/2880)` seeded with that mean.
- `counts` normal prefilter, min-count / min-ratio gates, exact NB upper tail -> plain
  Python and `scipy.special.betainc` (the same tail).
- `changepoint` two-sided CUSUM with clip, cap and onset (Page 1954) -> plain Python
  (`river.drift.PageHinkley` is another statistic: the light reference uses it).
- `changepoint` gate on short EWMAs of observed and expected -> `river.stats.EWMean(0.3)` x 2,
  started at 0 like the bank.
- `fusion` (strong single / moderate signals, calm level, score) and `incidents` (possible /
  confirmed / recovering / ok, escalation, acceptance) -> plain Python, statement by statement
  (`benchmarks.river_incidents`).
- not mirrored: the error-rate test (the benchmark feeds no error rates and the bank then
  skips that work too), related links and transition texts (built only for transitions).

Scoring is river's `score_one` before `learn_one`: the bucket is scored against the state
before it, then learned (full buckets only; not while an incident holds, once past youth).
Time slots are computed once per time step (`When.at`) and shared by every series, like the
bank computes them once per step for all services.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from river import stats
from scipy.special import betainc

from benchmarks.river_incidents import CONFIRMED, NAN, OK, IncidentSeries, fuse, quiet_score
from detector.config import BankConfig


@dataclass(frozen=True)
class When:
    """Slots and weights of one bucket, shared by every series stepped at that time."""

    t_start: float
    t_mid: float
    day: tuple[int, int, float]
    week: tuple[int, int, float]
    period: int  # first hour of the six-hour period (profiles renormalised when it changes)

    @classmethod
    def at(cls, t_end: float, bucket_seconds: float, fraction: float = 1.0) -> When:
        frac = min(max(fraction, 1e-3), 1.0)
        t_start = t_end - frac * bucket_seconds
        t_mid = t_start + bucket_seconds / 2
        return cls(t_start, t_mid, _interp(t_mid, 24), _interp(t_mid, 168, 72),
                   int(t_mid // 21600) * 6)


def _interp(t: float, period_h: int, offset_h: int = 0) -> tuple[int, int, float]:
    pos = ((t / 3600.0 + offset_h) % period_h) - 0.5
    lo = math.floor(pos)
    return lo % period_h, (lo + 1) % period_h, pos - lo


class _Scheduled:
    """EWMA with step max(1/(n+1), alpha): river `Mean`, then `EWMean(alpha)` from its mean."""

    __slots__ = ("alpha", "n", "stat")

    def __init__(self, alpha: float) -> None:
        self.alpha, self.n = alpha, 0
        self.stat: stats.Mean | stats.EWMean = stats.Mean()

    def update(self, x: float) -> None:
        if 1.0 / (self.n + 1.0) < self.alpha and isinstance(self.stat, stats.Mean):
            ew = stats.EWMean(self.alpha)
            ew.update(self.stat.get())
            self.stat = ew
        self.stat.update(x)
        self.n += 1


def _learn_profile(p: list[float], n: list[float], slots: tuple[int, int, float],
                   ratio: float, mask: float, prior: float, floor: float) -> None:
    """Move both neighbouring slots towards ``ratio`` in proportion to their weight."""
    i0, i1, w = slots
    err = min(max(ratio - ((1 - w) * p[i0] + w * p[i1]), -50.0), 50.0) * mask
    for i, wi in ((i0, 1 - w), (i1, w)):
        p[i] = max(p[i] + max(1.0 / (n[i] + prior), floor) * wi * err, 1e-3)
        n[i] += wi * mask


class RiverBankSeries(IncidentSeries):
    """One series through the bank's logic; `step` returns ``[(status, started_at), ...]``.

    >>> import numpy as np
    >>> rng, s = np.random.default_rng(1), RiverBankSeries()
    >>> for i in range(1, 1441):
    ...     _ = s.step(60.0 * i, float(rng.poisson(30.0)), When.at(60.0 * i, 60.0))
    >>> s.step(86460.0, 900.0, When.at(86460.0, 60.0)), round(s.mu, 1)
    ([('open', 86400.0)], 30.4)
    """

    def __init__(self, config: BankConfig | None = None) -> None:
        self.cfg = cfg = config or BankConfig()
        self.level, self.level_n, self._period = 0.0, 0.0, -1
        self.hod, self.hod_n = [1.0] * 24, [0.0] * 24
        self.how, self.how_n = [1.0] * 168, [0.0] * 168
        self.shadow: stats.EWMean | None = None
        self.k_num, self.k_den = _Scheduled(cfg.counts.k_alpha), _Scheduled(cfg.counts.k_alpha)
        self.s_hi = self.s_lo = 0.0
        self.onset = NAN
        self.fx, self.fmu = stats.EWMean(cfg.cusum.fast_alpha), stats.EWMean(cfg.cusum.fast_alpha)
        self.fx.update(0.0)
        self.fmu.update(0.0)
        self.t, self.obs, self.mu, self.score = NAN, 0.0, 0.0, 0.0
        self.fc = fc = cfg.fusion_config()
        self._levels = (max(fc.p_moderate, fc.p_strong), min(fc.cusum_moderate, 1.0))
        super().__init__()

    # scoring -------------------------------------------------------------------------------
    def factor(self, w: When) -> float:
        """Seasonal factor: the hour-of-day profile blended with the trusted hour-of-week one."""
        (d0, d1, dw), (w0, w1, ww) = w.day, w.week
        day = (1 - dw) * self.hod[d0] + dw * self.hod[d1]
        week = (1 - ww) * self.how[w0] + ww * self.how[w1]
        n_week = (1 - ww) * self.how_n[w0] + ww * self.how_n[w1]
        trust = n_week / (n_week + self.cfg.seasonal.week_trust)
        return max((1 - trust) * day + trust * week, 1e-3)

    def dispersion(self) -> float:
        c = self.cfg.counts
        den = self.k_den.stat.get()
        est = self.k_num.stat.get() / max(den, 1e-12) if den > 0 else c.k_prior
        w = self.k_num.n / (self.k_num.n + c.k_warm)
        return min(max(w * est + (1 - w) * c.k_prior, c.k_min), c.k_max)

    def _pvalue(self, x: float, m: float, k: float, sd: float, frac: float) -> float:
        c = self.cfg.counts
        if frac < 1.0 and self.level_n < 1.0:  # no early look before the first full bucket
            return 1.0
        if not (x - m > c.prefilter_z * sd and x >= c.min_count * max(frac, 0.5)
                and x >= c.min_ratio * m):
            return 1.0
        size = 1.0 / k
        return float(betainc(math.ceil(x), size, m / (size + m)))  # NB P(X >= x)

    def _cusum(self, t_start: float, z: float, x: float, mu: float) -> None:
        c = self.cfg.cusum
        zc = min(max(z, -c.clip), c.clip)
        old = self.s_hi
        self.s_hi = min(max(old + zc - c.drift, 0.0), c.cap)
        self.s_lo = min(max(self.s_lo - zc - c.drift, 0.0), c.cap)
        self.onset = NAN if self.s_hi <= 0 else (t_start if old <= 0 else self.onset)
        self.fx.update(x)
        self.fmu.update(mu)

    def _stat(self) -> float:
        c, fx, fmu = self.cfg.cusum, self.fx.get(), self.fmu.get()
        return self.s_hi / c.threshold if fx >= c.min_ratio * fmu and fx - fmu >= c.min_excess \
            else 0.0

    # one bucket ---------------------------------------------------------------------------
    def step(self, t_end: float, x: float, w: When,
             fraction: float = 1.0) -> list[tuple[str, float]]:
        """Score the bucket ending at ``t_end`` (slots ``w``), then learn it if complete."""
        cfg, full = self.cfg, fraction >= 1.0
        frac = min(max(fraction, 1e-3), 1.0)
        f = self.factor(w)
        sc = cfg.seasonal
        mu = max(self.level * f, sc.prior_level * sc.prior_weight / (sc.prior_weight
                                                                        + self.level_n))
        k = self.dispersion()
        m = mu if full else mu * frac
        sd = math.sqrt(m + k * m * m)
        p = self._pvalue(x, m, k, sd, frac)
        if full and self.state < CONFIRMED:  # frozen while an incident holds
            self._cusum(w.t_start, (x - m) / sd, x, mu)
        elif full and self.s_hi <= 0:
            self.onset = NAN
        stat = self._stat()
        fc = self.fc
        if self.state == OK and p >= self._levels[0] and stat < self._levels[1]:
            out, score = [], quiet_score(p, stat, fc)  # quiet: the state machine cannot move
            self._accepted = False
        else:
            still = x - m > fc.z_calm * sd and x >= fc.ratio_calm * m
            ev = fuse(p, stat, still, fc)
            onset = self.onset if stat >= fc.cusum_moderate else NAN
            out = self._advance(ev, x if full else x / frac, w.t_start, t_end, onset, full)
            score = ev[3]
        if full:
            self._learn(w, x, mu, f, sd)
        if out and any(status != "update" for status, _ in out):
            self.s_hi = self.s_lo = 0.0
            self.onset = NAN
        self.t, self.obs, self.mu, self.score = t_end, x, m, score
        return out

    def _learn(self, w: When, x: float, mu: float, f: float, sd: float) -> None:
        cfg, sc = self.cfg, self.cfg.seasonal
        learn = self.state == OK or self.level_n < cfg.young_buckets
        xc = min(x, mu + cfg.learn_clip_sd * sd)
        if learn:
            self.k_num.update((xc - mu) ** 2 - mu)
            self.k_den.update(mu * mu)
        self._renormalise(w.period)
        if learn:
            self.level += max(1.0 / (self.level_n + 1.0), sc.level_alpha) * (xc / f - self.level)
            self.level_n += 1.0
        pmask = 1.0 if learn and self.level_n >= sc.profile_after else 0.0
        ratio = xc / max(self.level, 1e-9)
        _learn_profile(self.hod, self.hod_n, w.day, ratio, pmask, sc.slot_prior, sc.slot_alpha)
        _learn_profile(self.how, self.how_n, w.week, ratio, pmask, sc.slot_prior, sc.week_alpha)
        if self._accepted:
            self.level = max(self.shadow.get() if self.shadow else 0.0, 1e-6)
            self.shadow = None
        if self.state >= CONFIRMED:
            if self.shadow is None:
                self.shadow = stats.EWMean(sc.shadow_alpha)
                self.shadow.update(self.level)
            self.shadow.update(x / f)
        else:
            self.shadow = None

    def _renormalise(self, period: int) -> None:
        """Keep the hour-of-day profile at mean 1 (the scale lives in the level)."""
        if period == self._period:
            return
        self._period = period
        m = sum(self.hod) / 24
        self.level *= m
        inv = 1.0 / m
        self.hod = [v * inv for v in self.hod]
        self.how = [v * inv for v in self.how]
