"""`BankGroup` gives every member bank exactly what its own steps would have given it."""

from __future__ import annotations

import numpy as np
import pytest

from detector import BankConfig, DetectorBank
from detector.bank_group import BankGroup

CFG = BankConfig(bucket_seconds=60)
T0 = 1770000000.0


def _fleets(k: int, n: int, rng: np.random.Generator) -> list[np.ndarray]:
    return [rng.uniform(0.5, 40.0, n) for _ in range(k)]


def _counts(rates: list[np.ndarray], i: int, rng: np.random.Generator,
            spikes: dict[tuple[int, int], float]) -> list[np.ndarray]:
    out = []
    for p, lam in enumerate(rates):
        x = rng.poisson(lam).astype(float)
        for (q, j), factor in spikes.items():
            if q == p and j < len(x):
                x[j] = x[j] * factor + 30.0
        out.append(x)
    return out


def _same(grouped: list[DetectorBank], alone: list[DetectorBank]) -> None:
    for g, a in zip(grouped, alone, strict=True):
        assert g.services == a.services
        assert g.to_bytes() == a.to_bytes()


@pytest.mark.parametrize("seed", [1, 2])
def test_group_steps_equal_separate_steps(seed):
    """Four banks over two days of buckets: spikes open and resolve incidents (those group
    steps are undone and taken one by one), one bank gains a service mid-run, one is
    replaced by its own snapshot, early looks are stepped alone, every 50th bucket is stepped
    bank by bank by the caller (the group's copy of the storage is then stale), one bank misses an
    hour of buckets (its renormalisation hour then differs for a while). After every bucket
    each bank's transitions and next band, and every 7 buckets and after every undone group
    step its snapshot bytes, equal those of a bank that was always stepped alone."""
    rng = np.random.default_rng(seed)
    rates = _fleets(4, 12, rng)
    grouped = [DetectorBank(CFG) for _ in rates]
    alone = [DetectorBank(CFG) for _ in rates]
    for p, lam in enumerate(rates):
        names = [f"p{p}-s{j}" for j in range(len(lam))]
        grouped[p].ensure(names)
        alone[p].ensure(names)
    group = BankGroup()
    taken = undone = 0
    for i in range(1, 2 * 1440):
        t = T0 + 60.0 * i
        spikes = {}
        if 1600 <= i < 1630:
            spikes[(1, 3)] = 8.0  # an outage: opens, updates, resolves
        if 2200 <= i < 2204:
            spikes[(2, 0)] = 20.0
        xs = _counts(rates, i, rng, spikes)
        if i == 1900:  # a new service in bank 3
            rates[3] = np.append(rates[3], 5.0)
            xs[3] = np.append(xs[3], 4.0)
            for banks in (grouped, alone):
                banks[3].add_service("p3-new")
        if i == 2000:  # bank 0 is restored from its checkpoint
            grouped[0] = DetectorBank.from_bytes(grouped[0].to_bytes(), CFG)
        if i % 97 == 0:  # an early look at bank 2, 20 s into the bucket
            early = xs[2] * (1 / 3)
            for banks in (grouped, alone):
                assert banks[2].step(t + 20.0, early, fraction=1 / 3) == []
        steps = list(range(4))
        if 2340 <= i < 2400:  # (a renormalisation hour starts at i = 2360)
            steps = [0, 1, 3]  # bank 2's partition is quiet for an hour (a gap)
        expected = [alone[p].step(t + 60.0, xs[p]) for p in steps]
        bands = [alone[p].expected_band(t + 120.0) for p in steps]
        if i % 50 == 25:  # the caller steps them alone this time (its partitions misaligned)
            got = None
        else:
            got = group.step([grouped[p] for p in steps], t + 60.0, [xs[p] for p in steps])
        if got is None:
            undone += 1
            got_tr = [grouped[p].step(t + 60.0, xs[p]) for p in steps]
            got_bands = [grouped[p].expected_band(t + 120.0) for p in steps]
        else:
            taken += 1
            got_tr = [[] for _ in steps]
            got_bands = got
        assert got_tr == expected
        for (mu, band), (mu_a, band_a) in zip(got_bands, bands, strict=True):
            assert mu.tobytes() == mu_a.tobytes()
            assert band.floor == band_a.floor
            assert band.values().tobytes() == band_a.values().tobytes()
        if i % 7 == 0 or got is None:
            _same([grouped[p] for p in steps], [alone[p] for p in steps])
    _same(grouped, alone)
    assert taken > 2500 and undone >= 3, (taken, undone)


def test_a_group_step_that_would_alert_leaves_the_banks_untouched():
    rng = np.random.default_rng(5)
    banks = [DetectorBank(CFG) for _ in range(2)]
    for p, b in enumerate(banks):
        b.ensure([f"p{p}-s{j}" for j in range(3)])
    group = BankGroup()
    for i in range(1, 200):
        assert group.step(banks, T0 + 60.0 * i, [rng.poisson(5.0, 3).astype(float)] * 2)
    before = [b.to_bytes() for b in banks]
    spike = [np.array([5.0, 900.0, 4.0]), np.array([6.0, 5.0, 5.0])]
    assert group.step(banks, T0 + 60.0 * 200, spike) is None
    assert [b.to_bytes() for b in banks] == before
    opened = banks[0].step(T0 + 60.0 * 200, spike[0])
    assert [t.status for t in opened] == ["open"]


def test_banks_that_cannot_be_grouped_are_refused():
    one = DetectorBank(CFG)
    one.ensure(["a"])
    empty = DetectorBank(CFG)
    other = DetectorBank(BankConfig(bucket_seconds=60, p_open=1e-9))
    other.ensure(["b"])
    group = BankGroup()
    assert group.step([one], T0, [np.ones(1)]) is None  # alone: nothing to gain
    assert group.step([one, empty], T0, [np.ones(1), np.ones(0)]) is None
    assert group.step([one, other], T0, [np.ones(1), np.ones(1)]) is None  # another config
