"""The fast paths equal the reference paths: the inlined ingest (batch decoding and ISO times:
`test_decode_many.py`).

The reference is `decode` record by record and `Pipeline.process_reference` with a bucketer
that never takes the shortcut of `Bucketer.advance`; the fast path is
`decode_many` and `Pipeline.process` / `process_decoded`. Outputs compared exactly: alerts,
dead letters, counters, positions and snapshot bytes.
"""

from __future__ import annotations

import gc
import json
import math
import random
import weakref

import numpy as np
import pytest

from streams.bucketing import Bucketer
from streams.errors import BadMessage
from streams.gc_pause import YOUNG_THRESHOLD, worker_gc
from streams.parsing import decode_many
from streams.pipeline import Pipeline, Record, decode_records
from streams.settings import PipelineSettings
from streams.store import Store
from tests.streams.corpus import mixed_records


@pytest.fixture(scope="module")
def corpus() -> list[Record]:
    return mixed_records()


def _outputs(pipe: Pipeline, alerts: list[dict], dead: list[dict]) -> dict:
    return {"alerts": alerts, "dead": dead, "counters": pipe.counters.as_dict(),
            "positions": pipe.positions, "snapshot": pipe.snapshot(),
            "services": pipe.bank.services}


class _EveryAdvanceInFull(Bucketer):
    """A bucketer whose `advance` never takes its shortcut (nothing is ever "not due")."""

    def _next_due(self) -> float:
        return -math.inf


def _run(recs: list[Record], how: str, batch: int, **kw: object) -> dict:
    alerts: list[dict] = []
    dead: list[dict] = []
    pipe = Pipeline(on_alert=alerts.append, on_dead_letter=dead.append, **kw)  # type: ignore[arg-type]
    if how == "reference":
        pipe.bucketer = _EveryAdvanceInFull(pipe.settings)
    for k in range(0, len(recs), batch):
        chunk = recs[k:k + batch]
        if how == "reference":
            pipe.process_reference(chunk)
        elif how == "decoded":  # what the Kafka worker does
            pipe.process_decoded(list(zip(chunk, decode_records(chunk), strict=True)))
        else:
            pipe.process(iter(chunk))
    pipe.flush()
    return _outputs(pipe, alerts, dead)


@pytest.mark.parametrize(("how", "batch"), [("process", 1), ("process", 777),
                                            ("decoded", 5000)])
def test_pipeline_fast_path_equals_reference(corpus: list[Record], how: str, batch: int) -> None:
    want = _run(corpus, "reference", 1000)
    got = _run(corpus, how, batch)
    assert [a["status"] for a in want["alerts"]].count("open") >= 1
    assert {d["reason"] for d in want["dead"]} >= {"late", "far from watermark", "not json"}
    assert got == want


def test_pipeline_fast_path_equals_reference_with_store(corpus: list[Record]) -> None:
    settings = PipelineSettings(partial_every=5.0, allowed_lateness=60.0)
    ref_store, fast_store = Store(":memory:"), Store(":memory:")
    want = _run(corpus, "reference", 500, settings=settings, store=ref_store)
    got = _run(corpus, "process", 500, settings=settings, store=fast_store)
    assert got == want
    assert ref_store.incidents() == fast_store.incidents()
    assert ref_store.services() == fast_store.services()
    for name in want["services"]:
        assert ref_store.series(name) == fast_store.series(name)


def test_gc_is_paused_only_inside_a_batch() -> None:
    values = [b'{"service": "a", "ts": 1770112800}'] * 3
    assert gc.isenabled()
    decode_many("reports", values)
    assert gc.isenabled()
    gc.disable()
    try:
        decode_many("reports", values)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_worker_gc_freezes_the_start_and_restores_the_collector() -> None:
    """`worker_gc`: what is alive at its start is frozen, the young generations collect
    less often, and both are as before afterwards (also after an error); cycles made
    meanwhile are still collected."""
    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    with pytest.raises(RuntimeError), worker_gc():
        assert gc.get_freeze_count() > frozen
        assert gc.get_threshold() == YOUNG_THRESHOLD
        cycle: list = []
        cycle.append(cycle)
        ref = weakref.ref(_Node(cycle))
        gc.collect()
        assert ref() is None  # a cycle made while the worker runs: still collected
        raise RuntimeError("stop")
    assert gc.get_threshold() == before and gc.get_freeze_count() == frozen


class _Node:
    def __init__(self, other: object) -> None:
        self.me, self.other = self, other


