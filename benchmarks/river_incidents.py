"""Fusion and the incident state machine of `detector` for ONE series, in plain Python.

Part of the throughput reference (`benchmarks.river_reference`): `fuse` is
`detector.fusion.fuse` without error rates, `IncidentSeries` is `detector.incidents` for one
series, statement by statement in the same order (river has no such state machine).
"""

from __future__ import annotations

import math

from detector.config import BankConfig

OK, POSSIBLE, CONFIRMED, RECOVERING = 0, 1, 2, 3
SPIKE, CHANGE = 1, 2
NAN = float("nan")


def _fmin(a: float, b: float) -> float:
    """``np.fmin`` on two floats: the smaller, ignoring NaN."""
    if a != a:
        return b
    if b != b:
        return a
    return a if a <= b else b


def fuse(p: float, stat: float, still: bool, fc) -> tuple[bool, bool, bool, float, int]:
    """`detector.fusion.fuse` without error rates: (hot, moderate, active, score, signals)."""
    spike_m, change_m = p < fc.p_moderate, stat >= fc.cusum_moderate
    hot = p < fc.p_strong or stat >= 1.0
    p_min = min(p, 1.0)
    if stat > 0:
        p_min = min(p_min, fc.p_strong ** min(stat, 10.0))
    score = -math.log10(max(p_min, 1e-300)) if p_min < 1.0 else 0.0
    return hot, spike_m or change_m, still, score, SPIKE * spike_m + CHANGE * change_m


def quiet_score(p: float, stat: float, fc) -> float:
    """`fuse`'s score alone, for buckets where nothing reaches a moderate level."""
    p_min = min(p, fc.p_strong ** min(stat, 10.0)) if stat > 0 else p
    return -math.log10(max(p_min, 1e-300)) if p_min < 1.0 else 0.0


class IncidentSeries:
    """The incident state of one series: possible / confirmed / recovering / ok."""

    cfg: BankConfig

    def __init__(self) -> None:
        self.state, self.started, self.detected = OK, NAN, NAN
        self.calm = self.age = self.signals = 0
        self.alert_obs = self.peak = 0.0
        self._accepted = self._resolved = False

    def _advance(self, ev: tuple, x: float, t_start: float, t_end: float, onset: float,
                 full: bool) -> list[tuple[str, float]]:
        """The incident state machine of `detector.incidents` for this series."""
        hot, moderate, _, _, signals = ev
        st, opened, updated = self.state, False, False
        self._accepted = self._resolved = False
        if st <= POSSIBLE and hot:
            earlier = self.started if st == POSSIBLE else t_start
            self.started = _fmin(_fmin(earlier, onset), t_start)
            self.detected, self.state, self.calm, self.age = t_end, CONFIRMED, 0, 0
            self.alert_obs = self.peak = x
            self.signals, opened = 0, True
        if st >= CONFIRMED:
            back = st == RECOVERING and moderate
            more = st == CONFIRMED and x >= self.cfg.incidents.escalation * max(self.alert_obs, 1)
            if back or (more and hot):
                self.state, self.calm, self.alert_obs, updated = CONFIRMED, 0, x, True
        if full:
            self._settle(st, ev)
        if self.state == OK and moderate and not hot:
            self.state, self.started = POSSIBLE, _fmin(onset, t_start)
        if self.state >= CONFIRMED:
            self.peak = max(self.peak, x)
            self.signals |= signals
        out = [(s, self.started) for s, yes in (("open", opened), ("update", updated),
                                                 ("resolved", self._resolved)) if yes]
        if self._resolved:
            self.started = self.detected = NAN
            self.age, self.peak, self.signals = 0, 0.0, 0
        return out

    def _settle(self, st: int, ev: tuple) -> None:
        """Full-bucket moves towards resolution (``st``: the state before this bucket)."""
        hot, moderate, active = ev[0], ev[1], ev[2]
        cfg = self.cfg.incidents
        if st >= CONFIRMED:
            self.age += 1
            self.calm = self.calm + 1 if not active else 0
            if st == CONFIRMED and not active:
                self.state = RECOVERING
        if st == POSSIBLE and not moderate and not hot:
            self.state = OK
        if st >= CONFIRMED:
            self._accepted = self.state == CONFIRMED and self.age >= cfg.accept_buckets
            if self.calm >= cfg.calm_buckets or self._accepted:
                self.state, self.calm, self._resolved = OK, 0, True
