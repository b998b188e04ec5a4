"""Peers side by side, same data, same run: ``python -m benchmarks.peers``.

NAB sample scores and report-scenario quality and throughput of our detectors and of
peer detectors, each a per-series streaming scorer.

Every peer maps one series (values, epoch-second timestamps) to anomaly scores in [0, 1],
point by point, each point scored before it is learned:

- ``downdetector``: the public description of Downdetector's rule -- reports in 15-minute
  buckets against the average of the same time of day over past weeks; alarm when the
  bucket exceeds ``k`` times that average and a minimum. Score 0.5 means "rule met".
- ``river_hst``: river's Half-Space Trees (Tan, Ting & Liu 2011) on min-max scaled values.
- ``river_adwin`` / ``river_pagehinkley``: river's ADWIN (Bifet & Gavalda 2007) and
  Page-Hinkley (Page 1954) drift detectors on online-standardised values; 1 at a drift.
- ``bocpd``: the ``bocd`` package from PyPI (Adams & MacKay 2007, Student-t predictive) on
  online-standardised values, run length truncated to ``MAX_RUN`` (the package keeps the
  whole history, O(T) per point); score = posterior mass of runs shorter than 5 points.
"""

from __future__ import annotations

import argparse
import functools
import json
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from benchmarks import nab
from benchmarks.metrics import Score

PeerFn = Callable[[np.ndarray, np.ndarray], np.ndarray]
BUCKET = 900.0      # Downdetector-style bucket, seconds
MAX_RUN = 100       # BOCPD run-length truncation


def standardised(values: np.ndarray, alpha: float = 0.01) -> np.ndarray:
    """Each value standardised by the EW mean and deviation of the values before it."""
    out = np.zeros(len(values))
    mean, var = float(values[0]), 1.0
    for i, x in enumerate(values):
        out[i] = (x - mean) / max(np.sqrt(var), 1e-6)
        a = max(alpha, 1.0 / (i + 1))
        d = x - mean
        mean += a * d
        var = (1 - a) * (var + a * d * d) if i else 1.0
    return np.clip(out, -50.0, 50.0)


