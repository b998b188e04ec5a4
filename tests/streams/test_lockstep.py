"""`process_lockstep` gives every partition's pipeline exactly what processing it alone gives."""

from __future__ import annotations

import json
import zlib

import numpy as np

from detector.bank_group import BankGroup
from detector.generators import Outage, Profile, error_events, generate
from streams.errors import BadMessage
from streams.input_merge import event_time
from streams.lockstep import align, process_lockstep
from streams.parsing import ERROR_RATES, REPORTS
from streams.pipeline import Pipeline, Record, decode_records
from streams.schema import ReportEvent

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
    """Records arrive per poll in chunks of random sizes; the lockstep side aligns them as the
    worker does (`align`: tails wait for the next poll) and the reference processes the same
    records each poll, partition by partition. After every 10th poll the snapshots (bank,
    buckets, damper, positions, counters) are equal, and at the end alerts and dead letters
    too. The group steps are taken most of the time, and some are undone (outages)."""
    parts = _partitioned(_messages())
    polls = _polls(parts, np.random.default_rng(11))
    alerts = {p: [] for p in range(PARTITIONS)}
    dead = {p: [] for p in range(PARTITIONS)}
    alerts_l = {p: [] for p in range(PARTITIONS)}
    dead_l = {p: [] for p in range(PARTITIONS)}
    alone, lock = _pipes(alerts, dead), _pipes(alerts_l, dead_l)
    group = BankGroup()
    waiting: dict[int, list] = {p: [] for p in range(PARTITIONS)}
    for k, poll in enumerate([*polls, {}, {}, {}]):
        work = {}
        for p in range(PARTITIONS):
            recs = poll.get(p, [])
            items = waiting[p] + list(zip(recs, decode_records(recs), strict=True))
            if items:
                work[p] = items
        waiting = {p: [] for p in range(PARTITIONS)}
        waiting.update(align(work))
        for p, items in work.items():
            alone[p].process_decoded(list(items))
        process_lockstep(lock, work, group)
        if k % 10 == 0:
            assert [lock[p].snapshot() for p in lock] == [alone[p].snapshot() for p in alone]
    assert not any(waiting.values())
    for pipes in (alone, lock):
        for pipe in pipes.values():
            pipe.flush()
    assert alerts_l == alerts
    assert dead_l == dead
    assert sum(len(a) for a in alerts.values()) >= 10
    assert sum(len(d) for d in dead.values()) == 5
    assert [lock[p].snapshot() for p in lock] == [alone[p].snapshot() for p in alone]
    assert group.taken > 1000 and group.undone >= 1, (group.taken, group.undone)


def test_align_cuts_at_the_earliest_last_event_time():
    def items(p, times):
        return [(Record(REPORTS, b"", partition=p), BadMessage("not JSON") if t is None
                 else ReportEvent("svc", float(t))) for t in times]
    released = {0: items(0, [1, 5, 9]), 1: items(1, [2, 4, 6, 12]), 2: items(2, [None]),
                3: items(3, [3, 11, 5, 10])}
    tails = align(released)
    assert [ev.ts for _, ev in released[0]] == [1, 5, 9]  # ends earliest: keeps all
    assert [ev.ts for _, ev in released[1]] == [2, 4, 6]
    assert [ev.ts for _, ev in tails[1]] == [12]
    assert [ev.ts for _, ev in released[3]] == [3]  # from the first one past 9, in order
    assert [ev.ts for _, ev in tails[3]] == [11, 5, 10]
    assert len(released[2]) == 1 and 2 not in tails  # only a bad message: not waited for
    assert align({0: items(0, [1, 2])}) == {}
