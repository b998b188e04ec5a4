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