def downdetector(values: np.ndarray, t: np.ndarray, k: float = 3.0,
                 minimum: float = 0.0, weeks: int = 4) -> np.ndarray:
    """Running 15-min bucket mean vs the mean of that time-of-day slot over past weeks."""
    history: dict[int, deque[float]] = {}
    scores = np.zeros(len(values))
    bucket, total, count = None, 0.0, 0
    for i, (x, ts) in enumerate(zip(values, t, strict=True)):
        b = int(ts // BUCKET)
        if b != bucket:
            if bucket is not None and count:
                slot = bucket % int(86400 // BUCKET)
                history.setdefault(slot, deque(maxlen=7 * weeks)).append(total / count)
            bucket, total, count = b, 0.0, 0
        total, count = total + x, count + 1
        past = history.get(b % int(86400 // BUCKET))
        if past and total >= minimum:  # minimum on the running bucket sum (counts)
            ratio = (total / count) / max(float(np.mean(past)), 1e-9)
            scores[i] = ratio / (ratio + k) if ratio > 0 else 0.0
    return scores


def river_hst(values: np.ndarray, t: np.ndarray) -> np.ndarray:
    """river HalfSpaceTrees after river's online MinMaxScaler (seeded)."""
    from river import anomaly, compose, preprocessing

    model = compose.Pipeline(preprocessing.MinMaxScaler(),
                             anomaly.HalfSpaceTrees(n_trees=10, height=8, window_size=250,
                                                    seed=42))
    scores = np.zeros(len(values))
    for i, x in enumerate(values):
        row = {"x": float(x)}
        scores[i] = model.score_one(row)
        model.learn_one(row)
    return np.clip(scores, 0.0, 1.0)


def _drift(make: Callable[[], object], values: np.ndarray) -> np.ndarray:
    """1.0 where a river drift detector flags a drift on the standardised series."""
    det = make()
    scores = np.zeros(len(values))
    for i, z in enumerate(standardised(values)):
        det.update(float(z))
        scores[i] = 1.0 if det.drift_detected else 0.0
    return scores


def river_adwin(values: np.ndarray, t: np.ndarray) -> np.ndarray:
    """river ADWIN with its defaults."""
    from river import drift

    return _drift(drift.ADWIN, values)


def river_pagehinkley(values: np.ndarray, t: np.ndarray) -> np.ndarray:
    """river Page-Hinkley with its defaults (both directions)."""
    from river import drift

    return _drift(drift.PageHinkley, values)


def _truncate(det, max_run: int) -> None:
    """Keep the ``max_run`` shortest run lengths of a ``bocd`` detector (renormalised)."""
    if det.beliefs.shape[0] <= max_run + 1:
        return
    det.beliefs = det.beliefs[: max_run + 1].copy()
    det.beliefs[:, 0] /= det.beliefs[:, 0].sum()
    dist = det.distribution
    for name in ("muT", "kappaT", "alphaT", "betaT"):
        setattr(dist, name, getattr(dist, name)[: max_run + 1])
    det.T = max_run


def bocpd(values: np.ndarray, t: np.ndarray, hazard: float = 1 / 250) -> np.ndarray:
    """BOCPD from the ``bocd`` package; score = P(run length < 5)."""
    import bocd

    det = bocd.BayesianOnlineChangePointDetection(
        bocd.ConstantHazard(1 / hazard), bocd.StudentT(mu=0, kappa=1, alpha=1, beta=1))
    scores = np.zeros(len(values))
    for i, z in enumerate(standardised(values)):
        det.update(float(z))
        _truncate(det, MAX_RUN)
        scores[i] = float(det.belief[1:5].sum())
    return np.clip(scores, 0.0, 1.0)


PEERS: dict[str, PeerFn] = {
    "downdetector": downdetector,
    "river_hst": river_hst,
    "river_adwin": river_adwin,
    "river_pagehinkley": river_pagehinkley,
    "bocpd": bocpd,
}


# --- side-by-side runs -------------------------------------------------------------------

RESULTS = Path(__file__).parent / "results" / "peers.json"
SCENARIO_MINIMUM = 10.0  # Downdetector rule on counts: at least 10 reports in the bucket
ALARM = {"downdetector": 0.5, "river_hst": 0.9, "river_adwin": 1.0,
         "river_pagehinkley": 1.0, "bocpd": 0.5}  # fixed a priori, not tuned on scenarios


def nab_rows(data: Path, out: Path | None, names: Sequence[str]) -> list[dict]:
    """NAB scores and throughput of our scorer and every peer on the same corpus."""
    corpus = nab.load_corpus(data)
    fns: dict[str, nab.ScoreFn] = {"outage_radar": nab.run_realvalued}
    for name in names:
        fns[name] = _per_series(PEERS[name])
    return [nab.evaluate(corpus, name, fn, out) for name, fn in fns.items()]


def _per_series(fn: PeerFn) -> nab.ScoreFn:
    def run(corpus: Sequence[nab.Series]) -> list[np.ndarray]:
        return [fn(s.values, s.timestamps.astype(np.int64).astype(float)) for s in corpus]
    return run


def alarms_of(service: str, scores: np.ndarray, t_end: np.ndarray, level: float) -> list[dict]:
    """Open alarms when the score reaches ``level``; re-armed once it falls below."""
    above = scores >= level
    starts = np.flatnonzero(above & ~np.r_[False, above[:-1]])
    return [{"service": service, "status": "open", "detected_at": float(t_end[i])}
            for i in starts]


def scenario_rows(seeds: int, names: Sequence[str]) -> list[dict]:
    """Recall, delay and false alarms on the reference report scenarios (1-min buckets)."""
    from benchmarks import scenarios
    from detector.references import REFERENCES, reference

    per: dict[str, list] = {n: [] for n in ("outage_radar", *names)}
    secs = dict.fromkeys(per, 0.0)
    points = 0
    for ref in REFERENCES:
        for seed in range(seeds):
            sc = reference(ref, seed=seed, bucket_seconds=scenarios.BUCKET / scenarios.PARTIALS)
            t0 = time.perf_counter()
            per["outage_radar"].append(scenarios.evaluate(sc, scenarios.replay(sc)[1]))
            secs["outage_radar"] += time.perf_counter() - t0
            counts = (sc.reports + sc.spam_reports).reshape(-1, scenarios.PARTIALS,
                                                            len(sc.services)).sum(axis=1)
            t_end = sc.t0 + scenarios.BUCKET * np.arange(1, len(counts) + 1)
            points += counts.size
            for name in names:
                fn = PEERS[name]
                if name == "downdetector":
                    fn = functools.partial(downdetector, minimum=SCENARIO_MINIMUM)
                t0 = time.perf_counter()
                alarms = [a for j, svc in enumerate(sc.services) for a in alarms_of(
                    svc, fn(counts[:, j].astype(float), t_end), t_end, ALARM[name])]
                secs[name] += time.perf_counter() - t0
                per[name].append(scenarios.evaluate(sc, alarms))
    return [{"detector": n, **_merge(s).as_dict(),
             "points_per_second": points / max(secs[n], 1e-9)} for n, s in per.items()]


def _merge(scores: Sequence[Score]) -> Score:
    """One score over several scenario runs."""
    return Score([d for s in scores for d in s.delays], sum(s.misses for s in scores),
                 sum(s.false_alarms for s in scores), sum(s.reopens for s in scores),
                 sum(s.service_days for s in scores))


def markdown(nab_results: Sequence[dict], scen: Sequence[dict]) -> str:
    """Two markdown tables: NAB sample scores, then report scenarios."""
    lines = ["| detector | NAB standard | low FP | low FN | points/s |", "|---|---|---|---|---|"]
    for r in nab_results:
        p = r["profiles"]
        lines.append(f"| {r['detector']} | {p['standard']['score']:.1f} "
                     f"| {p['reward_low_FP_rate']['score']:.1f} "
                     f"| {p['reward_low_FN_rate']['score']:.1f} | {r['points_per_second']:,.0f} |")
    if scen:
        lines += ["", "| detector | outages | found | recall | delay median s | p90 s "
                  "| false alarms / service-day | points/s |", "|---|---|---|---|---|---|---|---|"]
        for r in scen:
            d = r["delay_seconds"]
            lines.append(f"| {r['detector']} | {r['outages']} | {r['detected']} "
                         f"| {r['recall']:.2f} | {d['median']:.0f} | {d['p90']:.0f} "
                         f"| {r['false_alarms_per_service_day']:.3f} "
                         f"| {r['points_per_second']:,.0f} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> dict:
    """``python -m benchmarks.peers``: NAB sample and report scenarios, peers side by side."""
    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--data", type=Path, default=Path("../shared/data/nab"))
    ap.add_argument("--out", type=Path, help="also write NAB results files here")
    ap.add_argument("--peers", nargs="*", default=list(PEERS), choices=list(PEERS))
    ap.add_argument("--seeds", type=int, default=2, help="seeds per reference scenario")
    ap.add_argument("--no-scenarios", action="store_true")
    ap.add_argument("--json", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    result = {"nab": nab_rows(args.data, args.out, args.peers),
              "scenarios": [] if args.no_scenarios else scenario_rows(args.seeds, args.peers),
              "settings": {"alarm_levels": ALARM, "seeds": args.seeds,
                           "downdetector": {"k": 3.0, "bucket_seconds": BUCKET, "weeks": 4,
                                            "minimum_nab": 0.0,
                                            "minimum_scenarios": SCENARIO_MINIMUM},
                           "bocpd_max_run": MAX_RUN,
                           "nab_data": str(args.data)}}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(markdown(result["nab"], result["scenarios"]))
    return result


if __name__ == "__main__":
    main()
