"""Our own implementation of the Numenta Anomaly Benchmark scoring rules (NAB v1.1).

Lavin & Ahmad, "Evaluating Real-time Anomaly Detection Algorithms -- the Numenta
Anomaly Benchmark", ICMLA 2015; semantics follow the public numenta/NAB sweeper:

- the first ``min(floor(0.15 n), 0.15 * 5000)`` rows of a file are probationary and ignored;
- inside a labelled window a detection at row ``i`` is worth
  ``A_TP * sigma(-(right - i + 1) / width) / sigma(-1)`` where
  ``sigma(x) = 2 / (1 + exp(5 x)) - 1`` is the scaled sigmoid: only the best (earliest)
  detection of a window counts, a window without detection costs ``-A_FN``;
- a detection outside every window costs ``A_FP * sigma(d)`` where ``d`` is its distance
  past the end of the preceding window over that window's width minus one (``-A_FP``
  when no window precedes it or ``d >= 3``);
- one threshold per profile is optimised over the whole corpus (detection = score >=
  threshold) and the best corpus total is normalised to 100 * (S - S_null) / (S_perfect -
  S_null), with S_perfect = A_TP * number of windows and S_null the total of a detector
  that never fires.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

PROBATION_PERCENT = 0.15
PROFILES: dict[str, dict[str, float]] = {
    "standard": {"tpWeight": 1.0, "fnWeight": 1.0, "fpWeight": 0.11, "tnWeight": 1.0},
    "reward_low_FP_rate": {"tpWeight": 1.0, "fnWeight": 1.0, "fpWeight": 0.22, "tnWeight": 1.0},
    "reward_low_FN_rate": {"tpWeight": 1.0, "fnWeight": 2.0, "fpWeight": 0.11, "tnWeight": 1.0},
}


def scaled_sigmoid(position: float) -> float:
    """NAB's reward for a detection at a relative ``position`` (-1 window start, 0 its end).

    >>> round(scaled_sigmoid(-1.0), 5), round(scaled_sigmoid(-0.5), 5), scaled_sigmoid(0.0)
    (0.98661, 0.84828, 0.0)
    >>> scaled_sigmoid(3.0)
    -1.0
    """
    if position >= 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


def probation_length(n_rows: int, percent: float = PROBATION_PERCENT) -> int:
    """Rows at the start of a file that are never scored (NAB caps it at 15% of 5000 rows)."""
    return int(min(math.floor(percent * n_rows), percent * 5000))


@dataclass(frozen=True)
class FileRows:
    """Per-row scoring facts of one file: anomaly score, window id (-1 outside) and position."""

    scores: np.ndarray     # anomaly score per scorable row
    window: np.ndarray     # global window id, -1 outside any window
    tp_pos: np.ndarray     # relative position in window (for rows inside one)
    fp_pos: np.ndarray     # relative distance past the previous window (for rows outside)


def window_bounds(timestamps: np.ndarray, windows: list[tuple[np.datetime64, np.datetime64]]
                  ) -> list[tuple[int, int]]:
    """Row indices (first, last) of each window, inclusive; empty windows are dropped."""
    out = []
    for start, end in sorted(windows):
        lo = int(np.searchsorted(timestamps, start, side="left"))
        hi = int(np.searchsorted(timestamps, end, side="right")) - 1
        if hi >= lo:
            out.append((lo, hi))
    return out


def file_rows(scores: np.ndarray, bounds: list[tuple[int, int]], first_id: int) -> FileRows:
    """Classify every row of a file for the sweep: in which window, at which position."""
    n = len(scores)
    window = np.full(n, -1, dtype=np.int64)
    tp_pos = np.zeros(n)
    fp_pos = np.full(n, 3.0)
    idx = np.arange(n)
    for k, (lo, hi) in enumerate(bounds):
        width = hi - lo + 1
        window[lo:hi + 1] = first_id + k
        tp_pos[lo:hi + 1] = -(hi - idx[lo:hi + 1] + 1) / width
        nxt = bounds[k + 1][0] if k + 1 < len(bounds) else n
        if width > 1:
            fp_pos[hi + 1:nxt] = (idx[hi + 1:nxt] - hi) / (width - 1)
        else:
            fp_pos[hi + 1:nxt] = np.inf  # NAB divides by zero here; treat as far away
    start = probation_length(n)
    return FileRows(np.asarray(scores, float)[start:], window[start:], tp_pos[start:],
                    fp_pos[start:])


@dataclass
class Corpus:
    """All files of one detector's results, ready for the threshold sweep."""

    files: dict[str, FileRows] = field(default_factory=dict)
    n_windows: int = 0  # all labelled windows, including those lost in probation

    def add(self, name: str, timestamps: np.ndarray, scores: np.ndarray,
            windows: list[tuple[np.datetime64, np.datetime64]]) -> None:
        """Add one file: timestamps (datetime64, sorted), anomaly scores, labelled windows."""
        bounds = window_bounds(timestamps, windows)
        self.files[name] = file_rows(scores, bounds, self.n_windows)
        self.n_windows += len(windows)


