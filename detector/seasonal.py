"""Seasonal count baseline: hour-of-day and hour-of-week profiles times a slowly moving level.

expected(t) = level * factor(t), where factor blends an hour-of-day profile (useful after one
day) with an hour-of-week profile (weight grows as that weekly slot gathers history), both
linearly interpolated between hourly slot centres. The level is an EWMA of the
deseasonalised counts, so it follows growth; profiles are EWMAs of ``count / level``. This is
the multiplicative Holt-Winters idea (Winters 1960) in O(1) per bucket with per-slot learning.
New services start from a conservative prior level with a pseudo-count. Learning is masked by
the caller (protection during incidents) and counts are clipped to an upper bound.

Both profiles live in one (192, n) float32 block (hour of day in rows 0-23, hour of week in
rows 24-191) with their counts in another, so that the four slots around a time are gathered
once per step (`Slots`) and serve scoring and learning, updated by a handful of whole-block
operations. Snapshots keep the per-profile names (``hod``, ``how``, ...).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from detector.columns import Field, VectorModel, clip
from detector.errors import SnapshotError

HOURS_DAY = 24
HOURS_WEEK = 168
_MONDAY_OFFSET_H = 72  # 1970-01-01 was a Thursday: shift so slot 0 is Monday 00:00 UTC
_ROWS = HOURS_DAY + HOURS_WEEK
# snapshot name -> (block, first row, end row); snapshot order as before the blocks existed
_SAVED = {"level": None, "level_n": None, "hod": ("prof", 0, HOURS_DAY),
          "hod_n": ("prof_n", 0, HOURS_DAY), "how": ("prof", HOURS_DAY, _ROWS),
          "how_n": ("prof_n", HOURS_DAY, _ROWS), "shadow": None}


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
    lo = math.floor(pos)
    w = pos - lo
    return lo % period_h, (lo + 1) % period_h, float(w)


class Slots(NamedTuple):  # (a tuple: built once per step, ~1 us cheaper than a dataclass)
    """The four profile slots around event time ``t`` for every service, gathered once.

    Rows are (day lo, day hi, week lo, week hi) with interpolation weights ``w`` (4, 1);
    ``p`` and ``n`` are copies of those profile / count rows (the halves of one (8, n) block
    ``pn``, weighted and summed in pairs by one operation each), ``cur`` the interpolated day
    and week profiles (2, n) and ``f`` the seasonal factor (read-only). Valid while the model's
    ``version`` is unchanged; learning consumes (updates) ``p`` and ``n``, which then hold the
    learned rows, so the next slots on the same rows start from them instead of gathering.
    """

    t: float
    version: int
    key: tuple[int, int]  # (day lo, week lo): the rows follow from it
    rows: np.ndarray  # intp: fancy indexing with an array is cheaper than with a list
    w: np.ndarray
    pn: np.ndarray
    p: np.ndarray
    n: np.ndarray
    cur: np.ndarray
    f: np.ndarray


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
        "prof": Field("f4", 1.0, rows=_ROWS),
        "prof_n": Field("f4", 0.0, rows=_ROWS),
        "shadow": Field("f8", 0.0),
    }

    def __init__(self, config: SeasonalConfig | None = None) -> None:
        self.config = cfg = config or SeasonalConfig()
        super().__init__()
        self._hour = -1  # last hour-of-day learned: profiles are renormalised on each new hour
        self._version = 0  # bumped whenever the state changes (invalidates `Slots`, `_mu`)
        self._slots: Slots | None = None
        self._rows: tuple[int, tuple[int, int], np.ndarray, np.ndarray] | None = None
        self._mu: tuple[float, int, np.ndarray] | None = None  # `floored`'s last answer
        self._floors = np.array([[cfg.slot_alpha]] * 2 + [[cfg.week_alpha]] * 2, np.float32)
        self._one, self._slot_prior = np.float32(1.0), np.float32(cfg.slot_prior)

    def grow(self, n: int) -> None:
        super().grow(n)
        self._version += 1

    def slots(self, t: float) -> Slots:
        """The profile slots and seasonal factor at event time ``t`` (cached until learning)."""
        s, version = self._slots, self._version
        if s is not None and s.t == t and s.version == version:
            return s
        d0, d1, dw = _interp(t, HOURS_DAY)
        w0, w1, ww = _interp(t, HOURS_WEEK, _MONDAY_OFFSET_H)
        key = (d0, w0)
        known = self._rows  # rows gathered (or just learned) at some version
        if known is not None and known[0] == version and known[1] == key:
            rows, pn = known[2:]  # the state did not change since: the same values
        else:
            c = self.cols
            rows = np.array((d0, d1, HOURS_DAY + w0, HOURS_DAY + w1), np.intp)
            pn = np.concatenate((c["prof"].take(rows, axis=0), c["prof_n"].take(rows, axis=0)))
            self._rows = (version, key, rows, pn)
        w = np.array(((1 - dw,), (dw,), (1 - ww,), (ww,)) * 2, dtype=np.float32)
        pnw = pn * w
        both = pnw[0::2] + pnw[1::2]  # interpolated day and week profiles, then counts
        cur, n_week = both[:2], both[3]
        trust = n_week / (n_week + self.config.week_trust)
        f = np.maximum((1 - trust) * cur[0] + trust * cur[1], 1e-3).astype(np.float64)
        f.flags.writeable = False
        self._slots = Slots(t, version, key, rows, w[:4], pn, pn[:4], pn[4:], cur, f)
        return self._slots

    def factor(self, t: float) -> np.ndarray:
        """Seasonal factor of every service at event time ``t`` (read-only array)."""
        return self.slots(t).f

    def expected(self, t: float) -> np.ndarray:
        """Expected count per full bucket at event time ``t`` (bucket mid-point is best)."""
        return self.cols["level"] * self.factor(t)

    def floored(self, t: float) -> np.ndarray:
        """`expected` raised to `prior_floor` (read-only): what the bank scores against.

        Cached until the state changes: the band for the next bucket and that bucket's step
        ask for the same time with nothing learned in between.
        """
        got = self._mu
        if got is not None and got[0] == t and got[1] == self._version:
            return got[2]
        mu = np.maximum(self.cols["level"] * self.factor(t), self.prior_floor())
        mu.flags.writeable = False
        self._mu = (t, self._version, mu)
        return mu

    def young(self, buckets: float) -> np.ndarray:
        """Services with fewer than ``buckets`` learned buckets (nothing to protect yet)."""
        return self.cols["level_n"] < buckets

    def prior_floor(self) -> np.ndarray:
        """Conservative floor for young services: the prior level, fading with history."""
        cfg = self.config
        return cfg.prior_level * cfg.prior_weight / (cfg.prior_weight + self.cols["level_n"])

    def learn(self, t: float, x: np.ndarray, mask: np.ndarray | None,
              f: np.ndarray | None = None) -> None:
        """Learn counts ``x`` of the bucket at ``t`` where ``mask`` (None: every service).

        Counts are clipped by the caller; ``f`` is `factor(t)` when the caller already has it.
        """
        c, cfg = self.cols, self.config
        f = self.factor(t) if f is None else f
        if self._renormalise(t):
            self._slots = None
        level, level_n = c["level"], c["level_n"]
        # min(n + 1) is min(n) + 1 (rounding is monotone): one reduction serves both tests
        low = np.minimum.reduce(level_n) if mask is None and level_n.size else None
        a = self._rate(level_n, cfg.level_alpha, mask, low)
        level += a * (x / f - level)
        if mask is None:
            level_n += 1.0
        else:
            np.add(level_n, mask, out=level_n)  # += 1 where mask (bool as 0/1)
        ratio = (x / np.maximum(level, 1e-9)).astype(np.float32)  # profiles are float32
        if mask is None and (low is None or low + 1.0 >= cfg.profile_after):
            pmask = None  # every service learns its profiles: multiplying by 1 is skipped
        else:
            every = True if mask is None else mask
            pmask = (every & (level_n >= cfg.profile_after)).astype(np.float32)
        self._learn_profiles(self.slots(t), ratio, pmask)

    @staticmethod
    def _rate(n: np.ndarray, floor: float, mask: np.ndarray | None,
              low: float | None = None) -> np.ndarray | float:
        """Step max(1 / (n + 1), floor) where ``mask`` (else 0); a scalar once all are old.

        ``low`` is min(n) when the caller has it (None: n is empty or ``mask`` is given).
        """
        if mask is None:
            if low is not None and 1.0 / (low + 1.0) <= floor:
                return floor
            return np.maximum(1.0 / (n + 1.0), floor)
        return np.where(mask, np.maximum(1.0 / (n + 1.0), floor), 0.0)

    def _learn_profiles(self, s: Slots, ratio: np.ndarray, pmask: np.ndarray | None) -> None:
        """Move the four slots of ``s`` towards ``ratio`` in proportion to their weights.

        Day and week slots are one (4, n) block: each update is one operation on the block.
        """
        c = self.cols
        err = clip(ratio - s.cur, -50.0, 50.0)  # (2, n): day, week
        if pmask is not None:
            err *= pmask
        a = np.maximum(self._one / (s.n + self._slot_prior), self._floors) * s.w
        p, n = s.p, s.n  # copies of the rows: updated in place, then written back
        k = p.shape[1]
        p.reshape(2, 2, k)[...] += a.reshape(2, 2, k) * err[:, None, :]
        n += s.w if pmask is None else s.w * pmask
        np.maximum(p, 1e-3, out=p)
        c["prof"][s.rows] = p
        c["prof_n"][s.rows] = n
        self._version += 1
        self._rows = (self._version, s.key, s.rows, s.pn)  # equal to the rows just written

    def _renormalise(self, t: float) -> bool:
        """Keep the hour-of-day profile at mean 1 (scale lives in the level).

        Done when a new six-hour period starts (``_hour`` holds its first hour), in place;
        returns whether it was done.
        """
        hour = int(t // 21600) * 6
        if hour == self._hour:
            return False
        self._hour = hour
        c = self.cols
        prof = c["prof"]
        m = prof[:HOURS_DAY].mean(axis=0, dtype=np.float64)
        np.multiply(c["level"], m, out=c["level"])
        np.multiply(prof, (1.0 / m).astype(np.float32), out=prof)  # both profiles
        self._version += 1
        return True

    def export(self, prefix: str) -> dict[str, np.ndarray]:
        c = self.cols
        out = {}
        for name, blk in _SAVED.items():
            out[prefix + name] = (c[name] if blk is None else c[blk[0]][blk[1]:blk[2]]).copy()
        out[prefix + "_hour"] = np.array(self._hour, dtype=np.int64)
        return out

    def load(self, arrays: Mapping[str, np.ndarray], prefix: str, n: int) -> None:
        """Restore an `export` (the per-profile arrays are stacked into the blocks)."""
        got = {prefix + k: arrays.get(prefix + k) for k in ("level", "level_n", "shadow")}
        for blk, (day, week) in {"prof": ("hod", "how"), "prof_n": ("hod_n", "how_n")}.items():
            d, w = arrays.get(prefix + day), arrays.get(prefix + week)
            if d is None or w is None or d.shape != (HOURS_DAY, n) or w.shape != (HOURS_WEEK, n):
                raise SnapshotError(f"column {prefix + day} / {prefix + week} missing or of "
                                    "wrong shape")
            got[prefix + blk] = np.concatenate([d, w])
        super().load(got, prefix, n)
        self._hour = int(arrays[prefix + "_hour"])
        self._version += 1

    def track_shadow(self, t: float, x: np.ndarray, mask: np.ndarray | None,
                     f: np.ndarray | None = None) -> None:
        """EWMA of the deseasonalised level while an incident holds (``mask``; None: none)."""
        sh = self.cols["shadow"]
        if mask is None:
            if not np.count_nonzero(sh):  # (cheaper than sh.any())
                return
            mask = np.zeros(sh.shape, bool)
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
        self._version += 1  # the level changed: `floored` must not answer from its cache
