"""Online changepoint detection: two-sided CUSUM on standardised residuals (Page 1954).

S+ = max(0, S+ + z - drift) and S- = max(0, S- - z - drift), per service, with z clipped so
that one huge bucket cannot trip it alone (spikes are the count test's job): CUSUM answers
level shifts and slow ramps. A gate on short EWMAs of observed and expected (minimum ratio and
minimum excess) keeps tiny apps' 0-2-per-minute noise and mild seasonal misfit from counting.
The onset of an upward change is estimated as the last time S+ left zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detector.columns import Field, VectorModel, clip


@dataclass(frozen=True)
class CusumConfig:
    """Hyperparameters of `Cusum` (z in standard deviations)."""

    drift: float = 1.0  # allowance k: shifts under one sd are not accumulated
    threshold: float = 12.0  # h: alarm when S+ exceeds it
    clip: float = 5.0  # cap on |z| per bucket
    cap: float = 40.0  # S is capped so that it comes down after long incidents
    fast_alpha: float = 0.3  # short EWMAs of observed / expected used by the gate
    min_ratio: float = 1.8
    min_excess: float = 4.0  # counts per bucket above expected, on the short EWMAs


class Cusum(VectorModel):
    """Two-sided Page CUSUM for every service in one vectorised update.

    >>> c = Cusum(); c.grow(1)
    >>> for i in range(8):
    ...     c.update(60.0 * i, np.array([3.0]), np.array([40.0]), np.array([20.0]))
    >>> float(c.cols["s_hi"][0]), bool(c.alarm()[0]), float(c.cols["onset"][0])
    (16.0, True, 0.0)
    """

    FIELDS = {
        "s_hi": Field("f8", 0.0), "s_lo": Field("f8", 0.0), "onset": Field("f8", np.nan),
        "fx": Field("f8", 0.0), "fmu": Field("f8", 0.0),
    }

    def __init__(self, config: CusumConfig | None = None) -> None:
        self.config = config or CusumConfig()
        super().__init__()

    def update(self, t_start: float, z: np.ndarray, x: np.ndarray, mu: np.ndarray,
               watch: np.ndarray | None = None) -> None:
        """Accumulate the standardised residuals ``z`` of the bucket starting at ``t_start``.

        ``watch`` (None = all) is where the statistics move; elsewhere they stay frozen.
        """
        c, cfg = self.cols, self.config
        zc = clip(z, -cfg.clip, cfg.clip)
        s_hi, s_lo, onset = c["s_hi"], c["s_lo"], c["onset"]
        was_zero = s_hi <= 0
        hi, lo = s_hi + zc, s_lo - zc
        hi -= cfg.drift
        lo -= cfg.drift
        if watch is None:  # everyone moves: clip straight into the columns
            clip(hi, 0.0, cfg.cap, out=s_hi)
            clip(lo, 0.0, cfg.cap, out=s_lo)
            a: float | np.ndarray = cfg.fast_alpha
        else:
            np.copyto(s_hi, clip(hi, 0.0, cfg.cap, out=hi), where=watch)
            np.copyto(s_lo, clip(lo, 0.0, cfg.cap, out=lo), where=watch)
            a = cfg.fast_alpha * watch
        np.copyto(onset, t_start, where=was_zero)  # S+ leaves zero: a change may start here
        np.copyto(onset, np.nan, where=s_hi <= 0)
        fx, fmu = c["fx"], c["fmu"]  # column views: updated in place
        fx += a * (x - fx)
        fmu += a * (mu - fmu)

    def gate(self) -> np.ndarray:
        """Whether the recent excess is large enough, in ratio and in counts, to matter."""
        c, cfg = self.cols, self.config
        return (c["fx"] >= cfg.min_ratio * c["fmu"]) & (c["fx"] - c["fmu"] >= cfg.min_excess)

    def stat(self) -> np.ndarray:
        """S+ relative to the threshold (1.0 = alarm level), zero where the gate is shut."""
        return np.where(self.gate(), self.cols["s_hi"] / self.config.threshold, 0.0)

    def alarm(self) -> np.ndarray:
        """Upward change detected (gated)."""
        return self.stat() >= 1.0

    def reset(self, idx: np.ndarray) -> None:
        """Restart the statistics of services ``idx`` (after an incident ends)."""
        c = self.cols
        c["s_hi"][idx] = 0.0
        c["s_lo"][idx] = 0.0
        c["onset"][idx] = np.nan