def _sigmoid(position: np.ndarray) -> np.ndarray:
    """Vectorised :func:`scaled_sigmoid`."""
    pos = np.minimum(position, 3.0)
    return np.where(position >= 3.0, -1.0, 2.0 / (1.0 + np.exp(5.0 * pos)) - 1.0)


def _weights(rows: FileRows, profile: dict[str, float]) -> np.ndarray:
    """Weighted sweep score of every row if it were a detection."""
    tp = _sigmoid(rows.tp_pos) * profile["tpWeight"] / scaled_sigmoid(-1.0)
    fp = _sigmoid(rows.fp_pos) * profile["fpWeight"]
    return np.where(rows.window >= 0, tp, fp)


def sweep(corpus: Corpus, profile: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """Corpus score for every candidate threshold (detections are rows with score >= t).

    Returns (thresholds, totals), thresholds decreasing from 1.1 (nothing detected).
    """
    scores = np.concatenate([f.scores for f in corpus.files.values()] or [np.zeros(0)])
    window = np.concatenate([f.window for f in corpus.files.values()] or [np.zeros(0, int)])
    weight = np.concatenate([_weights(f, profile) for f in corpus.files.values()]
                            or [np.zeros(0)])
    counted = np.unique(window[window >= 0])
    base = -profile["fnWeight"] * len(counted)
    order = np.argsort(-scores, kind="stable")
    scores, window, weight = scores[order], window[order], weight[order]
    fp_cum = np.cumsum(np.where(window < 0, weight, 0.0))
    tp_gain = np.zeros(len(scores))
    best: dict[int, float] = {}
    for i in np.flatnonzero(window >= 0):  # running max per window, in sweep order
        w = int(window[i])
        old = best.get(w, -profile["fnWeight"])
        if weight[i] > old:
            tp_gain[i] = weight[i] - old
            best[w] = weight[i]
    totals_all = base + fp_cum + np.cumsum(tp_gain)
    last_of_level = np.r_[scores[1:] != scores[:-1], True] if len(scores) else np.zeros(0, bool)
    thresholds = np.r_[1.1, scores[last_of_level]]
    totals = np.r_[base, totals_all[last_of_level]]
    return thresholds, totals


def optimise(corpus: Corpus, profile: dict[str, float]) -> tuple[float, float]:
    """Best (threshold, raw corpus score) for a profile; ties go to the highest threshold."""
    thresholds, totals = sweep(corpus, profile)
    k = int(np.argmax(totals))
    return float(thresholds[k]), float(totals[k])


def null_score(corpus: Corpus, profile: dict[str, float]) -> float:
    """Raw score of the null detector (constant score, so it never profits from firing)."""
    null = Corpus({name: FileRows(np.zeros_like(f.scores), f.window, f.tp_pos, f.fp_pos)
                   for name, f in corpus.files.items()}, corpus.n_windows)
    return optimise(null, profile)[1]


def normalised(raw: float, null: float, n_windows: int, profile: dict[str, float]) -> float:
    """NAB's 0 (null detector) .. 100 (perfect detector) scale."""
    perfect = n_windows * profile["tpWeight"]
    return 100.0 * (raw - null) / (perfect - null)


def score_corpus(corpus: Corpus, profiles: dict[str, dict[str, float]] | None = None
                 ) -> dict[str, dict[str, float]]:
    """Threshold, raw and normalised score per profile."""
    out = {}
    for name, profile in (profiles or PROFILES).items():
        threshold, raw = optimise(corpus, profile)
        null = null_score(corpus, profile)
        out[name] = {"threshold": threshold, "raw": raw, "null": null,
                     "score": normalised(raw, null, corpus.n_windows, profile)}
    return out
