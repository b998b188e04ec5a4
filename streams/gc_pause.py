"""`gc_paused`: no cyclic garbage collection while a batch is handled.

Its own module, with nothing heavy imported, so the fetch process (`streams.kafka_fetch`, which
keeps its start-up light) uses the same pause as the worker and the pipeline.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection during one batch (it creates no reference cycles).

    Every event of a batch survives until the batch ends, so the collector would otherwise
    scan them again and again (and trigger full collections of the whole heap); reference
    counting still frees everything at once, and collection resumes after the batch.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


YOUNG_THRESHOLD = (50_000, 20, 10)  # `worker_gc`: collections of the young generations


@contextmanager
def worker_gc() -> Iterator[None]:
    """The cyclic collector tuned for a worker's loop, as it was before afterwards.

    The objects alive when the worker starts (modules, clients: ~96,000 after its imports)
    are frozen (`gc.freeze`), so that a full collection no longer walks them (~90 ms each
    here). The youngest generation is collected after 50,000 allocations instead of 700, its
    survivors every 20 of those: between polls it holds the records still queued
    (`streams.lockstep`) and the open buckets' counters, walked again by every collection
    although they die by reference counting (the hot path makes no reference cycles). Cycles
    are still collected, only later; frozen objects are still freed by reference counting.
    """
    old = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*YOUNG_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*old)
        gc.unfreeze()
