"""Smoke test of `python -m benchmarks.nab` on a small seeded NAB-layout directory."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks import nab

N = 1200


def _write_file(root: Path, key: str, values: np.ndarray) -> list[str]:
    path = root / "data" / key
    path.parent.mkdir(parents=True, exist_ok=True)
    stamps = np.datetime64("2015-03-01T00:00:00") + np.arange(N) * np.timedelta64(300, "s")
    text = [str(s).replace("T", " ") for s in stamps]
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["timestamp", "value"])
        w.writerows(zip(text, values.round(3), strict=True))
    return text


def _layout(root: Path) -> None:
    """Two series in NAB's layout, each with one labelled level shift at row 900."""
    rng = np.random.default_rng(11)
    windows = {}
    for key, shift in (("artificialWithAnomaly/a.csv", 20.0), ("realTweets/b.csv", -20.0)):
        x = 40 + 8 * np.sin(np.arange(N) * 2 * np.pi / 288) + rng.normal(0, 1, N)
        x[900:] += shift
        stamps = _write_file(root, key, x)
        windows[key] = [[stamps[840] + ".000000", stamps[959] + ".000000"]]
    (root / "combined_windows.json").write_text(json.dumps(windows))


def test_runner_writes_nab_results_and_prints_three_scores(tmp_path: Path, capsys) -> None:
    _layout(tmp_path / "nab")
    out = tmp_path / "results"
    summary = tmp_path / "nab.json"
    result = nab.main(["--data", str(tmp_path / "nab"), "--out", str(out),
                       "--json", str(summary)])
    printed = capsys.readouterr().out
    for profile in ("standard", "reward_low_FP_rate", "reward_low_FN_rate"):
        assert profile in printed
        assert result["profiles"][profile]["score"] > 50.0  # both shifts found early
    saved = json.loads(summary.read_text())
    assert saved["files"] == 2
    raw = sum(saved["standard_raw_per_file"].values())  # files add up to the corpus score
    assert raw == pytest.approx(result["profiles"]["standard"]["raw"], abs=1e-3)
    path = out / "outage_radar" / "realTweets" / "outage_radar_b.csv"
    with path.open() as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["timestamp", "value", "anomaly_score", "label"]
    assert len(rows) == N
    labels = [int(r["label"]) for r in rows]
    assert sum(labels) == 120 and labels[840] == 1 and labels[839] == 0
    scores = [float(r["anomaly_score"]) for r in rows]
    assert all(0.0 <= s <= 1.0 for s in scores)
