"""Contract checks of the real-valued streaming scorer (detector/realvalued.py)."""

from __future__ import annotations

import numpy as np

from detector.realvalued import RealValuedConfig, RealValuedScorer

DAY = 86400.0


def _series(seed: int, n: int = 1500, step: float = 300.0) -> tuple[np.ndarray, np.ndarray]:
    """Daily-seasonal noisy series (5-minute points) and their timestamps."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) * step
    x = 50 + 10 * np.sin(2 * np.pi * t / DAY) + rng.normal(0, 1.0, n)
    return x, t


def _run(det: RealValuedScorer, x: np.ndarray, t: np.ndarray) -> np.ndarray:
    return np.array([det.step(row, tt) for row, tt in zip(x, t, strict=True)])


def test_no_score_before_warmup_and_scores_in_unit_interval() -> None:
    x, t = _series(0)
    scores = _run(RealValuedScorer(1), x[:, None], t)
    warm = RealValuedConfig().warmup
    assert np.all(scores[:warm] == 0.0)
    assert np.all((scores >= 0.0) & (scores <= 1.0))


def test_inputs_are_not_mutated() -> None:
    x, t = _series(1, n=200)
    row = np.array([x[0], np.nan])
    copy = row.copy()
    RealValuedScorer(2).step(row, t[0])
    np.testing.assert_array_equal(row, copy)


def test_level_shift_gets_one_early_high_score() -> None:
    x, t = _series(2)
    x[1200:] += 15.0
    scores = _run(RealValuedScorer(1), x[:, None], t)[:, 0]
    alert = RealValuedConfig().alert
    assert scores[1200:1210].max() >= alert          # found within ten points
    assert scores[600:1200].max() < alert             # no alarm on the normal day cycle
    assert (scores[1200:1350] >= alert).sum() == 1    # refractory: one alarm per anomaly


def test_a_spike_is_the_top_score() -> None:
    x, t = _series(3)
    x[1300] += 12.0
    scores = _run(RealValuedScorer(1), x[:, None], t)[:, 0]
    assert int(np.argmax(scores)) == 1300


def test_vectorised_run_equals_separate_runs() -> None:
    xs, ts = zip(*(_series(s, n=400) for s in (4, 5, 6)), strict=True)
    x = np.stack(xs, axis=1)
    together = _run(RealValuedScorer(3), x, ts[0])
    for j in range(3):
        alone = _run(RealValuedScorer(1), x[:, j:j + 1], ts[0])[:, 0]
        np.testing.assert_allclose(together[:, j], alone, rtol=0, atol=1e-12)


def test_nan_leaves_a_series_untouched() -> None:
    x, t = _series(7, n=400)
    gappy = np.stack([x, x], axis=1)
    gappy[100:150, 1] = np.nan
    scores = _run(RealValuedScorer(2), gappy, t)
    assert np.all(scores[100:150, 1] == 0.0)
    ref = _run(RealValuedScorer(1), np.delete(x, np.s_[100:150])[:, None],
               np.delete(t, np.s_[100:150]))[:, 0]
    np.testing.assert_allclose(np.delete(scores[:, 1], np.s_[100:150]), ref, atol=1e-12)


def test_snapshot_round_trip_gives_identical_later_scores() -> None:
    x, t = _series(8)
    det = RealValuedScorer(1, RealValuedConfig(refractory=50))
    x[900:] += 15.0  # an alarm, so the refractory state is in the snapshot
    _run(det, x[:905, None], t[:905])
    clone = RealValuedScorer.from_bytes(det.to_bytes())
    assert clone.config == det.config
    np.testing.assert_array_equal(_run(det, x[905:, None], t[905:]),
                                  _run(clone, x[905:, None], t[905:]))


def test_state_size_does_not_grow_with_the_stream() -> None:
    x, t = _series(9)
    det = RealValuedScorer(1)
    _run(det, x[:100, None], t[:100])
    size = len(det.to_bytes())
    _run(det, x[100:600, None], t[100:600])
    assert len(det.to_bytes()) == size
