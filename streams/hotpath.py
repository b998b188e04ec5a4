"""The inlined ingest of `Pipeline.process_decoded` (the GC pause per batch: `streams.gc_pause`).

`run_items` is `Pipeline._process_one` for each item, with the common case written out in
one loop: a report of a known service that `Bucketer.admit` accepts is counted, damped,
added to its bucket (`Bucketer.add_report`, written out, with `Bucketer.crossed` when the
count passes its band's floor) and moves event time (`Bucketer.advance`, whose own shortcut
is taken when nothing is due), reading and writing the same state in the same order; every
other item, and every advance that has work to do, goes through the reference methods.
`tests/streams/test_fastpath.py` checks
that both paths give identical outputs. A step `Pipeline.process_until_close` holds back
(`Pipeline.deferred`) ends the loop after its event, the rest of `items` left unread.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING

from streams.errors import BadMessage
from streams.schema import Event, ReportEvent

if TYPE_CHECKING:
    from streams.pipeline import Pipeline, Record


def run_items(pipe: Pipeline, items: Iterable[tuple[Record, Event | BadMessage]]) -> None:
    """`pipe._process_one(rec, event)` for each item, the common report inlined."""
    b, counters, positions = pipe.bucketer, pipe.counters, pipe.positions
    ids, names, damp, crossed = pipe._ids, pipe._names, pipe.damper.admit, b.crossed
    width, far, lateness, skew = b.bucket_seconds, b.far, b.lateness, b.skew
    floor = math.floor
    n = 0  # items counted here and not yet added to `counters`
    try:
        for rec, event in items:
            if event.__class__ is ReportEvent:
                service, ts, count, cat, reg, src, reporter, _ = event
                seen, closed, wall = b._max_seen, b._closed_until, b._wall
                end = (floor(ts / width) + 1) * width  # Bucketer.end_of
                i = ids.get(service)
                if (i is not None and seen is not None and ts <= seen + far
                        and end > seen - lateness and (closed is None or end > closed)
                        and (wall is None or ts <= wall + skew)):  # Bucketer.admit
                    n += 1
                    if reporter:
                        count = damp(service, reporter, ts, count)
                    # Bucketer.add_report, written out (a call per report costs ~4%)
                    bucket = b._open.get(end)
                    if bucket is None:
                        bucket = b._bucket(end)
                    reports = bucket.reports
                    total = reports[i] = reports.get(i, 0.0) + count
                    if count > 1.0:
                        batched = bucket.batched
                        batched[i] = batched.get(i, 0.0) + count
                    if cat or reg or src:
                        ctx = bucket.context.get(i)
                        if ctx is None:
                            ctx = bucket.context[i] = [{}, {}, {}]
                        if cat:
                            d = ctx[0]
                            d[cat] = d.get(cat, 0.0) + count
                        if reg:
                            d = ctx[1]
                            d[reg] = d.get(reg, 0.0) + count
                        if src:
                            d = ctx[2]
                            d[src] = d.get(src, 0.0) + count
                    band = b._band
                    low = band.floor
                    if i < len(low) and total > low[i]:  # (UpperBand.passed's own first test)
                        crossed(i, end, total)
                    top = ts if ts > seen else seen
                    if top < b._due and not b._pending:
                        b._max_seen = top  # Bucketer.advance: provably nothing due yet
                    else:
                        counters.processed += n
                        counters.events += n
                        n = 0
                        pipe._run(b.advance(ts, names))
                        if pipe.deferred is not None:  # held back for a group step: stop
                            if rec.offset >= 0:
                                positions[(rec.topic, rec.partition)] = rec.offset + 1
                            break
                    if rec.offset >= 0:
                        positions[(rec.topic, rec.partition)] = rec.offset + 1
                    continue
            counters.processed += n
            counters.events += n
            n = 0
            pipe._process_one(rec, event)
            if pipe.deferred is not None:
                break
    finally:
        counters.processed += n
        counters.events += n