def _jittered(seed: int) -> list[Record]:
    """A short seeded stream whose times walk forward with jitter back and jumps ahead, so
    that many events land next to closes, early looks and the first close."""
    rng = random.Random(seed)
    t = 1770112800.0 + rng.uniform(0, 60)
    recs = []
    for k in range(400):
        t += rng.choice([0.0, 0.001, 0.5, 1.0, 3.0, 7.0, 30.0])
        ts = t - rng.choice([0.0, 0.0, 0.0, 5.0, 12.0, 14.999, 15.0, 25.0, 80.0])
        obj = {"service": rng.choice(["a", "b", "c"]), "ts": ts,
               "count": rng.choice([1, 1, 2, 30, 400])}
        if rng.random() < 0.3:
            obj["reporter"] = rng.choice(["r1", "r2"])
        if rng.random() < 0.1:
            topic, obj = "error-rates", {"service": "a", "ts": ts, "error_rate": rng.random()}
        else:
            topic = "reports"
        recs.append(Record(topic, json.dumps(obj).encode(), None, 0, k))
    return recs


@pytest.mark.parametrize("seed", range(40))
def test_fast_path_equals_reference_on_jittered_streams(seed: int) -> None:
    settings = PipelineSettings(bucket_seconds=10.0, allowed_lateness=15.0, partial_every=2.0,
                                partial_min_seconds=1.0)
    recs = _jittered(seed)
    assert _run(recs, "process", 50, settings=settings) == _run(recs, "reference", 50,
                                                                 settings=settings)


def _admit(b: Bucketer, ts: float) -> float | str:
    try:
        return b.admit(ts)
    except BadMessage as exc:
        return exc.reason


def _views(views: list) -> list:
    return [(v.t_end, v.fraction, v.reports.tolist(), dict(v.context)) for v in views]


@pytest.mark.parametrize("seed", range(20))
def test_bucketer_shortcut_leaves_the_state_of_a_full_advance(seed: int) -> None:
    """After every event, a bucketer taking the shortcut of `advance` has the same exact state
    and emits the same views as one that advances in full (the inlined `add_report` of
    `streams.hotpath` is compared with the reference path by the pipeline tests above).

    Many short streams: the start (before the first close) is the delicate part."""
    rng = random.Random(seed)
    for _ in range(60):
        settings = PipelineSettings(
            bucket_seconds=10.0, allowed_lateness=rng.choice([0.0, 4.0, 15.0]),
            partial_every=rng.choice([2.0, 30.0]), partial_min_seconds=1.0)
        _compare_bucketers(rng, Bucketer(settings), _EveryAdvanceInFull(settings))


def _compare_bucketers(rng: random.Random, fast: Bucketer, full: Bucketer) -> None:
    names = ["a", "b", "c"]
    t = 1770112800.0 + rng.choice([0.0, 3.0, 9.999])
    for _ in range(rng.choice([10, 40, 200])):
        t += rng.choice([0.0, 0.001, 0.25, 1.0, 2.0, 3.0, 10.0, 40.0])
        ts = t - rng.choice([0.0, 0.0, 0.0, 1.0, 3.0, 9.0, 14.999, 15.0, 15.001, 25.0])
        if rng.random() < 0.02:
            band = [rng.choice([5.0, 50.0, math.inf, math.nan]) for _ in names]
            fast.set_band(band)
            full.set_band(band)
        end = _admit(fast, ts)
        assert end == _admit(full, ts)
        if isinstance(end, str):
            continue
        i, count = rng.randrange(3), rng.choice([1.0, 3.0, 20.0])
        fast.add_report(i, end, count, "login", None, "dd")
        full.add_report(i, end, count, "login", None, "dd")
        assert _views(fast.advance(ts, names)) == _views(full.advance(ts, names))
        assert fast.to_state() == full.to_state()


def test_expected_reused_for_the_store_equals_a_fresh_one(corpus: list[Record]) -> None:
    """The band's `bank.expected` of the next bucket, reused for that bucket's store row,
    equals `bank.expected` computed again at that time."""
    pipe = Pipeline(on_alert=lambda a: None, on_dead_letter=lambda d: None, store=Store())
    reused = 0
    cached = pipe._expected_at

    def checked(t_end: float) -> tuple:
        nonlocal reused
        got, fresh = cached(t_end), pipe.bank.expected(t_end)
        reused += pipe._next[2] is not None and got[0] is pipe._next[2][0]  # made for the band
        assert all(np.array_equal(a, b, equal_nan=True) for a, b in zip(got, fresh, strict=True))
        return got

    pipe._expected_at = checked  # type: ignore[method-assign]
    pipe.process(corpus)
    pipe.flush()
    assert reused > 100
