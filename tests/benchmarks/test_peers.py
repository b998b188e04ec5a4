"""Peer detectors of benchmarks/peers.py: each one finds an obvious change, runs streaming."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks import peers
from tests.benchmarks.test_nab_runner import _layout

MINUTE = 60.0


def _daily_counts(days: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Per-minute report counts with a daily cycle, and bucket end times."""
    rng = np.random.default_rng(seed)
    t = np.arange(days * 1440) * MINUTE + MINUTE
    mu = 20 + 10 * np.sin(2 * np.pi * t / 86400)
    return rng.poisson(mu).astype(float), t


def test_alarms_open_on_rising_edges_only() -> None:
    scores = np.array([0.1, 0.6, 0.7, 0.2, 0.9, 0.9])
    alarms = peers.alarms_of("svc", scores, np.arange(6.0) * 60, 0.5)
    assert [a["detected_at"] for a in alarms] == [60.0, 240.0]
    assert all(a["status"] == "open" and a["service"] == "svc" for a in alarms)


def test_standardised_uses_only_the_past() -> None:
    x = np.random.default_rng(1).normal(5, 2, 300)
    changed = x.copy()
    changed[200:] += 100.0  # the future must not change past values
    np.testing.assert_array_equal(peers.standardised(x)[:200], peers.standardised(changed)[:200])


def test_downdetector_rule_fires_on_a_burst_against_past_days() -> None:
    counts, t = _daily_counts()
    counts[2 * 1440 + 600: 2 * 1440 + 640] *= 6.0  # 40 minutes at six times the usual rate
    scores = peers.downdetector(counts, t, minimum=10.0)
    assert scores[: 2 * 1440 + 600].max() < 0.5    # no alarm on normal days
    assert scores[2 * 1440 + 600: 2 * 1440 + 620].max() >= 0.5


def test_bocpd_finds_a_level_shift() -> None:
    rng = np.random.default_rng(2)
    x = np.r_[rng.normal(0, 1, 250), rng.normal(8, 1, 50)]
    scores = peers.bocpd(x, np.arange(300.0))
    assert 250 <= int(np.argmax(scores[100:])) + 100 <= 255
    assert scores[100:245].max() < 0.5


def test_river_detectors_flag_a_shift() -> None:
    rng = np.random.default_rng(4)
    x = np.r_[rng.normal(0, 1, 400), rng.normal(6, 1, 100)]
    t = np.arange(500.0)
    for fn in (peers.river_adwin, peers.river_pagehinkley):
        flags = np.flatnonzero(fn(x, t) == 1.0)
        assert any(400 <= f < 460 for f in flags), fn.__name__
    hst = peers.river_hst(x, t)
    assert hst[400:410].max() > np.quantile(hst[300:400], 0.9)


def test_nab_rows_score_every_detector_on_the_same_corpus(tmp_path: Path) -> None:
    _layout(tmp_path / "nab")
    rows = peers.nab_rows(tmp_path / "nab", None, ["downdetector", "river_adwin"])
    assert [r["detector"] for r in rows] == ["outage_radar", "downdetector", "river_adwin"]
    assert all(r["points"] == 2400 for r in rows)
    table = peers.markdown(rows, [])
    assert table.count("\n") == 4 and "| river_adwin |" in table
