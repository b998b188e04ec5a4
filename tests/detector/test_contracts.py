"""One contract suite for every model of `detector`: the same checks, an explicit registry.

Each model is driven through a small `Driver` (how to build it for n services, score a bucket
read-only, learn it, snapshot and restore it, and whether a score means "outage"). Checks:
scoring before learning changes nothing, inputs are not mutated, a snapshot round-trip gives
identical later output, memory does not grow with time and stays under 4 KB per service, and
a seeded outage is found.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from detector import DetectorBank
from detector.changepoint import Cusum
from detector.columns import VectorModel
from detector.counts import NegBinTest
from detector.errorrate import RateBaseline
from detector.seasonal import SeasonalBaseline

N = 3
BASE = np.array([30.0, 2.0, 100.0])
STEPS = 1800  # a day and a quarter of minute buckets
OUTAGE_AT = STEPS - 30


def rate(t: float) -> np.ndarray:
    """True seasonal rate per service (daily cycle) at event time ``t``."""
    return BASE * (1.0 + 0.4 * np.sin(2 * np.pi * t / 86400.0))


def stream(seed: int = 0) -> list[tuple[float, np.ndarray]]:
    """Seeded minute buckets (t_end, counts) with a 10x outage on every service at the end."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(1, STEPS + 1):
        t = 60.0 * i
        lam = rate(t - 30.0) * rng.gamma(20.0, 1 / 20.0, N)
        if i >= OUTAGE_AT:
            lam = lam * 10.0 + 25.0
        out.append((t, rng.poisson(lam).astype(float)))
    return out


def rates_stream(seed: int = 0) -> list[tuple[float, np.ndarray]]:
    """Error rates around 1 % with a jump to 30 % at the end."""
    rng = np.random.default_rng(seed)
    return [(60.0 * i, np.clip(0.01 + 0.002 * rng.standard_normal(N)
                               + (0.3 if i >= OUTAGE_AT else 0.0), 0, 1))
            for i in range(1, STEPS + 1)]


def _arrays(model: VectorModel) -> bytes:
    return pickle.dumps(model.export(""))


def _restore_vm(model: VectorModel) -> VectorModel:
    fresh = type(model)(model.config)  # type: ignore[attr-defined]
    fresh.load(model.export(""), "", len(model.cols))
    if hasattr(model, "_hour"):
        fresh._hour = model._hour  # type: ignore[attr-defined]
    return fresh


@dataclass
class Driver:
    """How the contract suite talks to one model."""

    make: Callable[[], Any]
    score: Callable[[Any, float, np.ndarray], Any]
    learn: Callable[[Any, float, np.ndarray], Any]
    state: Callable[[Any], bytes]
    restore: Callable[[Any], Any]
    found: Callable[[Any], bool]
    data: Callable[[], list[tuple[float, np.ndarray]]] = stream


def _grown(cls: type) -> Callable[[], Any]:
    def make() -> Any:
        m = cls()
        m.grow(N)
        return m
    return make


def _bank() -> DetectorBank:
    bank = DetectorBank()
    bank.ensure(["a", "b", "c"])
    return bank


def _cusum_learn(m: Cusum, t: float, x: np.ndarray) -> None:
    mu = rate(t - 30.0)
    m.update(t - 60.0, (x - mu) / np.sqrt(mu + 0.05 * mu * mu), x, mu)


