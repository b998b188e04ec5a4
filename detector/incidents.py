"""Incident state machine for every service at once: possible -> confirmed -> recovering -> ok.

* ok -> possible: one signal moderately abnormal (silent; the baseline stops learning).
* ok/possible -> confirmed ("open"): hot evidence (strong single signal, or two moderate).
* confirmed -> recovering: a full bucket with no signal above the calm level.
* recovering -> confirmed ("update"): moderate evidence again; escalation (observed at least
  doubles since the last alert) also emits an "update".
* recovering -> ok ("resolved"): ``calm_buckets`` calm full buckets in a row (hysteresis).
* confirmed for ``accept_buckets`` full buckets: a persistent shift, the new normal is
  accepted and the incident resolved.
Onset is the start of the first abnormal bucket (or the CUSUM onset when earlier). Only
full buckets move towards resolution; partial buckets can only open or escalate.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from detector.columns import Field, VectorModel
from detector.fusion import Evidence

OK, POSSIBLE, CONFIRMED, RECOVERING = 0, 1, 2, 3
STATE_NAMES = ("ok", "possible", "confirmed", "recovering")


@dataclass(frozen=True)
class IncidentConfig:
    """Hysteresis of the state machine, in full buckets."""

    calm_buckets: int = 5
    accept_buckets: int = 360  # six hours of a confirmed shift: accept it as the new normal
    escalation: float = 2.0


@dataclass(frozen=True)
class Moves:
    """Indices of services per emitted transition kind (and accepted new normals)."""

    opened: np.ndarray
    updated: np.ndarray
    resolved: np.ndarray
    accepted: np.ndarray


def incident_id(service: str, started_at: float) -> str:
    """Deterministic incident id from the service and the onset event time.

    >>> incident_id("chatgpt", 1770148800.0)
    '411c7c478a8f87c3'
    """
    return hashlib.sha1(f"{service}|{started_at:.0f}".encode()).hexdigest()[:16]


class IncidentMachine(VectorModel):
    """Vectorised per-service incident states with onset, peak and alert bookkeeping.

    >>> import numpy as np
    >>> from detector.fusion import fuse
    >>> m = IncidentMachine(); m.grow(1)
    >>> hot = fuse(np.array([1e-9]), np.zeros(1), np.ones(1))
    >>> mv = m.advance(hot, np.array([500.0]), 0.0, 60.0, np.array([np.nan]), full=True)
    >>> mv.opened.tolist(), m.state_names()
    ([0], ['confirmed'])
    """

    FIELDS = {
        "state": Field("i1", OK), "started": Field("f8", np.nan), "detected": Field("f8", np.nan),
        "calm": Field("i4", 0), "age": Field("i4", 0), "alert_obs": Field("f8", 0.0),
        "peak": Field("f8", 0.0), "signals": Field("i8", 0),
    }

    def __init__(self, config: IncidentConfig | None = None) -> None:
        self.config = config or IncidentConfig()
        super().__init__()

    def state_names(self) -> list[str]:
        return [STATE_NAMES[s] for s in self.cols["state"]]

    def in_incident(self) -> np.ndarray:
        """Services whose baselines must not learn (anything but ok)."""
        return self.cols["state"] != OK

    def live(self) -> np.ndarray:
        """Services with a confirmed or recovering incident."""
        return self.cols["state"] >= CONFIRMED

    def advance(self, ev: Evidence, x: np.ndarray, t_start: float, t_end: float,
                onset: np.ndarray, *, full: bool) -> Moves:
        """Apply one bucket's evidence; return who opened, updated, resolved or shifted.

        ``x`` is the count rate per full bucket (a partial count divided by its fraction), so
        that escalation compares like with like.
        """
        c = self.cols
        st = c["state"].copy()
        was_live = st >= CONFIRMED
        any_live = bool(was_live.any())  # usually False: then only opens and possibles move
        opened = self._open(st, ev, x, t_start, t_end, onset)
        updated = resolved = accepted = np.zeros(0, np.int64)
        if any_live:
            updated = self._escalate(st, ev, x)
        if full:
            resolved, accepted = self._settle(st, ev, was_live, any_live)
        fresh = np.flatnonzero((st == OK) & ev.moderate & ~ev.hot)
        if fresh.size:
            c["state"][fresh] = POSSIBLE
            c["started"][fresh] = np.fmin(onset[fresh], t_start)
        live = np.flatnonzero(c["state"] >= CONFIRMED) if any_live or opened.size else opened
        if live.size:
            c["peak"][live] = np.maximum(c["peak"][live], x[live])
            c["signals"][live] |= ev.signals[live]
        return Moves(opened, updated, resolved, accepted)

    def advance_at(self, idx: np.ndarray, ev: Evidence, x: np.ndarray, t_start: float,
                   t_end: float, onset: np.ndarray, *, full: bool) -> Moves:
        """`advance` for services ``idx`` (sorted) only, with their evidence, counts and onsets.

        Exact when every other service is ok and neither hot nor moderate: `advance` would not
        move them. Their columns are gathered, advanced and written back.
        """
        whole = self.cols
        part = {k: whole[k][idx] for k in self.FIELDS}  # gathered copies, used like `cols`
        self.cols = part  # type: ignore[assignment]
        try:
            mv = self.advance(ev, x, t_start, t_end, onset, full=full)
        finally:
            self.cols = whole
        for k in self.FIELDS:
            whole[k][idx] = part[k]
        return Moves(idx[mv.opened], idx[mv.updated], idx[mv.resolved], idx[mv.accepted])

    def _open(self, st: np.ndarray, ev: Evidence, x: np.ndarray, t_start: float,
              t_end: float, onset: np.ndarray) -> np.ndarray:
        c = self.cols
        idx = np.flatnonzero((st <= POSSIBLE) & ev.hot)
        if idx.size == 0:
            return idx
        earlier = np.where(st[idx] == POSSIBLE, c["started"][idx], t_start)
        c["started"][idx] = np.fmin(np.fmin(earlier, onset[idx]), t_start)
        c["detected"][idx] = t_end
        c["state"][idx] = CONFIRMED
        c["calm"][idx] = 0
        c["age"][idx] = 0
        c["alert_obs"][idx] = x[idx]
        c["peak"][idx] = x[idx]
        c["signals"][idx] = 0
        return idx

    def _escalate(self, st: np.ndarray, ev: Evidence, x: np.ndarray) -> np.ndarray:
        c = self.cols
        back = (st == RECOVERING) & ev.moderate
        more = (st == CONFIRMED) & (x >= self.config.escalation * np.maximum(c["alert_obs"], 1))
        idx = np.flatnonzero(back | (more & ev.hot))
        if idx.size == 0:
            return idx
        c["state"][idx] = CONFIRMED
        c["calm"][idx] = 0
        c["alert_obs"][idx] = x[idx]
        return idx

    def _settle(self, st: np.ndarray, ev: Evidence, live: np.ndarray,
                any_live: bool) -> tuple[np.ndarray, np.ndarray]:
        """Full-bucket moves towards resolution; ``live`` is ``st >= CONFIRMED``."""
        c, cfg = self.cols, self.config
        quiet = (st == POSSIBLE) & ~ev.moderate & ~ev.hot
        if not any_live:  # nothing confirmed or recovering: only possible -> ok can happen
            c["state"][quiet] = OK
            none = np.zeros(0, np.int64)
            return none, none
        c["age"][live] += 1
        c["calm"][live & ~ev.active] += 1
        c["calm"][live & ev.active] = 0
        c["state"][(st == CONFIRMED) & ~ev.active] = RECOVERING
        c["state"][quiet] = OK
        old = live & (c["state"] == CONFIRMED) & (c["age"] >= cfg.accept_buckets)
        accepted = old.nonzero()[0]
        resolved = ((live & (c["calm"] >= cfg.calm_buckets)) | old).nonzero()[0]  # sorted
        c["state"][resolved] = OK
        c["calm"][resolved] = 0
        return resolved, accepted

    def clear(self, idx: np.ndarray) -> None:
        """Forget the incident bookkeeping of resolved services (after their transitions)."""
        c = self.cols
        for k in ("started", "detected"):
            c[k][idx] = np.nan
        c["age"][idx] = 0
        c["peak"][idx] = 0.0
        c["signals"][idx] = 0
