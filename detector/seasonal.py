"""Seasonal count baseline: hour-of-day and hour-of-week profiles times a slowly moving level.

expected(t) = level * factor(t), where factor blends an hour-of-day profile (useful after one
day) with an hour-of-week profile (weight grows as that weekly slot gathers history), both
linearly interpolated between hourly slot centres. The level is an EWMA of the
deseasonalised counts, so it follows growth; profiles are EWMAs of ``count / level``. This is
the multiplicative Holt-Winters idea (Winters 1960) in O(1) per bucket with per-slot learning.
New services start from a conservative prior level with a pseudo-count. Learning is masked by
the caller (protection during incidents) and counts are clipped to an upper bound.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detector.columns import Field, VectorModel, clip

HOURS_DAY = 24
HOURS_WEEK = 168
_MONDAY_OFFSET_H = 72  # 1970-01-01 was a Thursday: shift so slot 0 is Monday 00:00 UTC


@dataclass(frozen=True)
class SeasonalConfig:
    """Hyperparameters of `SeasonalBaseline` (rates are per bucket)."""

    prior_level: float = 5.0  # conservative prior count per bucket for a new service
    prior_weight: float = 30.0  # buckets over which the prior fades (floor on the expectation)
    profile_after: float = 30.0  # buckets of level history before profiles start learning
    level_alpha: float = 1.0 / 360.0  # slowest level step (about six hours of buckets)
    slot_alpha: float = 0.02  # slowest hour-of-day step
    week_alpha: float = 0.05  # slowest hour-of-week step
    slot_prior: float = 10.0  # pseudo-buckets of factor 1 behind each profile slot
    week_trust: float = 60.0  # weekly slot weight = n / (n + week_trust)
    shadow_alpha: float = 0.05  # EWMA of the level seen during an incident (new normal)


def _interp(t: float, period_h: int, offset_h: int = 0) -> tuple[int, int, float]:
    """Neighbouring slot indices and the weight of the second for event time ``t``."""
    pos = ((t / 3600.0 + offset_h) % period_h) - 0.5
    lo = int(np.floor(pos))
    w = pos - lo
    return lo % period_h, (lo + 1) % period_h, float(w)


class SeasonalBaseline(VectorModel):
    """Per-service seasonal expectation of counts per bucket, vectorised over services.

    >>> b = SeasonalBaseline(); b.grow(2)
    >>> for i in range(600):
    ...     b.learn(60.0 * i, np.array([10.0, 0.5]), np.ones(2, bool))
    >>> np.round(b.expected(36000.0), 2).tolist()
    [10.0, 0.5]
    """

    FIELDS = {
        "level": Field("f8", 0.0),
        "level_n": Field("f8", 0.0),
        "hod": Field("f4", 1.0, rows=HOURS_DAY),
        "hod_n": Field("f4", 0.0, rows=HOURS_DAY),
        "how": Field("f4", 1.0, rows=HOURS_WEEK),
        "how_n": Field("f4", 0.0, rows=HOURS_WEEK),
        "shadow": Field("f8", 0.0),
    }

    def __init__(self, config: SeasonalConfig | None = None) -> None:
        self.config = config or SeasonalConfig()
        super().__init__()
        self._hour = -1  # last hour-of-day learned: profiles are renormalised on each new hour

    def factor(self, t: float) -> np.ndarray:
        """Seasonal factor of every service at event time ``t``."""
        c = self.cols
        d0, d1, dw = _interp(t, HOURS_DAY)
        w0, w1, ww = _interp(t, HOURS_WEEK, _MONDAY_OFFSET_H)
        day = (1 - dw) * c["hod"][d0] + dw * c["hod"][d1]
        week = (1 - ww) * c["how"][w0] + ww * c["how"][w1]
        n_week = (1 - ww) * c["how_n"][w0] + ww * c["how_n"][w1]
        trust = n_week / (n_week + self.config.week_trust)
        return np.maximum((1 - trust) * day + trust * week, 1e-3).astype(np.float64)

    def expected(self, t: float) -> np.ndarray:
        """Expected count per full bucket at event time ``t`` (bucket mid-point is best)."""
        return self.cols["level"] * self.factor(t)

    def young(self, buckets: float) -> np.ndarray:
        """Services with fewer than ``buckets`` learned buckets (nothing to protect yet)."""
        return self.cols["level_n"] < buckets

    def prior_floor(self) -> np.ndarray:
        """Conservative floor for young services: the prior level, fading with history."""
        cfg = self.config
        return cfg.prior_level * cfg.prior_weight / (cfg.prior_weight + self.cols["level_n"])

    def learn(self, t: float, x: np.ndarray, mask: np.ndarray,
              f: np.ndarray | None = None) -> None:
        """Learn counts ``x`` of the bucket at ``t`` where ``mask`` (clipped by the caller).

        ``f`` is `factor(t)` when the caller already has it.
        """
        c, cfg = self.cols, self.config
        f = self.factor(t) if f is None else f
        self._renormalise(t)
        level = c["level"]
        a = np.where(mask, np.maximum(1.0 / (c["level_n"] + 1.0), cfg.level_alpha), 0.0)
        level += a * (x / f - level)
        np.add(c["level_n"], mask, out=c["level_n"])  # += 1 where mask (bool as 0/1)
        ratio = (x / np.maximum(level, 1e-9)).astype(np.float32)  # profiles are float32
        mask = (mask & (c["level_n"] >= cfg.profile_after)).astype(np.float32)
        self._learn_profile("hod", "hod_n", _interp(t, HOURS_DAY), ratio, mask, cfg.slot_alpha)
        self._learn_profile("how", "how_n", _interp(t, HOURS_WEEK, _MONDAY_OFFSET_H), ratio,
                            mask, cfg.week_alpha)

    def _learn_profile(self, name: str, count: str, slots: tuple[int, int, float],
                       ratio: np.ndarray, mask: np.ndarray, floor: float) -> None:
        """Move the two neighbouring slots towards ``ratio`` in proportion to their weight.

        ``ratio`` and ``mask`` (0/1) are float32 like the profiles, to avoid conversions. Both
        slots are updated as one (2, n) block: a view of adjacent rows, a copy at the wrap.
        """
        c = self.cols
        i0, i1, w = slots
        prof, n = c[name], c[count]
        rows = slice(i0, i0 + 2) if i1 == i0 + 1 else [i0, i1]
        p2, n2 = prof[rows], n[rows]
        wcol = np.array([[1 - w], [w]], dtype=np.float32)
        cur = wcol[0] * p2[0] + wcol[1] * p2[1]
        err = clip(ratio - cur, -50.0, 50.0) * mask
        a = np.maximum(np.float32(1.0) / (n2 + np.float32(self.config.slot_prior)),
                       np.float32(floor)) * wcol
        p2 += a * err
        n2 += wcol * mask
        np.maximum(p2, 1e-3, out=p2)
        if not isinstance(rows, slice):  # fancy indexing copied: write the two rows back
            prof[rows], n[rows] = p2, n2

    def _renormalise(self, t: float) -> None:
        """Keep the hour-of-day profile at mean 1 (scale lives in the level).

        Done when a new six-hour period starts (``_hour`` holds its first hour), in place.
        """
        hour = int(t // 21600) * 6
        if hour == self._hour:
            return
        self._hour = hour
        c = self.cols
        m = c["hod"].mean(axis=0, dtype=np.float64)
        level, hod, how = c["level"], c["hod"], c["how"]
        np.multiply(level, m, out=level)
        inv = (1.0 / m).astype(np.float32)
        np.multiply(hod, inv, out=hod)
        np.multiply(how, inv, out=how)

    def export(self, prefix: str) -> dict[str, np.ndarray]:
        out = super().export(prefix)
        out[prefix + "_hour"] = np.array(self._hour, dtype=np.int64)
        return out

    def load(self, arrays, prefix: str, n: int) -> None:  # type: ignore[override]
        super().load(arrays, prefix, n)
        self._hour = int(arrays[prefix + "_hour"])

    def track_shadow(self, t: float, x: np.ndarray, mask: np.ndarray,
                     f: np.ndarray | None = None) -> None:
        """EWMA of the deseasonalised level while an incident holds (``mask``)."""
        sh = self.cols["shadow"]
        idx = np.flatnonzero(mask | (sh != 0))
        if idx.size == 0:
            return
        m, s = mask[idx], sh[idx]
        s = np.where(m & (s <= 0), self.cols["level"][idx], s)
        fi = (self.factor(t) if f is None else f)[idx]
        s = np.where(m, s + self.config.shadow_alpha * (x[idx] / fi - s), 0.0)
        sh[idx] = s

    def accept_new_normal(self, idx: np.ndarray) -> None:
        """Adopt the level seen during a confirmed persistent shift for services ``idx``."""
        c = self.cols
        c["level"][idx] = np.maximum(c["shadow"][idx], 1e-6)
        c["shadow"][idx] = 0.0
