"""The earlier, lighter per-series baseline of the throughput benchmark ("river-light").

Kept next to the faithful reference (`benchmarks.river_reference`) so that the speed-up
against the baseline used before is still reported: it does less work per update than the
bank (see the class docstring), so its ratio is the conservative one.
"""

from __future__ import annotations

import math

from river import drift, stats
from scipy.special import betainc


class RiverSeries:
    """Per-series equivalent of the bank's count logic, built from river objects.

    Baseline: one `EWMean` per hour-of-week slot. Test: NB2 dispersion from two `EWMean`
    moments, a normal z prefilter, minimum-count/ratio gates, then the exact NB upper tail
    (`scipy.special.betainc`, the cheapest exact scalar call) like `detector.counts`. Changepoint:
    `PageHinkley` on the standardised residual. Scores before learning; freezes in alarm.
    """

    def __init__(self) -> None:
        self.slots: dict[int, stats.EWMean] = {}
        self.k_num, self.k_den = stats.EWMean(fading_factor=0.01), stats.EWMean(0.01)
        self.cusum = drift.PageHinkley(min_instances=30, delta=0.5, threshold=25.0)

    def step(self, hour_of_week: int, x: float) -> bool:
        """Score the bucket against the baseline, then learn it; True when it alarms."""
        slot = self.slots.get(hour_of_week)
        if slot is None:  # first visit of this hour of the week: no expectation yet
            slot = self.slots[hour_of_week] = stats.EWMean(fading_factor=0.05)
            slot.update(x)
        mu = slot.get()
        k = min(max(self.k_num.get() / self.k_den.get(), 0.01), 5.0) if self.k_den.get() else 0.5
        z = (x - mu) / math.sqrt(mu + k * mu * mu + 1e-12)
        p = 1.0
        if z > 3.0 and x >= 10.0 and x >= 2.0 * mu:
            p = float(betainc(math.ceil(x), 1.0 / k, mu / (1.0 / k + mu)))  # NB P(X >= x)
        self.cusum.update(z)
        alarm = p < 1e-6 or self.cusum.drift_detected
        if not alarm:
            slot.update(x)
            self.k_num.update((x - mu) ** 2 - mu)
            self.k_den.update(mu * mu)
        return alarm
