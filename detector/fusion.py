"""Signal fusion: strong evidence on one signal, or moderate evidence on two independent ones.

Signals are the report-count spike test, the report changepoint (CUSUM) and the error-rate
test. The spike and CUSUM both read the same counts, so they are one signal for the "two
independent signals" rule; reports and error rates are independent. This is the classic
"k-of-n" alarm combination used in multi-sensor monitoring, kept explicit and vectorised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SPIKE, CHANGE, ERRORS = 1, 2, 4
SIGNAL_NAMES = {SPIKE: "reports", CHANGE: "reports_trend", ERRORS: "error_rate"}


@dataclass(frozen=True)
class FusionConfig:
    """Evidence levels (p-values; CUSUM statistic in units of its threshold)."""

    p_strong: float = 1e-7
    p_moderate: float = 1e-3
    p_calm: float = 1e-2  # an open incident stays open while any p-value is below this
    z_calm: float = 2.33  # ... or while reports stay this many sd above expected
    ratio_calm: float = 1.25  # ... and this multiple of it
    cusum_moderate: float = 0.5


@dataclass(frozen=True)
class Evidence:
    """Per-service verdict of one bucket."""

    hot: np.ndarray  # opens (or keeps confirming) an incident
    moderate: np.ndarray  # at least one signal moderately abnormal ("possible")
    active: np.ndarray  # some signal still above the calm level (hysteresis)
    score: np.ndarray  # -log10 of the strongest evidence
    p_value: np.ndarray  # smallest p-value across signals
    signals: np.ndarray  # bit mask of contributing signals


def _neglog(p: np.ndarray) -> np.ndarray:
    return -np.log10(np.maximum(p, 1e-300))


def fuse(p_rep: np.ndarray, cusum: np.ndarray, p_err: np.ndarray | None,
         cfg: FusionConfig | None = None, rep_active: np.ndarray | None = None) -> Evidence:
    """Combine the per-signal evidence of every service.

    ``rep_active`` (reports still above the calm band, ungated) keeps an open incident open;
    without it the gated report p-value is compared with the calm level. ``p_err=None``
    (no error-rate input) is the same as an error p-value of 1 everywhere, computed cheaper.

    >>> e = fuse(np.array([1e-9, 1e-4, 1e-4, 0.5]), np.array([0.0, 0.0, 0.0, 1.2]),
    ...          np.array([1.0, 1e-4, 1.0, 1.0]))
    >>> e.hot.tolist(), e.moderate.tolist(), e.signals.tolist()
    ([True, True, False, True], [True, True, True, True], [1, 5, 1, 2])
    """
    cfg = cfg or FusionConfig()
    spike_s, spike_m = p_rep < cfg.p_strong, p_rep < cfg.p_moderate
    change_s, change_m = cusum >= 1.0, cusum >= cfg.cusum_moderate
    rep_m = spike_m | change_m
    if p_err is None:  # p-values are <= 1, so min(p_rep, 1) is p_rep
        hot = spike_s | change_s
        signals = (SPIKE * spike_m + CHANGE * change_m).astype(np.int64)
        p_min = np.minimum(p_rep, 1.0)
        active = p_rep < cfg.p_calm if rep_active is None else rep_active.copy()
        moderate = rep_m
    else:
        err_s, err_m = p_err < cfg.p_strong, p_err < cfg.p_moderate
        hot = spike_s | change_s | err_s | (rep_m & err_m)
        signals = (SPIKE * spike_m + CHANGE * change_m + ERRORS * err_m).astype(np.int64)
        p_min = np.minimum(p_rep, p_err)
        calm = p_err < cfg.p_calm
        active = (p_rep < cfg.p_calm if rep_active is None else rep_active) | calm
        moderate = rep_m | err_m
    up = np.flatnonzero(cusum > 0)  # the CUSUM statistic maps to p_strong ** stat
    p_min[up] = np.minimum(p_min[up], np.power(cfg.p_strong, np.minimum(cusum[up], 10.0)))
    score = np.zeros_like(p_min)
    low = np.flatnonzero(p_min < 1.0)
    score[low] = _neglog(p_min[low])
    return Evidence(hot=hot, moderate=moderate, active=active, score=score, p_value=p_min,
                    signals=signals)


def quiet_score(cand: np.ndarray, p_cand: np.ndarray, cusum: np.ndarray, p_strong: float,
                out: np.ndarray) -> np.ndarray:
    """`fuse`'s score without error rates, written into ``out``, from sparse report p-values.

    ``p_cand`` are the report p-values of services ``cand`` (1 elsewhere). For quiet buckets,
    where nothing reaches a moderate level and `fuse`'s other outputs are known (nothing hot,
    nothing moderate, no signal).

    >>> p, stat = np.array([1.0, 0.5, 1.0]), np.array([0.0, 0.0, 0.25])
    >>> s = quiet_score(np.array([1]), np.array([0.5]), stat, 1e-7, np.empty(3))
    >>> s.tolist() == fuse(p, stat, None).score.tolist()
    True
    """
    out.fill(0.0)
    up = (cusum > 0).nonzero()[0]  # the CUSUM statistic maps to p_strong ** stat
    for idx, p in ((up, None), (cand, p_cand)):
        if idx.size:  # p_strong ** 0 = 1 leaves a report p-value as it is
            q = np.power(p_strong, np.minimum(cusum[idx], 10.0))
            q = np.minimum(q, 1.0) if p is None else np.minimum(p, q)
            out[idx] = np.where(q < 1.0, _neglog(q), 0.0)
    return out


def signal_names(mask: int) -> tuple[str, ...]:
    """Names of the signals in bit mask ``mask``, in a fixed order."""
    return tuple(name for bit, name in SIGNAL_NAMES.items() if mask & bit)
