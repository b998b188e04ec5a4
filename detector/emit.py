"""What the bank shows: a step's transitions (its only Python loop, over the few movers)
and the per-service status view.

A mixin of `DetectorBank`: it reads the bank's names, incident columns, latest values,
dispersion, upper band and related-incident tracker.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from detector.explain import Facts, make_transition
from detector.fusion import Evidence, signal_names
from detector.incidents import CONFIRMED, STATE_NAMES, Moves, incident_id
from detector.types import BucketContext, ServiceStatus, Status, Transition


class TransitionsMixin:
    """`_emit` / `_transition` / `status` of `DetectorBank` (see the module docstring)."""

    def _emit(self, moves: Moves, ev: Evidence, x: np.ndarray, mu: np.ndarray, t: float,
              context: Mapping[str, BucketContext]) -> list[Transition]:
        """Build the transitions of this step (Python loop over the few movers only)."""
        out: list[Transition] = []
        if not (moves.opened.size or moves.updated.size or moves.resolved.size):
            return out
        movers = np.concatenate([moves.opened, moves.updated, moves.resolved])
        k = self._counts.dispersion()[movers]
        upper = dict(zip(movers.tolist(), self._upper(mu[movers], k).tolist(), strict=True))
        kinds: list[tuple[Status, np.ndarray]] = [
            ("open", moves.opened), ("update", moves.updated), ("resolved", moves.resolved)]
        for status, idx in kinds:
            for i in idx.tolist():
                out.append(self._transition(i, status, ev, x, mu, upper[i], t, context))
        self._inc.clear(moves.resolved)
        return out

    def _transition(self, i: int, status: Status, ev: Evidence, x: np.ndarray, mu: np.ndarray,
                    upper: float, t: float, context: Mapping[str, BucketContext]) -> Transition:
        name, c = self._names[i], self._inc.cols
        started = float(c["started"][i])
        iid = incident_id(name, started)
        if status == "open":
            related = self._related.opened(name, iid, t)
        else:
            related = self._related.related(iid)
        mask = int(ev.signals[i]) if status != "resolved" else int(c["signals"][i])
        state = "resolved" if status == "resolved" else STATE_NAMES[int(c["state"][i])]
        if status == "resolved":
            self._related.closed(iid)
        facts = Facts(started, t, float(x[i]), float(mu[i]), float(upper), float(ev.score[i]),
                      float(ev.p_value[i]), signal_names(mask), state)
        return make_transition(iid, name, status, facts, context.get(name), related)

    def status(self) -> list[ServiceStatus]:
        """Latest observed / expected / band / score / state of every service."""
        lt, c = self._latest.cols, self._inc.cols
        upper = self._upper(lt["mu"], self._counts.dispersion())
        out = []
        for i, name in enumerate(self._names):
            st = int(c["state"][i])
            iid = incident_id(name, float(c["started"][i])) if st >= CONFIRMED else None
            out.append(ServiceStatus(name, float(lt["t"][i]), float(lt["obs"][i]),
                                     float(lt["mu"][i]), float(upper[i]), float(lt["score"][i]),
                                     STATE_NAMES[st], iid))
        return out
