"""Streaming anomaly scores in [0, 1] for general real-valued series (NAB-style data).

Counts of reports are handled by the count machinery of the bank; this module covers the
other kind of stream the issue asks for -- CPU, latencies, temperatures, tweet volumes --
with one configuration for every series, vectorised over series with numpy.

Per series, per point, *score before learning*:

1. a local-level forecast (exponential smoothing, Brown 1956) of the next value; the
   forecast residual is standardised by a slow, robust (winsorised) EW scale, which
   flags spikes and abrupt jumps;
2. a two-sided CUSUM (Page 1954) of the slow-baseline residual standardised by the slow
   EW scale, which accumulates small persistent level shifts and drifts;
3. each statistic becomes a normal tail probability (``scipy.special.log_ndtr``, the log
   survival function behind ``scipy.stats.norm``); the surprise ``s = -log10(p)`` of the
   most extreme one, minus the surprise this series usually reaches (a per-series alarm
   bar, in the spirit of the anomaly likelihood of Ahmad et al. 2017: the EW mean plus
   deviations of past surprises, and at least a fraction of the recent, decaying peak, so
   a spike no larger than recent ones is not news), is mapped to
   ``s / (s + half)`` so that one corpus-wide threshold means the same on every series;
4. after a point scores above ``alert``, the series is *refractory* for ``refractory``
   points (scores damped, CUSUM held at zero) and its slow baseline restarts as a running
   mean of the points after the alert, so one anomaly gets one early high score (NAB
   rewards the earliest detection in a window and charges every later false positive).
5. a seasonal profile (EW mean of the slow residual per time-of-day slot) is removed
   first, so daily cycles are not mistaken for level shifts.

Learning is winsorised (values clipped to the baseline +- ``clip`` scales), so a spike does
not inflate the baseline that judges the next points.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from scipy.special import log_ndtr

_STATE = ("n", "since", "level", "slow", "scale", "dscale", "vshort", "cpos", "cneg",
          "quiet", "smean", "svar", "peak", "season", "visits")


@dataclass(frozen=True)
class RealValuedConfig:
    """Hyperparameters shared by every series (no per-series tuning)."""

    fast: float = 0.3          # EW weight of the local level (forecast)
    slow: float = 0.01         # EW weight of the slow baseline and of the scales
    vfast: float = 0.05        # EW weight of the short mean absolute forecast error
    warmup: int = 60           # points before any score is emitted
    clip: float = 4.0          # winsorise learning at baseline +- clip * scale
    floor: float = 0.2         # forecast scale >= floor * slow scale
    drift: float = 1.0         # CUSUM allowance k, in slow scales
    cusum_gain: float = 0.25   # CUSUM sum h -> z-like statistic via h * cusum_gain
    var_gain: float = 0.0      # weight of the volatility statistic (0 disables it)
    slots: int = 288           # seasonal slots per period (5-minute slots of a day)
    period: float = 86400.0    # seasonal period in seconds
    season_alpha: float = 0.05 # EW weight of a seasonal slot per visit
    bar_alpha: float = 0.002   # EW weight of the surprise distribution (alarm bar)
    bar_k: float = 2.0         # bar = mean + bar_k * deviation of past surprises
    bar_floor: float = 0.5     # floor of that deviation, in log10 units
    peak_frac: float = 0.4     # bar >= peak_frac * recent peak surprise (0 disables)
    peak_halflife: float = 1000.0  # points for the recent peak to halve
    half: float = 6.0          # -log10(p) at which the score is 0.5
    alert: float = 0.7         # score that starts a refractory period
    refractory: int = 150      # points of damped scores after an alert
    damp: float = 0.1          # multiplier on scores during the refractory period


class RealValuedScorer:
    """Vectorised streaming scorer: ``step(values, t)`` scores then learns one point per series.

    NaN values mean "no point for this series at this step": state and score untouched.
    ``t`` (epoch seconds, scalar or per series) places the point in its seasonal slot;
    without it the seasonal profile is a constant offset.

    >>> rng = np.random.default_rng(7)
    >>> x = rng.normal(10.0, 1.0, size=(400, 2))
    >>> x[300, 1] += 12.0                      # a spike in series 1
    >>> det = RealValuedScorer(2)
    >>> scores = np.array([det.step(row, t=300.0 * k) for k, row in enumerate(x)])
    >>> int(np.argmax(scores[:, 1])), round(float(scores[300, 1]), 3)
    (300, 0.903)
    >>> round(float(scores[:, 0].max()), 3)   # series 0 has no anomaly
    0.453
    >>> clone = RealValuedScorer.from_bytes(det.to_bytes())
    >>> bool(np.array_equal(clone.step(x[0], 0.0), det.step(x[0], 0.0)))
    True
    """

    def __init__(self, n_series: int, config: RealValuedConfig | None = None) -> None:
        self.config = config or RealValuedConfig()
        self._reset(n_series)

    def _reset(self, n_series: int) -> None:
        """Fresh state: nothing seen yet."""
        for name in _STATE:
            setattr(self, f"_{name}", np.zeros(n_series))
        self._surprise = np.zeros(n_series)
        self._season = np.zeros((n_series, self.config.slots))
        self._visits = np.zeros((n_series, self.config.slots))

    @property
    def n_series(self) -> int:
        """Number of series scored side by side."""
        return len(self._n)

    def step(self, values: np.ndarray, t: float | np.ndarray | None = None) -> np.ndarray:
        """Score every series' new value (before learning it), then learn it."""
        x = np.asarray(values, dtype=float).reshape(self.n_series)
        seen = ~np.isnan(x)
        slot = self._slot(t)
        y = np.where(seen, x, 0.0) - self._season[np.arange(self.n_series), slot]
        scores = np.where(seen, self._score(y), 0.0)
        self._learn(y, seen, slot, scores)
        return scores

    def _slot(self, t: float | np.ndarray | None) -> np.ndarray:
        """Seasonal slot (time of day by default) of each series' point."""
        if t is None:
            return np.zeros(self.n_series, dtype=np.int64)
        cfg = self.config
        phase = np.mod(np.asarray(t, dtype=float), cfg.period) / cfg.period
        return np.broadcast_to((phase * cfg.slots).astype(np.int64) % cfg.slots,
                               (self.n_series,))

    def _scales(self) -> tuple[np.ndarray, np.ndarray]:
        """Slow and forecast scales, floored so that long flat stretches cannot shrink them
        to nothing (a floor tied to the slow scale and to the magnitude of the level)."""
        cfg = self.config
        scale = np.maximum(self._scale, 1e-9 + 1e-6 * np.abs(self._slow))
        return scale, np.maximum(self._dscale, np.maximum(cfg.floor * scale, 1e-9))

    def _stats(self, y: np.ndarray) -> tuple[np.ndarray, ...]:
        """Forecast residual, slow residual (standardised), CUSUM sum and volatility z."""
        cfg = self.config
        scale, dscale = self._scales()
        z_fast = (y - self._level) / dscale
        z_slow = (y - self._slow) / scale
        zc = np.clip(z_slow, -cfg.clip, cfg.clip)
        cusum = np.maximum(self._cpos + zc - cfg.drift, self._cneg - zc - cfg.drift)
        vshort = self._vshort + cfg.vfast * (np.minimum(np.abs(z_fast), cfg.clip) * dscale
                                             - self._vshort)
        spread = 0.75 * np.sqrt(cfg.vfast / (2.0 - cfg.vfast))
        z_var = (vshort / dscale - 1.0) / spread
        return z_fast, z_slow, np.maximum(cusum, 0.0), z_var

    def _score(self, y: np.ndarray) -> np.ndarray:
        """Anomaly score in [0, 1] of deseasonalised ``y`` given the state (no learning)."""
        cfg = self.config
        z_fast, _, cusum, z_var = self._stats(y)
        z = np.maximum(np.abs(z_fast), cusum * cfg.cusum_gain)
        z = np.maximum(z, np.abs(z_var) * cfg.var_gain)
        surprise = np.maximum(-log_ndtr(-z) / np.log(10.0) - np.log10(2.0), 0.0)
        self._surprise = surprise
        excess = np.maximum(surprise - self._bar(), 0.0)
        score = excess / (excess + cfg.half)
        score = np.where(self._quiet > 0, score * cfg.damp, score)
        return np.where(self._n >= cfg.warmup, score, 0.0)

    def _bar(self) -> np.ndarray:
        """Surprise this series usually reaches: its EW mean plus ``bar_k`` EW deviations.

        In the spirit of the anomaly likelihood of Ahmad et al. (2017): a series whose
        residuals are often extreme (heavy tails, recurring spikes) must go further to alarm;
        the bar is also at least ``peak_frac`` of the recent peak surprise (half-life
        ``peak_halflife`` points).
        """
        cfg = self.config
        usual = self._smean + cfg.bar_k * np.maximum(np.sqrt(self._svar), cfg.bar_floor)
        return np.maximum(usual, cfg.peak_frac * self._peak)

    def _learn_bar(self, seen: np.ndarray) -> None:
        """Learn the surprise distribution outside refractory periods, after warm-up."""
        cfg = self.config
        ok = seen & (self._quiet <= 0) & (self._n >= cfg.warmup)
        k = np.maximum(self._n - cfg.warmup, 0.0)
        a = np.where(ok, np.maximum(cfg.bar_alpha, 1.0 / (k + 1.0)), 0.0)
        s = np.minimum(self._surprise, self._smean + 10.0)
        d = s - self._smean
        self._smean += a * d
        self._svar = (1.0 - a) * (self._svar + a * d * d)
        decay = np.where(seen, 0.5 ** (1.0 / cfg.peak_halflife), 1.0)
        self._peak = np.where(seen & (self._n >= cfg.warmup),
                              np.maximum(self._peak * decay, self._surprise), self._peak)

    def _learn(self, y: np.ndarray, seen: np.ndarray, slot: np.ndarray,
               scores: np.ndarray) -> None:
        """Update baselines, scales, season and CUSUM of the series that had a value."""
        cfg = self.config
        z_fast, z_slow, _, _ = self._stats(y)
        scale, dscale = self._scales()
        early = self._since < 10
        resid = np.where(early, y - self._slow, np.clip(z_slow, -cfg.clip, cfg.clip) * scale)
        fresid = np.where(self._n < 3, y - self._level,
                          np.clip(z_fast, -cfg.clip, cfg.clip) * dscale)
        upd = seen & (self._n > 0)
        a_v = np.where(upd, np.maximum(cfg.slow, 1.0 / (self._n + 1.0)), 0.0)
        a_s = np.where(seen, np.maximum(cfg.slow, 1.0 / (self._since + 1.0)), 0.0)
        self._scale += a_v * (np.abs(resid) - self._scale)
        self._dscale += a_v * (np.abs(fresid) - self._dscale)
        self._vshort += np.where(upd, cfg.vfast, 0.0) * (np.abs(fresid) - self._vshort)
        self._vshort = np.where(self._n < 10, self._dscale, self._vshort)
        self._learn_season(resid, seen & ~early, slot)
        self._slow += a_s * resid
        self._level = np.where(self._n == 0, y, self._level + np.where(upd, cfg.fast, 0.0)
                               * fresid)
        self._update_cusum(z_slow, seen)
        self._learn_bar(seen)
        self._n += seen
        self._since += seen
        self._refractory(seen, scores)

    def _learn_season(self, resid: np.ndarray, ok: np.ndarray, slot: np.ndarray) -> None:
        """EW mean of the slow residual per seasonal slot (what this time of day adds)."""
        rows = np.arange(self.n_series)
        visits = self._visits[rows, slot]
        alpha = np.where(ok, np.maximum(self.config.season_alpha, 1.0 / (visits + 1.0)), 0.0)
        self._season[rows, slot] += alpha * resid
        self._visits[rows, slot] = visits + ok

    def _update_cusum(self, z_slow: np.ndarray, seen: np.ndarray) -> None:
        """Two-sided CUSUM (Page 1954) on the clipped slow residual."""
        cfg = self.config
        z = np.clip(z_slow, -cfg.clip, cfg.clip)
        self._cpos = np.where(seen, np.maximum(0.0, self._cpos + z - cfg.drift), self._cpos)
        self._cneg = np.where(seen, np.maximum(0.0, self._cneg - z - cfg.drift), self._cneg)

    def _refractory(self, seen: np.ndarray, scores: np.ndarray) -> None:
        """After an alert: damp scores for a while, restart the slow baseline and CUSUM."""
        cfg = self.config
        alert = seen & (scores >= cfg.alert) & (self._quiet <= 0)
        self._quiet = np.where(seen, np.maximum(self._quiet - 1, 0), self._quiet)
        self._quiet = np.where(alert, float(cfg.refractory), self._quiet)
        self._since = np.where(alert, 0.0, self._since)
        quiet = self._quiet > 0
        self._cpos = np.where(quiet, 0.0, self._cpos)
        self._cneg = np.where(quiet, 0.0, self._cneg)

    def to_bytes(self) -> bytes:
        """Exact snapshot of the learned state (numpy .npz), config included."""
        buf = io.BytesIO()
        arrays = {name: getattr(self, f"_{name}") for name in _STATE}
        cfg = np.array([float(getattr(self.config, f)) for f in _CONFIG_FIELDS])
        np.savez(buf, config=cfg, **arrays)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> RealValuedScorer:
        """Rebuild a scorer from :meth:`to_bytes` output; later scores are identical."""
        with np.load(io.BytesIO(data)) as npz:
            values = dict(zip(_CONFIG_FIELDS, npz["config"].tolist(), strict=True))
            cfg = RealValuedConfig(**{k: type(getattr(RealValuedConfig, k))(v)
                                      for k, v in values.items()})
            out = cls(len(npz["n"]), cfg)
            for name in _STATE:
                setattr(out, f"_{name}", npz[name].copy())
        return out


_CONFIG_FIELDS = tuple(RealValuedConfig.__dataclass_fields__)
