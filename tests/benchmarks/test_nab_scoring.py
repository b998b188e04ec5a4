"""Hand-made cases of the NAB scoring rules (benchmarks/nab_scoring.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmarks import nab_scoring as ns

STD = ns.PROFILES["standard"]
N = 1000  # rows per file; probation is the first 150


def _stamps(n: int = N) -> np.ndarray:
    return np.datetime64("2020-01-01T00:00:00") + np.arange(n) * np.timedelta64(300, "s")


def _corpus(files: list[tuple[np.ndarray, list[tuple[int, int]]]]) -> ns.Corpus:
    """Corpus from (scores, windows as inclusive row ranges) pairs."""
    c = ns.Corpus()
    for k, (scores, rows) in enumerate(files):
        ts = _stamps(len(scores))
        c.add(f"cat/f{k}.csv", ts, scores, [(ts[a], ts[b]) for a, b in rows])
    return c


def _raw_at(c: ns.Corpus, profile: dict, threshold: float) -> float:
    """Raw corpus score when rows scoring >= threshold are detections."""
    thresholds, totals = ns.sweep(c, profile)
    return float(totals[np.flatnonzero(thresholds >= threshold)[-1]])


def test_scaled_sigmoid_reference_values() -> None:
    assert ns.scaled_sigmoid(-1.0) == pytest.approx(0.98661, abs=1e-5)
    assert ns.scaled_sigmoid(-0.5) == pytest.approx(0.84828, abs=1e-5)
    assert ns.scaled_sigmoid(0.0) == 0.0
    assert ns.scaled_sigmoid(1.0) == pytest.approx(-0.98661, abs=1e-5)
    assert ns.scaled_sigmoid(3.0) == -1.0 and ns.scaled_sigmoid(10.0) == -1.0


def test_probation_is_15_percent_capped_at_750_rows() -> None:
    assert ns.probation_length(4032) == 604
    assert ns.probation_length(22695) == 750


def test_null_detector_scores_zero_and_perfect_scores_100() -> None:
    windows = [[(300, 399), (700, 799)], [(500, 549)]]
    null = _corpus([(np.zeros(N), w) for w in windows])
    perfect_scores = []
    for w in windows:
        s = np.zeros(N)
        s[[a for a, _ in w]] = 1.0
        perfect_scores.append(s)
    perfect = _corpus(list(zip(perfect_scores, windows, strict=True)))
    for name in ns.PROFILES:
        assert ns.score_corpus(null)[name]["score"] == pytest.approx(0.0)
        assert ns.score_corpus(perfect)[name]["score"] == pytest.approx(100.0)


def test_detection_at_window_start_beats_detection_at_end() -> None:
    start, end = np.zeros(N), np.zeros(N)
    start[400], end[499] = 1.0, 1.0
    raw_start = _raw_at(_corpus([(start, [(400, 499)])]), STD, 1.0)
    raw_end = _raw_at(_corpus([(end, [(400, 499)])]), STD, 1.0)
    assert raw_start == pytest.approx(1.0)  # weighted by 1 / sigma(-1): exactly A_TP
    expected_end = ns.scaled_sigmoid(-1.0 / 100) / ns.scaled_sigmoid(-1.0)
    assert raw_end == pytest.approx(expected_end)
    assert 0.0 < raw_end < 0.03


def test_only_the_earliest_detection_of_a_window_counts() -> None:
    s = np.zeros(N)
    s[[450, 460, 470]] = 1.0
    raw = _raw_at(_corpus([(s, [(400, 499)])]), STD, 1.0)
    assert raw == pytest.approx(ns.scaled_sigmoid(-50 / 100) / ns.scaled_sigmoid(-1.0))


def test_false_positive_after_a_window_is_weighted_by_its_distance() -> None:
    near, far, before = np.zeros(N), np.zeros(N), np.zeros(N)
    near[400], far[400], before[400] = 1.0, 1.0, 1.0  # the true positive
    near[500] = 1.0   # first row after the window (rows 400..499, width 100)
    far[900] = 1.0    # 401 rows after: more than 3 widths, full penalty
    before[200] = 1.0  # outside probation, no preceding window
    w = [(400, 499)]
    raw_near = _raw_at(_corpus([(near, w)]), STD, 1.0)
    raw_far = _raw_at(_corpus([(far, w)]), STD, 1.0)
    raw_before = _raw_at(_corpus([(before, w)]), STD, 1.0)
    assert raw_near == pytest.approx(1.0 + 0.11 * ns.scaled_sigmoid(1 / 99))
    assert raw_far == pytest.approx(1.0 - 0.11)
    assert raw_before == pytest.approx(1.0 - 0.11)
    assert raw_near > raw_far


def test_detections_in_probation_are_ignored() -> None:
    s = np.zeros(N)
    s[10] = 1.0
    assert _raw_at(_corpus([(s, [(400, 499)])]), STD, 1.0) == pytest.approx(-1.0)


def test_threshold_is_optimised_over_the_corpus() -> None:
    a, b = np.zeros(N), np.zeros(N)
    a[400] = 0.6                      # true positive at a moderate score
    b[300] = 0.9                      # confident false positive in another file
    b[600] = 0.6                      # true positive in file b
    c = _corpus([(a, [(400, 499)]), (b, [(600, 699)])])
    threshold, raw = ns.optimise(c, STD)
    assert threshold == pytest.approx(0.6)
    assert raw == pytest.approx(2.0 - 0.11)
    thresholds, totals = ns.sweep(c, STD)
    assert list(thresholds) == [1.1, 0.9, 0.6, 0.0]
    assert totals[0] == pytest.approx(-2.0) and totals[1] == pytest.approx(-2.11)


def _reference_raw(scores: np.ndarray, rows: list[tuple[int, int]], threshold: float,
                   profile: dict) -> float:
    """Row-by-row statement of the rules, independent of the vectorised sweep."""
    probation = ns.probation_length(len(scores))
    total, prev = 0.0, None
    for lo, hi in rows:
        det = [i for i in range(max(lo, probation), hi + 1) if scores[i] >= threshold]
        if det:
            pos = -(hi - det[0] + 1) / (hi - lo + 1)
            total += ns.scaled_sigmoid(pos) / ns.scaled_sigmoid(-1.0) * profile["tpWeight"]
        elif hi >= probation:
            total -= profile["fnWeight"]
    for i in range(probation, len(scores)):
        inside = any(lo <= i <= hi for lo, hi in rows)
        if inside or scores[i] < threshold:
            continue
        prev = [(lo, hi) for lo, hi in rows if hi < i]
        if not prev:
            total -= profile["fpWeight"]
            continue
        lo, hi = prev[-1]
        d = (i - hi) / (hi - lo)
        total += profile["fpWeight"] * (-1.0 if d >= 3 else ns.scaled_sigmoid(d))
    return total


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sweep_matches_a_row_by_row_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    scores = np.round(rng.random(N) ** 8, 2)
    rows = [(100, 180), (420, 470), (800, 880)]  # the first straddles the probation
    c = _corpus([(scores, rows)])
    for profile in ns.PROFILES.values():
        for threshold in (0.9, 0.5, 0.2):
            expected = _reference_raw(scores, rows, threshold, profile)
            assert _raw_at(c, profile, threshold) == pytest.approx(expected)


def test_normalisation_formula() -> None:
    assert ns.normalised(-4.0, -4.0, 4, STD) == 0.0
    assert ns.normalised(4.0, -4.0, 4, STD) == 100.0
    assert math.isclose(ns.normalised(0.0, -4.0, 4, STD), 50.0)