DRIVERS: dict[str, Driver] = {
    "seasonal": Driver(
        _grown(SeasonalBaseline),
        lambda m, t, x: x / np.maximum(m.expected(t - 30.0), m.prior_floor()),
        lambda m, t, x: m.learn(t - 30.0, x, np.ones(N, bool)), _arrays, _restore_vm,
        lambda s: bool(np.all(s > 4.0))),
    "counts": Driver(
        _grown(NegBinTest), lambda m, t, x: m.pvalue(x, rate(t - 30.0)),
        lambda m, t, x: m.learn(x, rate(t - 30.0), np.ones(N, bool)), _arrays, _restore_vm,
        lambda p: bool(np.all(p < 1e-7))),
    "cusum": Driver(
        _grown(Cusum), lambda m, t, x: m.stat(), _cusum_learn, _arrays, _restore_vm,
        lambda s: bool(np.all(s >= 1.0))),
    "rates": Driver(
        _grown(RateBaseline), lambda m, t, x: m.pvalue(x, None),
        lambda m, t, x: m.learn(x, None, np.ones(N, bool)), _arrays, _restore_vm,
        lambda p: bool(np.all(p < 1e-7)), rates_stream),
    "bank": Driver(
        _bank, lambda m, t, x: m.expected(t), lambda m, t, x: m.step(t, x),
        lambda m: m.to_bytes(), lambda m: DetectorBank.from_bytes(m.to_bytes()),
        lambda s: bool(np.all(s[0] > 0))),
}


def run(drv: Driver, model: Any, data: list[tuple[float, np.ndarray]]) -> list[Any]:
    """Score then learn every bucket; return the learn outputs (transitions for the bank)."""
    outs = []
    for t, x in data:
        drv.score(model, t, x)
        outs.append(drv.learn(model, t, x))
    return outs


@pytest.fixture(scope="module", params=sorted(DRIVERS))
def warmed(request) -> tuple[str, Driver, Any, list]:
    drv = DRIVERS[request.param]
    data = drv.data()
    model = drv.make()
    run(drv, model, data[: STEPS - 60])
    return request.param, drv, model, data


def test_scoring_is_read_only_and_inputs_are_not_mutated(warmed) -> None:
    _, drv, model, data = warmed
    before = drv.state(model)
    t, x = data[STEPS - 60]
    x_copy = x.copy()
    first = drv.score(model, t, x)
    again = drv.score(model, t, x)
    assert drv.state(model) == before
    assert np.array_equal(x, x_copy)
    assert np.array_equal(np.asarray(first, dtype=float), np.asarray(again, dtype=float))
    fresh = drv.restore(model)
    drv.learn(fresh, t, x)
    assert np.array_equal(x, x_copy)


def test_snapshot_round_trip_gives_identical_later_output(warmed) -> None:
    _, drv, model, data = warmed
    a, b = drv.restore(model), drv.restore(model)
    assert drv.state(a) == drv.state(model)
    tail = data[STEPS - 60:]
    assert run(drv, a, tail) == run(drv, b, tail)
    assert drv.state(a) == drv.state(b)
    scores_a = [np.asarray(drv.score(a, t, x), float) for t, x in tail[-3:]]
    scores_b = [np.asarray(drv.score(b, t, x), float) for t, x in tail[-3:]]
    assert all(np.array_equal(p, q, equal_nan=True) for p, q in zip(scores_a, scores_b,
                                                                     strict=True))


def test_memory_is_bounded_and_small(warmed) -> None:
    _, drv, model, data = warmed
    size = len(drv.state(model))
    later = drv.restore(model)
    run(drv, later, data[STEPS - 60:])
    assert len(drv.state(later)) <= size * 1.05 + 2048  # no growth with time
    per = getattr(later, "state_bytes_per_service", None)
    bytes_per = per() if per else later.cols.nbytes_per_service()
    assert bytes_per < 4096


def test_a_seeded_outage_is_found(warmed) -> None:
    name, drv, model, data = warmed
    m = drv.restore(model)
    hits = []
    for t, x in data[STEPS - 60:]:
        s = drv.score(m, t, x)
        hits.append(drv.found(s) if name != "bank" else bool(drv.learn(m, t, x)))
        if name != "bank":
            drv.learn(m, t, x)
    assert not any(hits[: OUTAGE_AT - (STEPS - 60) - 1]), "alarm before the outage"
    assert any(hits[OUTAGE_AT - (STEPS - 60) - 1:]), "outage missed"
