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
3. each statistic becomes a normal tail probability (scipy.stats) and the score is
   ``s / (s + half)`` with ``s = -log10(p)`` of the most extreme statistic, so that one
   corpus-wide threshold means the same surprise on every series;
4. after a point scores above ``alert``, the series is *refractory* for ``refractory``
   points (scores damped) and its slow baseline restarts as a running mean of the points
   after the alert (the alerting point itself is left out), so one
   anomaly gets one early high score (NAB rewards the earliest detection in a window and
   charges every later false positive).

Learning is winsorised (values clipped to the baseline +- ``clip`` scales), so a spike does
not inflate the baseline that judges the next points.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

_STATE = ("n", "since", "level", "slow", "scale", "dscale", "cpos", "cneg", "quiet")


@dataclass(frozen=True)
class RealValuedConfig:
    """Hyperparameters shared by every series (no per-series tuning)."""

    fast: float = 0.3          # EW weight of the local level (forecast)
    slow: float = 0.01         # EW weight of the slow baseline and of the scales
    warmup: int = 60           # points before any score is emitted
    clip: float = 4.0          # winsorise learning at baseline +- clip * scale
    drift: float = 1.0         # CUSUM allowance k, in slow scales
    cusum_gain: float = 0.25   # CUSUM sum h -> z-like statistic via h * cusum_gain
    half: float = 6.0          # -log10(p) at which the score is 0.5
    alert: float = 0.6         # score that starts a refractory period
    refractory: int = 150      # points of damped scores after an alert
    damp: float = 0.1          # multiplier on scores during the refractory period


class RealValuedScorer:
    """Vectorised streaming scorer: ``step(values)`` scores then learns one point per series.

    NaN values mean "no point for this series at this step": state and score untouched.

    >>> rng = np.random.default_rng(7)
    >>> x = rng.normal(10.0, 1.0, size=(400, 2))
    >>> x[300, 1] += 12.0                      # a spike in series 1
    >>> det = RealValuedScorer(2)
    >>> scores = np.array([det.step(row) for row in x])
    >>> int(np.argmax(scores[:, 1])), bool(scores[300, 1] > 0.9), bool(scores[:, 0].max() < 0.6)
    (300, True, True)
    >>> clone = RealValuedScorer.from_bytes(det.to_bytes())
    >>> bool(np.array_equal(clone.step(x[0]), det.step(x[0])))
    True
    """

    def __init__(self, n_series: int, config: RealValuedConfig | None = None) -> None:
        self.config = config or RealValuedConfig()
        self._reset(n_series)

    def _reset(self, n_series: int) -> None:
        """Fresh state: nothing seen yet."""
        self._n = np.zeros(n_series)
        for name in _STATE[1:]:
            setattr(self, f"_{name}", np.zeros(n_series))

    @property
    def n_series(self) -> int:
        """Number of series scored side by side."""
        return len(self._n)

    def step(self, values: np.ndarray) -> np.ndarray:
        """Score every series' new value (before learning it), then learn it."""
        x = np.asarray(values, dtype=float).reshape(self.n_series)
        seen = ~np.isnan(x)
        scores = np.where(seen, self._score(np.where(seen, x, 0.0)), 0.0)
        self._learn(x, seen, scores)
        return scores

    def _stats(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Standardised forecast residual, slow residual and the CUSUM sums after ``x``."""
        cfg = self.config
        scale = np.maximum(self._scale, 1e-9 + 1e-6 * np.abs(self._slow))
        dscale = np.maximum(self._dscale, 1e-9 + 1e-6 * np.abs(self._level))
        z_fast = (x - self._level) / dscale
        z_slow = (x - self._slow) / scale
        cpos = np.maximum(0.0, self._cpos + np.clip(z_slow, -cfg.clip, cfg.clip) - cfg.drift)
        cneg = np.maximum(0.0, self._cneg - np.clip(z_slow, -cfg.clip, cfg.clip) - cfg.drift)
        return z_fast, z_slow, np.maximum(cpos, cneg)

    def _score(self, x: np.ndarray) -> np.ndarray:
        """Anomaly score in [0, 1] of ``x`` given the state (no learning)."""
        cfg = self.config
        z_fast, _, cusum = self._stats(x)
        z = np.maximum(np.abs(z_fast), cusum * cfg.cusum_gain)
        surprise = -norm.logsf(z) / np.log(10.0) - np.log10(2.0)
        surprise = np.maximum(surprise, 0.0)
        score = surprise / (surprise + cfg.half)
        score = np.where(self._quiet > 0, score * cfg.damp, score)
        return np.where(self._n >= cfg.warmup, score, 0.0)

    def _learn(self, x: np.ndarray, seen: np.ndarray, scores: np.ndarray) -> None:
        """Update baselines, scales and CUSUM of the series that had a value."""
        cfg = self.config
        first = seen & (self._n == 0)
        xs = np.where(seen, x, 0.0)
        z_fast, z_slow, _ = self._stats(xs)
        self._update_cusum(z_slow, seen)
        alpha_s = np.maximum(cfg.slow, 1.0 / (self._since + 1.0))
        clip_x = self._slow + np.clip(z_slow, -cfg.clip, cfg.clip) * self._scale
        clip_x = np.where(self._since < 10, xs, clip_x)
        dev = np.abs(clip_x - self._slow)
        ddev = np.abs(np.clip(z_fast, -cfg.clip, cfg.clip) * self._dscale)
        ddev = np.where(self._n < 3, np.abs(xs - self._level), ddev)
        upd = seen & ~first
        alpha_v = np.maximum(cfg.slow, 1.0 / (self._n + 1.0))
        self._scale = np.where(upd, self._scale + alpha_v * (dev - self._scale), self._scale)
        self._dscale = np.where(upd, self._dscale + alpha_v * (ddev - self._dscale),
                                self._dscale)
        self._slow = np.where(seen, self._slow + alpha_s * (clip_x - self._slow), self._slow)
        self._level = np.where(upd, self._level + cfg.fast * (xs - self._level), self._level)
        self._level = np.where(first, xs, self._level)
        self._n = self._n + seen
        self._since = self._since + seen
        self._refractory(seen, scores, xs)

    def _update_cusum(self, z_slow: np.ndarray, seen: np.ndarray) -> None:
        """Two-sided CUSUM (Page 1954) on the clipped slow residual."""
        cfg = self.config
        z = np.clip(z_slow, -cfg.clip, cfg.clip)
        self._cpos = np.where(seen, np.maximum(0.0, self._cpos + z - cfg.drift), self._cpos)
        self._cneg = np.where(seen, np.maximum(0.0, self._cneg - z - cfg.drift), self._cneg)

    def _refractory(self, seen: np.ndarray, scores: np.ndarray, x: np.ndarray) -> None:
        """After an alert: damp scores for a while and restart baselines at the new level."""
        cfg = self.config
        alert = seen & (scores >= cfg.alert) & (self._quiet <= 0)
        self._quiet = np.where(seen, np.maximum(self._quiet - 1, 0), self._quiet)
        self._quiet = np.where(alert, float(cfg.refractory), self._quiet)
        self._since = np.where(alert, 0.0, self._since)
        self._cpos = np.where(alert, 0.0, self._cpos)
        self._cneg = np.where(alert, 0.0, self._cneg)

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
