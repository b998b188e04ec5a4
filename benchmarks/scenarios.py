"""Scenario suite: the detector bank on seeded generated streams, scored against their truth.

`python -m benchmarks.scenarios [--seeds N] [--fleet N]` replays every reference scenario of
`detector.generators` (spike, plateau, ramp, recovery, tiny app, related services, spammer)
for N seeds, plus a random fleet with one outage of random shape per service, through
`DetectorBank.step` the way the pipeline drives it: three evaluations per 60 s bucket
(partial at 20 s and 40 s, then the full bucket), with every report of a spammer's service
through the reporter damper. It reports the detection delay
distribution (median, p90, max), misses, recall and false alarms per service-day, writes
`benchmarks/results/scenarios.json` and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from benchmarks.metrics import Score, score
from detector import BankConfig, DetectorBank, Transition
from detector.damping import ReporterDamper
from detector.generators import DAY, Scenario, events, fleet
from detector.references import REFERENCES, reference

RESULTS = Path(__file__).parent / "results" / "scenarios.json"
PARTIALS = 3  # evaluations per bucket: 20 s, 40 s (partial) and 60 s (full)
BUCKET = 60.0
WARMUP = DAY  # opens during the first day are not counted


def cumulative(rows: np.ndarray, partials: int) -> np.ndarray:
    """Sub-bucket rows (T*p, S) -> running sums inside each bucket, shape (T, p, S)."""
    n, s = rows.shape
    return np.cumsum(rows[: n - n % partials].reshape(-1, partials, s), axis=1)


def _error_inputs(sc: Scenario, partials: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Cumulative error rate and requests per evaluation, or None without error series."""
    if not (sc.requests > 0).any():
        return None
    req = cumulative(sc.requests, partials)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(req > 0, cumulative(sc.errors, partials) / req, np.nan)
    return rate, np.where(req > 0, req, np.nan)


