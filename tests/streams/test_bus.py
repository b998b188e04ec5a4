"""In-memory bus, consumer positions and the embedded worker's checkpoint/restart."""

from __future__ import annotations

import json
from pathlib import Path

from streams.bus import BusConsumer, EmbeddedWorker, InMemoryBus, partition_for
from streams.sqlite_checkpoint import SqliteCheckpoint
from tests.streams.gen import T0


def test_partitioning_is_stable_and_by_key() -> None:
    bus = InMemoryBus(partitions=4)
    recs = [bus.produce("reports", b"x", key=k) for k in ["a", "b", "a", "c", "a"]]
    assert len({r.partition for r in recs if r.key == b"a"}) == 1
    assert recs[0].partition == partition_for("a", 4) == partition_for(b"a", 4)
    for part in {r.partition for r in recs}:  # offsets count up per partition
        assert [r.offset for r in recs if r.partition == part] == list(
            range(sum(r.partition == part for r in recs)))


def test_consumer_positions_and_group_commit() -> None:
    bus = InMemoryBus(partitions=2)
    for k in range(10):
        bus.produce("reports", str(k).encode(), key=f"s{k}")
    cons = BusConsumer(bus, ["reports", "error-rates"], group="g")
    got = cons.poll(max_records=4)
    assert 0 < len(got) <= 4
    cons.commit()
    rest = BusConsumer(bus, ["reports", "error-rates"], group="g").poll(100)
    assert sorted(r.value for r in got + rest) == sorted(str(k).encode() for k in range(10))
    assert cons.poll(100, timeout=0.01) != [] and cons.poll(100, timeout=0.01) == []


def _feed(bus: InMemoryBus, n_minutes: int) -> None:
    for m in range(n_minutes):
        count = 2000 if 150 <= m < 153 else 20
        for j in range(4):
            bus.produce("reports", json.dumps({"service": "chatgpt", "ts": T0 + 60 * m + 15 * j,
                                               "count": count / 4}).encode(), key="chatgpt")
        bus.produce("reports", b"not json", key="chatgpt")


def _drain(worker: EmbeddedWorker, limit: int | None = None) -> int:
    done = 0
    while (limit is None or done < limit) and (n := worker.step(max_records=50, timeout=0)):
        done += n
    return done


def test_embedded_worker_restart_gives_the_same_alerts(tmp_path: Path) -> None:
    bus = InMemoryBus()
    _feed(bus, 170)
    straight: list[dict] = []
    w = EmbeddedWorker(bus, EmbeddedWorker.restore_pipeline(
        SqliteCheckpoint(":memory:"), on_alert=straight.append, on_dead_letter=lambda d: None))
    _drain(w)
    w.pipeline.flush()
    assert any(a["status"] == "open" for a in straight)

    ckpt = SqliteCheckpoint(tmp_path / "ckpt.sqlite")
    first: list[dict] = []
    w1 = EmbeddedWorker(bus, EmbeddedWorker.restore_pipeline(
        ckpt, on_alert=first.append, on_dead_letter=lambda d: None), ckpt, checkpoint_every=300)
    _drain(w1, limit=3000)  # then "crash": whatever came after the last checkpoint is lost
    saved = ckpt.load()
    assert saved is not None and saved[1][("reports", 0)] > 0
    replayed: list[dict] = []
    w2 = EmbeddedWorker(bus, EmbeddedWorker.restore_pipeline(
        SqliteCheckpoint(tmp_path / "ckpt.sqlite"), on_alert=replayed.append,
        on_dead_letter=lambda d: None), ckpt)
    assert w2.consumer.positions[("reports", 0)] == saved[1][("reports", 0)]
    _drain(w2)
    w2.pipeline.flush()
    ids = [a["alert_id"] for a in straight]
    seen = [a["alert_id"] for a in first] + [a["alert_id"] for a in replayed]
    assert set(seen) == set(ids)  # nothing missing, nothing new; repeats only of the same ids
    assert [a["alert_id"] for a in replayed] == ids[len(ids) - len(replayed):]
    assert w2.pipeline.counters.dead_letter == {"not json": 170}
