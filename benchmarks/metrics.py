"""Event-detection metrics: detection delay, recall and false alarms per service-day.

Truth windows are anything with `service`, `onset` and `end` (e.g. `detector.generators.Outage`);
alarms are `detector.Transition` objects or DESIGN.md alert dicts, of which only status
"open" counts. An open matches the latest-starting window of its service that contains its
`detected_at` (from `onset - early` to `end + late`); its delay is `detected_at - onset`.
An open that matches no window is a false alarm; further opens inside an already detected
window are re-opens, counted apart. Opens before `since` (warm-up) are ignored. The margins
follow the windowed scoring of the Numenta Anomaly Benchmark (Lavin & Ahmad 2015), with
the delay reported as such instead of a sigmoid score.

>>> from detector.generators import Outage
>>> truth = [Outage("a", onset=100.0, end=400.0, peak=9.0)]
>>> alarms = [{"service": "a", "status": "open", "detected_at": 160.0},
...           {"service": "b", "status": "open", "detected_at": 50.0}]
>>> s = score(truth, alarms, service_days=2.0)
>>> s.delays, s.misses, s.false_alarms, s.false_alarms_per_service_day
([60.0], 0, 1, 0.5)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Score:
    """Outcome of matching alarms against truth windows."""

    delays: list[float]
    misses: int
    false_alarms: int
    reopens: int
    service_days: float
    missed: list[Any] = field(default_factory=list, repr=False)
    false: list[Any] = field(default_factory=list, repr=False)

    @property
    def outages(self) -> int:
        return len(self.delays) + self.misses

    @property
    def recall(self) -> float:
        """Share of truth windows detected (NaN when there are none)."""
        return len(self.delays) / self.outages if self.outages else float("nan")

    @property
    def false_alarms_per_service_day(self) -> float:
        return self.false_alarms / self.service_days if self.service_days else float("nan")

    def delay_stats(self) -> dict[str, float]:
        """Median, 90th percentile and maximum delay in seconds (NaN when none)."""
        if not self.delays:
            return {"median": float("nan"), "p90": float("nan"), "max": float("nan")}
        d = np.asarray(self.delays)
        return {"median": float(np.median(d)), "p90": float(np.percentile(d, 90)),
                "max": float(d.max())}

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {"outages": self.outages, "detected": len(self.delays), "misses": self.misses,
                "recall": self.recall, "delay_seconds": self.delay_stats(),
                "false_alarms": self.false_alarms, "reopens": self.reopens,
                "service_days": self.service_days,
                "false_alarms_per_service_day": self.false_alarms_per_service_day}


def _get(obj: Any, key: str) -> Any:
    """Attribute or key access, so Transitions and alert dicts both work."""
    return obj[key] if isinstance(obj, dict) else getattr(obj, key)


def opens(alarms: Iterable[Any], since: float = float("-inf")) -> list[Any]:
    """The "open" alarms detected at or after `since`, in detection order."""
    kept = [a for a in alarms if _get(a, "status") == "open" and _get(a, "detected_at") >= since]
    return sorted(kept, key=lambda a: float(_get(a, "detected_at")))


def _window_of(alarm: Any, truth: Sequence[Any], early: float, late: float) -> int | None:
    """Index of the latest-starting truth window of the alarm's service that contains it."""
    t = float(_get(alarm, "detected_at"))
    hits = [k for k, w in enumerate(truth)
            if w.service == _get(alarm, "service") and w.onset - early <= t < w.end + late]
    return max(hits, key=lambda k: truth[k].onset) if hits else None


def score(truth: Sequence[Any], alarms: Iterable[Any], *, service_days: float,
          since: float = float("-inf"), early: float = 0.0, late: float = 600.0) -> Score:
    """Match alarms to truth windows; see the module docstring for the rules."""
    first: dict[int, float] = {}
    false, reopens = [], 0
    for alarm in opens(alarms, since):
        k = _window_of(alarm, truth, early, late)
        if k is None:
            false.append(alarm)
        elif k in first:
            reopens += 1
        else:
            first[k] = float(_get(alarm, "detected_at")) - truth[k].onset
    delays = [first[k] for k in sorted(first)]
    missed = [w for k, w in enumerate(truth) if k not in first]
    return Score(delays, len(missed), len(false), reopens, service_days, missed, false)
