"""The throughput reference really computes what the bank computes, series by series."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.river_reference import RiverBankSeries, When
from detector import DetectorBank

T0 = 1_764_547_200.0  # a Monday
N, DAYS = 12, 2.5
SPIKE, RAMP = 3, 7  # services with a planted outage


def workload(seed: int = 4) -> np.ndarray:
    """Seeded daily-seasonal gamma-Poisson counts (steps, N), a spike and a ramp planted."""
    rng = np.random.default_rng(seed)
    steps = int(DAYS * 1440)
    base = np.exp(rng.uniform(np.log(0.5), np.log(200.0), N))
    season = 1 + 0.5 * np.sin(2 * np.pi * np.arange(steps) / 1440)[:, None]
    lam = base * season * rng.gamma(20.0, 1 / 20.0, (steps, N))
    lam[2 * 1440 + 100: 2 * 1440 + 130, SPIKE] *= 30.0
    lam[2 * 1440 + 300: 2 * 1440 + 420, RAMP] *= np.linspace(1.0, 6.0, 120)
    return rng.poisson(lam).astype(float)


@pytest.fixture(scope="module")
def both() -> dict[str, list]:
    """Bank and per-series reference on the same buckets (partial looks on the last day)."""
    x = workload()
    bank = DetectorBank()
    bank.ensure([f"s{i}" for i in range(N)])
    ref = [RiverBankSeries() for _ in range(N)]
    out: dict[str, list] = {"bank": [], "ref": [], "rel": []}
    for k in range(len(x)):
        t_end = T0 + 60.0 * (k + 1)
        looks = [(1 / 3, x[k] / 3), (1.0, x[k])] if k >= 2 * 1440 else [(1.0, x[k])]
        for frac, counts in looks:
            te = t_end - 60.0 * (1 - frac)
            out["bank"] += [(k, tr.service, tr.status, tr.started_at)
                            for tr in bank.step(te, counts, fraction=frac)]
            w = When.at(te, 60.0, frac)
            for i, s in enumerate(ref):
                out["ref"] += [(k, f"s{i}", st, started)
                               for st, started in s.step(te, float(counts[i]), w, frac)]
        exp = np.array([s.expected for s in bank.status()])
        out["rel"].append(np.abs(np.array([s.mu for s in ref]) - exp) / exp)
    return out


def test_the_reference_expectation_tracks_the_bank(both) -> None:
    # the bank keeps its profiles in float32, the reference in float64: close, not equal
    assert float(np.max(both["rel"][1:])) < 1e-5


def test_the_reference_alarms_where_the_bank_does_and_only_there(both) -> None:
    assert both["ref"] == both["bank"]
    opened = {(svc, k) for k, svc, status, _ in both["ref"] if status == "open"}
    assert {svc for svc, _ in opened} == {f"s{SPIKE}", f"s{RAMP}"}  # quiet services: no alarm
    assert (f"s{SPIKE}", 2 * 1440 + 100) in opened  # on the spike's first bucket
    assert any(svc == f"s{RAMP}" and 2 * 1440 + 300 < k < 2 * 1440 + 420 for svc, k in opened)
