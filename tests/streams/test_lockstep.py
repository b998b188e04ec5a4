"""`process_lockstep` gives every partition's pipeline exactly what processing it alone gives."""

from __future__ import annotations

import json
import zlib

import numpy as np

from detector.generators import Outage, Profile, error_events, generate
from streams.input_merge import event_time
from streams.lockstep import Lockstep
from streams.parsing import ERROR_RATES, REPORTS
from streams.pipeline import Pipeline, Record, decode_records

T0 = 1_764_547_200.0  # Monday 2025-12-01 00:00 UTC
PARTITIONS = 4


def _messages() -> list[Record]:
    """A day and a half of 16 services: per-minute counts, single reports for two of them,
    error rates for two others, five outages, a service first seen at 30 h, a partition quiet
    for 40 minutes, and a few bad messages. Time order."""
    names = [f"svc-{i}" for i in range(16)]
    profiles = [Profile(s, base=3.0 + 4 * i, diurnal=0.3, requests=400.0 if i in (2, 9) else 0.0)
                for i, s in enumerate(names)]
    outages = [Outage(names[i], onset=T0 + 3600 * h, end=T0 + 3600 * h + 1500, peak=150.0,
                      error_peak=0.3) for i, h in ((1, 14), (2, 20), (6, 25), (11, 31), (5, 33))]
    sc = generate("lockstep", profiles, t0=T0, days=1.5, outages=outages, seed=3)
    quiet = {zlib.crc32(b"svc-4") % PARTITIONS}  # this partition sends nothing for a while
    out: list[tuple[float, Record]] = []
    for b in range(len(sc.reports)):
        for j, s in enumerate(names):
            n = int(sc.reports[b, j])
            if not n or (j == 15 and b < 1800):  # svc-15 appears at 30 h
                continue
            ts = T0 + 60 * b + 1 + (j % 50)
            if 600 <= b < 640 and zlib.crc32(s.encode()) % PARTITIONS in quiet:
                continue
            if j in (0, 1):  # single reports
                for k in range(min(n, 40)):
                    out.append((ts + k, _rec(REPORTS, {"service": s, "ts": ts + k})))
            else:
                out.append((ts, _rec(REPORTS, {"service": s, "ts": ts, "count": n})))
    for e in error_events(sc):
        rec = _rec(ERROR_RATES, e)
        out.append((event_time(rec), rec))
    for k in range(5):
        out.append((T0 + 3600 * (2 + 5 * k), Record(REPORTS, b'{"service": "svc-3", "ts"')))
    out.sort(key=lambda x: x[0])
    return [r for _, r in out]


def _rec(topic: str, obj: dict) -> Record:
    return Record(topic, json.dumps(obj).encode())


def _partitioned(records: list[Record]) -> dict[int, list[Record]]:
    parts: dict[int, list[Record]] = {p: [] for p in range(PARTITIONS)}
    for rec in records:
        try:
            p = zlib.crc32(json.loads(rec.value)["service"].encode()) % PARTITIONS
        except (ValueError, KeyError):
            p = 0
        parts[p].append(rec._replace(partition=p, offset=len(parts[p])))
    return parts


def _polls(parts: dict[int, list[Record]], rng: np.random.Generator) -> list[dict[int, list]]:
    """Each partition's records in chunks of random sizes (partitions misalign), per poll."""
    chunks = {}
    for p, recs in parts.items():
        cuts = np.cumsum(rng.integers(20, 600, size=len(recs)))
        cuts = cuts[cuts < len(recs)].tolist()
        chunks[p] = [recs[a:b] for a, b in zip([0, *cuts], [*cuts, len(recs)], strict=True)]
    n = max(len(c) for c in chunks.values())
    return [{p: c[k] for p, c in chunks.items() if k < len(c) and c[k]} for k in range(n)]


def _pipes(alerts: dict[int, list], dead: dict[int, list]) -> dict[int, Pipeline]:
    return {p: Pipeline(on_alert=alerts[p].append, on_dead_letter=dead[p].append)
            for p in range(PARTITIONS)}


