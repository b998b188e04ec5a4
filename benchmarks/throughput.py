"""Throughput of the vectorised bank against the same logic run per series with river objects.

`python -m benchmarks.throughput [--sizes 1000 10000 100000]` times `DetectorBank.step` (full
60 s buckets, scoring then learning every service) at each size and, in the same run, two
per-series references, scoring before learning:

- **river** (`benchmarks.river_reference.RiverBankSeries`): the bank's logic one series at a
  time, component by component (seasonal level and interpolated hour-of-day / hour-of-week
  profiles, clipped learning, shadow level, NB2 dispersion and gated exact tail, two-sided
  CUSUM with onset and gate, fusion, the incident state machine), river statistics where one
  computes the same thing; the mapping is in that module and `benchmarks/README.md`. A test
  (`tests/benchmarks/test_throughput.py`) checks that it gives the bank's expectations and
  transitions. The speed-up target (>= 50x per series-update) is against this reference.
- **river-light** (`RiverSeries` below, the earlier baseline, kept for comparison): one
  hour-of-week `EWMean` per slot, the gated NB tail, `PageHinkley` on the residual; less work
  than the bank per update, so its ratio is the conservative one.

The references run on at most `--river-series` series (the faithful one warmed up like the
bank, once, then timed for `--river-steps` steps right after each bank size; the light one
as before) and are extrapolated per series-update. Also reported: bytes of state per service
(`len(bank.to_bytes()) / n` and the numpy arrays' nbytes / n; target < 4 KB). Writes
`benchmarks/results/throughput.json` and `benchmarks/results/throughput.png`.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.river_light import RiverSeries
from benchmarks.river_reference import RiverBankSeries, When
from detector import BankConfig, DetectorBank

RESULTS = Path(__file__).parent / "results"
T0 = 1_764_547_200.0  # 2025-12-01T00:00:00Z, a Monday
BUCKET = 60.0
BUSY = 500  # the busy variant: one service in 500 has an open incident while timed


def workload(n: int, steps: int, seed: int = 0) -> np.ndarray:
    """Gamma-Poisson counts (steps, n) for a fleet from ~0.2 to ~300 reports/min."""
    rng = np.random.default_rng(seed)
    base = np.exp(rng.uniform(np.log(0.2), np.log(300.0), n))
    return rng.poisson(base * rng.gamma(20.0, 1 / 20.0, (steps, n))).astype(float)


def array_bytes(obj: Any, seen: set[int] | None = None) -> int:
    """Total nbytes of the numpy arrays reachable from `obj` (attributes, dicts, lists)."""
    seen = set() if seen is None else seen
    if id(obj) in seen or isinstance(obj, str | bytes | int | float | type(None)):
        return 0
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        return obj.nbytes if obj.base is None else array_bytes(obj.base, seen)
    if isinstance(obj, dict):
        return sum(array_bytes(v, seen) for v in obj.values())
    if isinstance(obj, list | tuple | set):
        return sum(array_bytes(v, seen) for v in obj)
    if hasattr(obj, "__dict__"):
        return array_bytes(vars(obj), seen)
    return 0


def time_bank(n: int, warmup: int, min_seconds: float = 2.0, max_steps: int = 400,
              busy: int = 0) -> dict[str, float]:
    """Seconds per steady-state bank step for `n` services, after `warmup` untimed steps.

    ``busy`` > 0: every ``busy``-th service has an outage (x20 + 50 reports) from the first
    timed step on, so incidents are open while timed (the bank's quiet path is then off).
    """
    bank = DetectorBank(BankConfig(bucket_seconds=BUCKET))
    t = time.perf_counter()
    bank.ensure([f"svc-{i:06d}" for i in range(n)])
    add_seconds = time.perf_counter() - t
    data = workload(n, 64)
    timed = data.copy()
    if busy:
        timed[:, ::busy] = timed[:, ::busy] * 20.0 + 50.0
    t = time.perf_counter()
    for k in range(warmup):  # learn a normal level first: steady state is what is timed
        bank.step(T0 + (k + 1) * BUCKET, data[k % 64])
    warm_seconds = time.perf_counter() - t
    walls, opened, cpu, t = [], 0, time.process_time(), time.perf_counter()
    while len(walls) < 5 or (time.perf_counter() - t < min_seconds and len(walls) < max_steps):
        w = time.perf_counter()
        out = bank.step(T0 + (warmup + len(walls) + 1) * BUCKET, timed[len(walls) % 64])
        walls.append(time.perf_counter() - w)
        opened += sum(tr.status == "open" for tr in out)
    cpu_per_step = (time.process_time() - cpu) / len(walls)
    per_step = float(np.median(walls))
    return {"services": n, "steps": len(walls), "seconds_per_step": per_step,
            "cpu_seconds_per_step": cpu_per_step,
            "warmup_steps": warmup, "warmup_seconds_per_step": warm_seconds / max(warmup, 1),
            "opens_while_timed": opened, "live_at_end": sum(
                s.state in ("confirmed", "recovering") for s in bank.status()),
            "updates_per_second": n / per_step, "add_services_seconds": add_seconds,
            "snapshot_bytes_per_service": len(bank.to_bytes()) / n,
            "array_bytes_per_service": array_bytes(bank) / n}


def time_river_light(n: int, steps: int, seed: int = 0) -> dict[str, float]:
    """Seconds per series-update of `n` RiverSeries (river-light) over `steps` steps."""
    series = [RiverSeries() for _ in range(n)]
    data = workload(n, steps + 8, seed).tolist()
    for k in range(8):
        for s, x in zip(series, data[k], strict=True):
            s.step(0, x)
    walls, cpu = [], time.process_time()
    for k in range(8, steps + 8):
        how, w = int(((T0 + k * BUCKET) % (7 * 86_400)) // 3600), time.perf_counter()
        for s, x in zip(series, data[k], strict=True):
            s.step(how, x)
        walls.append(time.perf_counter() - w)
    per_update = float(np.median(walls)) / n
    return {"series": n, "steps": steps, "seconds_per_update": per_update,
            "cpu_seconds_per_update": (time.process_time() - cpu) / (n * steps),
            "updates_per_second": 1 / per_update,
            "pickle_bytes_per_series": len(pickle.dumps(series)) / n}


class Reference:
    """`n` RiverBankSeries on the bank's workload, warmed once, then timed in slices."""

    def __init__(self, n: int, warmup: int) -> None:
        self.series = [RiverBankSeries(BankConfig(bucket_seconds=BUCKET)) for _ in range(n)]
        self.data, self.k, self.opened = workload(n, 64).tolist(), 0, 0
        for _ in range(warmup):
            self._step()

    def _step(self) -> None:
        t_end = T0 + (self.k + 1) * BUCKET
        w = When.at(t_end, BUCKET)
        for s, x in zip(self.series, self.data[self.k % 64], strict=True):
            if s.step(t_end, x, w):
                self.opened += 1
        self.k += 1

    def time(self, steps: int) -> dict[str, float]:
        """Seconds per series-update over the next `steps` steps (median step)."""
        n, walls, cpu = len(self.series), [], time.process_time()
        for _ in range(steps):
            w = time.perf_counter()
            self._step()
            walls.append(time.perf_counter() - w)
        per_update = float(np.median(walls)) / n
        return {"series": n, "steps": steps, "first_step": self.k - steps,
                "seconds_per_update": per_update,
                "cpu_seconds_per_update": (time.process_time() - cpu) / (n * steps),
                "updates_per_second": 1 / per_update, "transitions_so_far": self.opened,
                "pickle_bytes_per_series": len(pickle.dumps(self.series)) / n}


def _ratios(bank: dict[str, Any], ref: dict[str, float], n: int) -> dict[str, float]:
    return {"speedup": bank["updates_per_second"] / ref["updates_per_second"],
            "speedup_cpu": ref["cpu_seconds_per_update"] * n / bank["cpu_seconds_per_step"],
            "seconds_per_step_extrapolated": ref["seconds_per_update"] * n}


def run(sizes: Sequence[int], river_series: int, river_steps: int,
        warmup: int = 240) -> dict[str, Any]:
    """Bank and both references side by side at each size; references extrapolated."""
    rows, ref = [], Reference(min(max(sizes), river_series), warmup)
    for n in sizes:
        bank = time_bank(n, warmup)
        river = ref.time(river_steps)
        light = time_river_light(min(n, river_series), river_steps)
        busy = time_bank(n, warmup, max_steps=300, busy=BUSY)  # < 360: no acceptance
        rows.append({**bank, "river": {**river, **_ratios(bank, river, n)},
                     "river_light": {**light, **_ratios(bank, light, n)},
                     "busy": {**busy, **_ratios(busy, river, n)}})
        r, lt = rows[-1]["river"], rows[-1]["river_light"]
        print(f"  {n:>7} services: bank {bank['updates_per_second']:,.0f} upd/s; river "
              f"{river['updates_per_second']:,.0f} upd/s x{r['speedup']:.0f} (cpu "
              f"x{r['speedup_cpu']:.0f}); river-light {light['updates_per_second']:,.0f} "
              f"upd/s x{lt['speedup']:.0f}; busy bank {busy['updates_per_second']:,.0f} upd/s "
              f"x{rows[-1]['busy']['speedup']:.0f}", flush=True)
    env = {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    return {"rows": rows, "targets": {"speedup": 50, "bytes_per_service": 4096},
            "machine": {"python": platform.python_version(), "numpy": np.__version__,
                        "cpus": os.cpu_count(), **env},
            "load_average": os.getloadavg(),
            "note": (f"references run on min(n, {river_series}) series for {river_steps} steps "
                     "and extrapolated per series-update; bank side on all n services; "
                     "wall times are medians per step (shared, noisy machine), speed-up (cpu) "
                     "compares process CPU time; river = the bank's logic per series "
                     "(benchmarks.river_reference), river-light = the earlier lighter "
                     f"baseline; busy = the bank with one service in {BUSY} in an incident "
                     "while timed (its speed-up is against river)")}


def markdown(result: dict[str, Any]) -> str:
    """The rows as a markdown table."""
    lines = ["| services | bank upd/s | bank ms/step | river upd/s | speed-up (wall / cpu) "
             "| river-light upd/s | speed-up vs light (wall / cpu) | busy: bank ms/step "
             "| busy: speed-up | state B/svc (snapshot / arrays) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        rv, lt, bz = r["river"], r["river_light"], r["busy"]
        lines.append(
            f"| {r['services']:,} | {r['updates_per_second']:,.0f} "
            f"| {1e3 * r['seconds_per_step']:.2f} "
            f"| {rv['updates_per_second']:,.0f} | {rv['speedup']:.0f}x / {rv['speedup_cpu']:.0f}x "
            f"| {lt['updates_per_second']:,.0f} | {lt['speedup']:.0f}x / {lt['speedup_cpu']:.0f}x "
            f"| {1e3 * bz['seconds_per_step']:.2f} | {bz['speedup']:.0f}x "
            f"| {r['snapshot_bytes_per_service']:,.0f} / {r['array_bytes_per_service']:,.0f} |")
    return "\n".join(lines) + f"\n\n{result['note']}."


def plot(result: dict[str, Any], path: Path) -> None:
    """Cost per step vs number of services, log-log, bank and river (extrapolated)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = [r["services"] for r in result["rows"]]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.loglog(n, [r["seconds_per_step"] * 1e3 for r in result["rows"]], "o-", label="DetectorBank")
    ax.loglog(n, [r["busy"]["seconds_per_step"] * 1e3 for r in result["rows"]], "o:",
              label=f"DetectorBank, busy (1 in {BUSY} in an incident)")
    for key, style, label in (("river", "s--", "river, the bank's logic per series"),
                              ("river_light", "^:", "river-light (lighter baseline)")):
        ax.loglog(n, [r[key]["seconds_per_step_extrapolated"] * 1e3 for r in result["rows"]],
                  style, label=label + " (extrapolated)")
    ax.set(xlabel="services", ylabel="ms per 60 s step (all services)",
           title="Cost of one time step")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--river-series", type=int, default=1_000)
    parser.add_argument("--river-steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=240, help="untimed bank steps first")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    result = run(args.sizes, args.river_series, args.river_steps, args.warmup)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "throughput.json").write_text(json.dumps(result, indent=2) + "\n")
    plot(result, args.out / "throughput.png")
    print(markdown(result))
    print(f"\nwritten to {args.out / 'throughput.json'} and throughput.png")


if __name__ == "__main__":
    main()
