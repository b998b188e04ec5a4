"""NAB runner: ``python -m benchmarks.nab --data DIR --out OUT``.

Reads a NAB-layout directory (``DIR/data/<category>/<file>.csv`` with ``timestamp,value``
and ``DIR/combined_windows.json``), runs a detector over every series in streaming order
(each point scored before it is learned, one configuration for all files), writes NAB's
results layout ``OUT/<detector>/<category>/<detector>_<file>.csv`` with columns
``timestamp,value,anomaly_score,label`` and prints the three profile scores computed by
:mod:`benchmarks.nab_scoring`.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks import nab_scoring
from detector.realvalued import RealValuedConfig, RealValuedScorer


@dataclass(frozen=True)
class Series:
    """One NAB data file."""

    key: str                 # "<category>/<file>.csv", as in combined_windows.json
    timestamps: np.ndarray   # datetime64[s], increasing
    values: np.ndarray       # float
    windows: list[tuple[np.datetime64, np.datetime64]]


ScoreFn = Callable[[Sequence[Series]], list[np.ndarray]]


def _ts(text: str) -> np.datetime64:
    """NAB timestamps ("2014-04-10 07:15:00[.000000]") as datetime64 seconds."""
    return np.datetime64(text.strip()[:19].replace(" ", "T"), "s")


def read_series(path: Path, key: str, windows: list[list[str]]) -> Series:
    """Read one ``timestamp,value`` CSV with its labelled windows."""
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    ts = np.array([_ts(r["timestamp"]) for r in rows], dtype="datetime64[s]")
    values = np.array([float(r["value"]) for r in rows])
    return Series(key, ts, values, [(_ts(a), _ts(b)) for a, b in windows])


def load_corpus(data_dir: Path, only: Sequence[str] = ()) -> list[Series]:
    """All series of a NAB-layout directory that have labels (optionally a subset by name)."""
    labels = json.loads((data_dir / "combined_windows.json").read_text())
    keys = sorted(k for k in labels if (data_dir / "data" / k).exists())
    if only:
        keys = [k for k in keys if any(o in k for o in only)]
    return [read_series(data_dir / "data" / k, k, labels[k]) for k in keys]


def run_realvalued(corpus: Sequence[Series], config: RealValuedConfig | None = None
                   ) -> list[np.ndarray]:
    """Our detector, vectorised: step k feeds row k of every file (NaN once a file ended)."""
    longest = max(len(s.values) for s in corpus)
    grid = np.full((longest, len(corpus)), np.nan)
    times = np.zeros((longest, len(corpus)))
    for j, s in enumerate(corpus):
        grid[: len(s.values), j] = s.values
        times[: len(s.values), j] = s.timestamps.astype(np.int64)
    det = RealValuedScorer(len(corpus), config)
    out = np.stack([det.step(row, t) for row, t in zip(grid, times, strict=True)])
    return [out[: len(s.values), j] for j, s in enumerate(corpus)]


DETECTORS: dict[str, ScoreFn] = {"outage_radar": run_realvalued}


def labels_of(series: Series) -> np.ndarray:
    """1 inside a labelled window, else 0."""
    label = np.zeros(len(series.values), dtype=int)
    for a, b in series.windows:
        label[(series.timestamps >= a) & (series.timestamps <= b)] = 1
    return label


def write_results(out: Path, detector: str, series: Series, scores: np.ndarray) -> None:
    """NAB results file ``OUT/<detector>/<category>/<detector>_<file>.csv``."""
    category, name = series.key.split("/", 1)
    path = out / detector / category / f"{detector}_{name}"
    path.parent.mkdir(parents=True, exist_ok=True)
    stamps = np.datetime_as_string(series.timestamps, unit="s")
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["timestamp", "value", "anomaly_score", "label"])
        for t, v, s, lab in zip(stamps, series.values, scores, labels_of(series), strict=True):
            w.writerow([t.replace("T", " "), repr(float(v)), f"{float(s):.6f}", int(lab)])


def score(corpus: Sequence[Series], scores: Sequence[np.ndarray]) -> dict[str, dict]:
    """The three NAB profile scores of one detector's scores on a corpus."""
    c = nab_scoring.Corpus()
    for s, sc in zip(corpus, scores, strict=True):
        c.add(s.key, s.timestamps, np.round(sc, 6), s.windows)  # as written to the CSVs
    return nab_scoring.score_corpus(c)


def per_file(corpus: Sequence[Series], scores: Sequence[np.ndarray], threshold: float,
             profile: str = "standard") -> dict[str, float]:
    """Raw contribution of each file at the corpus-wide threshold (to see where points go)."""
    out = {}
    for s, sc in zip(corpus, scores, strict=True):
        c = nab_scoring.Corpus()
        c.add(s.key, s.timestamps, np.round(sc, 6), s.windows)
        thresholds, totals = nab_scoring.sweep(c, nab_scoring.PROFILES[profile])
        out[s.key] = round(float(totals[np.flatnonzero(thresholds >= threshold)[-1]]), 4)
    return out


def evaluate(corpus: Sequence[Series], detector: str, fn: ScoreFn,
             out: Path | None = None) -> dict:
    """Run one detector over the corpus, optionally write results, and score it."""
    t0 = time.perf_counter()
    scores = fn(corpus)
    seconds = time.perf_counter() - t0
    if out is not None:
        for s, sc in zip(corpus, scores, strict=True):
            write_results(out, detector, s, sc)
    points = sum(len(s.values) for s in corpus)
    profiles = score(corpus, scores)
    return {"detector": detector, "files": len(corpus), "points": points,
            "seconds": seconds, "points_per_second": points / max(seconds, 1e-9),
            "profiles": profiles,
            "standard_raw_per_file": per_file(corpus, scores, profiles["standard"]["threshold"])}


def main(argv: Sequence[str] | None = None) -> dict:
    """Command line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="NAB-layout directory")
    ap.add_argument("--out", type=Path, required=True, help="results directory")
    ap.add_argument("--detector", default="outage_radar", choices=sorted(DETECTORS))
    ap.add_argument("--only", nargs="*", default=(), help="substrings of file keys to keep")
    ap.add_argument("--json", type=Path, help="also write the summary as JSON here")
    args = ap.parse_args(argv)
    corpus = load_corpus(args.data, args.only)
    result = evaluate(corpus, args.detector, DETECTORS[args.detector], args.out)
    for profile, r in result["profiles"].items():
        print(f"{args.detector:14s} {profile:20s} {r['score']:7.2f} "
              f"(threshold {r['threshold']:.4f})")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