def test_lockstep_equals_each_partition_alone():
    """Records arrive in chunks of random sizes, one partition per poll as the fetch process
    sends them; the lockstep side queues them and runs (partitions wait for each other
    across polls), the reference processes each chunk at once, partition by partition. Every
    10th round the lockstep side is told that nothing more is coming (so it processes all it
    holds) and the snapshots (bank, buckets, damper, positions, counters) are equal; at the
    end alerts and dead letters too. The group steps are taken most of the time, and some
    are undone (outages)."""
    parts = _partitioned(_messages())
    rounds = _polls(parts, np.random.default_rng(11))
    order = np.random.default_rng(12)
    alerts = {p: [] for p in range(PARTITIONS)}
    dead = {p: [] for p in range(PARTITIONS)}
    alerts_l = {p: [] for p in range(PARTITIONS)}
    dead_l = {p: [] for p in range(PARTITIONS)}
    alone, lock = _pipes(alerts, dead), _pipes(alerts_l, dead_l)
    step = Lockstep(hold_s=3600.0)
    for k, chunks in enumerate(rounds):
        for p in order.permutation(sorted(chunks)).tolist():
            recs = chunks[p]
            alone[p].process(recs)
            step.add(p, list(zip(recs, decode_records(recs), strict=True)))
            step.run(lock, coming=lambda q: True)  # everyone may bring more
        if k % 10 == 0:
            step.run(lock, coming=lambda q: False)
            assert not any(step.holding(p) for p in lock)
            assert [lock[p].snapshot() for p in lock] == [alone[p].snapshot() for p in alone]
    step.run(lock, coming=lambda q: False)
    for pipes in (alone, lock):
        for pipe in pipes.values():
            pipe.flush()
    assert alerts_l == alerts
    assert dead_l == dead
    assert sum(len(a) for a in alerts.values()) >= 10
    assert sum(len(d) for d in dead.values()) == 5
    assert [lock[p].snapshot() for p in lock] == [alone[p].snapshot() for p in alone]
    group = step.group
    assert group.taken > 1000 and group.undone >= 1, (group.taken, group.undone)


def _two_queued(hold_s: float) -> tuple[dict, dict, dict, Lockstep]:
    """Partitions 1 and 3 (no error rates: their full buckets are groupable) with their first
    3,000 records queued in a `Lockstep`; pipelines for it and for reference runs."""
    parts = _partitioned(_messages())
    sink: dict[int, list] = {p: [] for p in range(PARTITIONS)}
    lock, alone = _pipes(sink, sink), _pipes(sink, sink)
    step = Lockstep(hold_s=hold_s)
    for p in (1, 3):
        recs = parts[p][:3000]
        step.add(p, list(zip(recs, decode_records(recs), strict=True)))
    return parts, lock, alone, step


def test_flush_steps_what_waits_and_drops_a_revoked_partition():
    """Partitions 1 and 3 each stop at a close and wait for the others; `flush` steps them,
    drops partition 3's queued records, and leaves both in the state of their records
    processed alone."""
    parts, lock, alone, step = _two_queued(hold_s=3600.0)
    step.run(lock, coming=lambda q: True)
    assert step.holding(1) and step.holding(3)
    step.flush(lock, drop=[3])
    assert step.holding(1) and not step.holding(3)  # 1 still has records queued
    done = {p: lock[p].positions.get((REPORTS, p), 0) for p in (1, 3)}
    assert 0 < done[3] < 3000  # partition 3's queue was dropped, not processed
    for p in (1, 3):
        alone[p].process([r for r in parts[p] if r.offset < done[p]])
        assert lock[p].snapshot() == alone[p].snapshot()


def test_a_partition_that_never_delivers_is_waited_for_once():
    """Partitions 0 and 2 say records are coming but never deliver: the others wait for
    them up to `hold_s` (one run here), then go on to the end without waiting again."""
    parts, lock, alone, step = _two_queued(hold_s=0.0)
    for p in (1, 3):
        alone[p].process(parts[p][:3000])
    step.run(lock, coming=lambda q: q in (0, 2))
    assert step.holding(1) and step.holding(3)  # waited at the first close
    step.run(lock, coming=lambda q: q in (0, 2))
    assert not step.holding(1) and not step.holding(3)
    assert [lock[p].snapshot() for p in (1, 3)] == [alone[p].snapshot() for p in (1, 3)]
    assert step.group.taken > 10


def test_nothing_waits_when_no_record_can_be_read_at_once():
    """Partitions 0 and 2 have records to come, but none can be read now (`ready` False: the
    worker would sit idle waiting for the fetch process): partitions 1 and 3 do not wait
    for them but run through their queues, stepping alone where the others are behind."""
    parts, lock, alone, step = _two_queued(hold_s=3600.0)
    for p in (1, 3):
        alone[p].process(parts[p][:3000])
    step.run(lock, coming=lambda q: q in (0, 2), ready=lambda: False)
    assert not step.holding(1) and not step.holding(3)
    assert [lock[p].snapshot() for p in (1, 3)] == [alone[p].snapshot() for p in (1, 3)]
    assert step.group.taken > 10  # 1 and 3 still step together


def test_a_wait_ends_when_the_backlog_is_full():
    """Waiting while records can be read queues them; once `backlog` records were queued
    during a wait, the late partitions are not waited for until they deliver."""
    parts, lock, alone, step = _two_queued(hold_s=3600.0)
    step.backlog = 5000
    step.run(lock, coming=lambda q: q in (0, 2))
    assert step.holding(1) and step.holding(3)  # they wait
    recs = parts[1][3000:9600]
    step.add(1, list(zip(recs, decode_records(recs), strict=True)))
    step.run(lock, coming=lambda q: q in (0, 2))
    assert not step.holding(1) and not step.holding(3)