def damped_counts(sc: Scenario, seed: int = 1) -> np.ndarray:
    """Report counts (organic + spam) after the reporter damper, as the pipeline sees them.

    Every event of the spammers' services goes through `ReporterDamper` one by one. The other
    services' reports come from distinct one-off reporters (`events` draws a 48-bit reporter
    per report), which the damper admits in full, so their counts are used as they are.
    """
    damper = ReporterDamper(max_per_window=3, window_seconds=600)
    counts = sc.reports.copy()
    cols = sorted({sc.services.index(s.service) for s in sc.spam})
    counts[:, cols] = 0.0
    sub = replace(sc, services=tuple(sc.services[j] for j in cols), reports=sc.reports[:, cols],
                  spam_reports=sc.spam_reports[:, cols], outages=())
    for e in events(sub, seed=seed):
        ts = float(np.datetime64(e["ts"][:-1], "ms").astype(np.int64)) / 1000.0
        row = int((ts - sc.t0) // sc.bucket_seconds)
        counts[row, sc.services.index(e["service"])] += damper.admit(
            e["service"], e["reporter"], ts, e["count"])
    return counts


def replay(sc: Scenario, *, reports: np.ndarray | None = None, partials: int = PARTIALS,
           bank: DetectorBank | None = None) -> tuple[DetectorBank, list[Transition]]:
    """Drive a bank through a scenario generated at `BUCKET / partials` second resolution.

    `reports` defaults to organic + spam counts (undamped); pass damped counts to override.
    """
    if not np.isclose(sc.bucket_seconds * partials, BUCKET):
        raise ValueError(f"scenario buckets must be {BUCKET / partials} s for {partials} partials")
    bank = bank or DetectorBank(BankConfig(bucket_seconds=BUCKET))
    bank.ensure(sc.services)
    counts = cumulative(sc.reports + sc.spam_reports if reports is None else reports, partials)
    errs = _error_inputs(sc, partials)
    out: list[Transition] = []
    for m in range(counts.shape[0]):
        start = sc.t0 + m * BUCKET
        for k in range(partials):
            kw = {} if errs is None else {"error_rate": errs[0][m, k], "requests": errs[1][m, k]}
            out += bank.step(start + (k + 1) * sc.bucket_seconds, counts[m, k],
                             fraction=(k + 1) / partials, **kw)
    return bank, out


def evaluate(sc: Scenario, alarms: Sequence[Transition]) -> Score:
    """Score alarms against the scenario's outages after one day of warm-up."""
    days = len(sc.services) * (sc.days - WARMUP / DAY)
    return score(sc.outages, alarms, service_days=days, since=sc.t0 + WARMUP)


def _row(name: str, s: Score, seconds: float) -> dict:
    return {"scenario": name, **s.as_dict(), "runtime_seconds": round(seconds, 2)}


def _merge(scores: Sequence[Score]) -> Score:
    return Score([d for s in scores for d in s.delays], sum(s.misses for s in scores),
                 sum(s.false_alarms for s in scores), sum(s.reopens for s in scores),
                 sum(s.service_days for s in scores))


def run_suite(seeds: int = 3, fleet_services: int = 50, fleet_days: float = 8.0,
              log: Callable[[str], None] = print) -> list[dict]:
    """Score every reference scenario over `seeds` seeds, then a random fleet."""
    rows, every = [], []
    sub = BUCKET / PARTIALS
    for name in REFERENCES:
        t, scores = time.perf_counter(), []
        for seed in range(seeds):
            sc = reference(name, seed=seed, bucket_seconds=sub)
            scores.append(evaluate(sc, replay(sc, reports=damped_counts(sc))[1]))
        rows.append(_row(name, _merge(scores), time.perf_counter() - t))
        every += scores
        log(f"  {name}: {rows[-1]['detected']}/{rows[-1]['outages']} found, "
            f"{rows[-1]['false_alarms']} false alarms")
    t, scores = time.perf_counter(), []
    for seed in range(seeds):  # control: the same spammer scenarios without the damper
        sc = reference("spammer", seed=seed, bucket_seconds=sub)
        scores.append(evaluate(sc, replay(sc)[1]))
    rows.append(_row("spammer-undamped (control)", _merge(scores), time.perf_counter() - t))
    t = time.perf_counter()
    sc = fleet(fleet_services, fleet_days, seed=seeds, with_outages=True, bucket_seconds=sub)
    every.append(evaluate(sc, replay(sc)[1]))
    rows.append(_row(f"fleet-{fleet_services}x{fleet_days:g}d", every[-1],
                     time.perf_counter() - t))
    rows.append(_row("all (control excluded)", _merge(every),
                     sum(r["runtime_seconds"] for r in rows)))
    return rows


def _json_ready(obj: object) -> object:
    """NaN (no outage, no delay) becomes null so the file is strict JSON."""
    if isinstance(obj, dict):
        return {k: _json_ready(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_json_ready(v) for v in obj]
    return None if isinstance(obj, float) and np.isnan(obj) else obj


def markdown(rows: Sequence[dict]) -> str:
    """The rows as a markdown table (delays in seconds)."""
    head = ("| scenario | outages | found | recall | delay median | p90 | max "
            "| false alarms | per service-day |\n|---|---|---|---|---|---|---|---|---|")
    lines = [head]
    for r in rows:
        d = r["delay_seconds"]
        lines.append(f"| {r['scenario']} | {r['outages']} | {r['detected']} | {r['recall']:.2f} "
                     f"| {d['median']:.0f} | {d['p90']:.0f} | {d['max']:.0f} "
                     f"| {r['false_alarms']} | {r['false_alarms_per_service_day']:.4f} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds per reference scenario")
    parser.add_argument("--fleet", type=int, default=50, help="services in the random fleet")
    parser.add_argument("--fleet-days", type=float, default=8.0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    rows = run_suite(args.seeds, args.fleet, args.fleet_days)
    meta = {"seeds": args.seeds, "partials_per_bucket": PARTIALS, "bucket_seconds": BUCKET,
            "warmup_days": WARMUP / DAY, "late_margin_seconds": 600}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(_json_ready({"settings": meta, "rows": rows}), indent=2,
                                       allow_nan=False) + "\n")
    print(markdown(rows))
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
