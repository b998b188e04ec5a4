"""Lockstep: a worker's partitions processed so that their pipelines step each full bucket as one.

Each input partition has its own `Pipeline`, whose bank steps once per bucket; with a small
fleet over several partitions those steps are most of a worker's time, and a step costs about
the same for 25 services as for 100 (numpy call overhead). `process_lockstep` runs the
partitions' records of one poll so that each pipeline stops where a full bucket closes
(`Pipeline.process_until_close`), and steps the pipelines that stopped at the same bucket end
together (`detector.bank_group.BankGroup`), earliest bucket first; a pipeline that stopped at
a later bucket waits for the others to get there, or to run out of records.

Every pipeline still goes through exactly its own sequence of events and steps: it is paused,
never reordered, and a group step gives each bank what its own step would have given it (or is
not taken: then each steps alone, as without lockstep). So alerts, dead letters, checkpoints
and restart equivalence are those of the pipelines run one after another; only the order in
which different partitions' alerts are sent changes (each service's own order does not).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence

from detector.bank_group import BankGroup
from streams.errors import BadMessage
from streams.gc_pause import gc_paused
from streams.input_merge import InputMerge
from streams.pipeline import Pipeline, Record
from streams.schema import Event

Decoded = tuple[Record, Event | BadMessage]
__all__ = ["BankGroup", "align", "behind", "process_lockstep"]


def process_lockstep(pipes: Mapping[int, Pipeline], work: Mapping[int, Sequence[Decoded]],
                     group: BankGroup) -> None:
    """Process `work[p]` (decoded records) with `pipes[p]` for every partition p, full buckets
    closing together stepped as one (see the module docstring)."""
    items: dict[int, Iterator[Decoded]] = {p: iter(work[p]) for p in work}
    running = set(items)
    pending: dict[int, list] = {}  # partition -> the views it stopped at (the first one full)
    with gc_paused():
        while True:
            for p in sorted(running - pending.keys()):
                views = pipes[p].process_until_close(items[p])
                if views is None:
                    running.discard(p)
                else:
                    pending[p] = views
            if not pending:
                break
            t = min(views[0].t_end for views in pending.values())
            _step(pipes, [(p, pending.pop(p)) for p in sorted(pending)
                          if pending[p][0].t_end == t], group)
    for p in work:
        pipes[p].commit()


def align(released: Mapping[int, list[Decoded]]) -> dict[int, list[Decoded]]:
    """Cut each partition's released records at a common event time, the tails to be pushed
    back (returned per partition): the partitions of one poll then cover the same stretch of
    event time and close the same buckets, which lockstep steps together.

    The common time is the smallest last event time among the partitions; a partition keeps
    its records up to the first one past it. The partition that ends earliest keeps all of
    them, so every poll moves on. A partition that released nothing is not waited for. Only
    when records are processed changes (later, in the same order), not what they give.
    """
    last = {p: _last_time(items) for p, items in released.items()}
    times = [t for t in last.values() if t > -math.inf]  # (only bad messages: nothing to align)
    if len(times) < 2:
        return {}
    horizon = min(times)
    tails = {}
    for p, items in released.items():
        if last[p] <= horizon:
            continue
        cut = next((i for i, (_, ev) in enumerate(items)
                    if not isinstance(ev, BadMessage) and ev.ts > horizon), len(items))
        if cut < len(items):
            tails[p] = items[cut:]
            del items[cut:]
    return tails


def behind(merges: Mapping[int, InputMerge], idle: Callable[[str, int], bool]) -> list[int]:
    """Partitions with nothing buffered that are not caught up (`idle`): records of theirs are
    still to come, and the others' should wait for them to close the same buckets (each
    poll of the fetch process brings records of one partition)."""
    return [p for p, m in merges.items()
            if not any(m.buffered(t) for t in m.queues) and not all(idle(t, p) for t in m.queues)]


def _last_time(items: list[Decoded]) -> float:
    for _, ev in reversed(items):
        if not isinstance(ev, BadMessage):
            return ev.ts
    return -math.inf


def _step(pipes: Mapping[int, Pipeline], due: list[tuple[int, list]], group: BankGroup) -> None:
    """Step the views the pipelines `due` stopped at: their first (full, same bucket end) as
    one group when `BankGroup` takes it, the rest (rarely any) one pipeline at a time."""
    bands = None
    if len(due) > 1:
        first = [views[0] for _, views in due]
        bands = group.step([pipes[p].bank for p, _ in due], first[0].t_end,
                           [view.reports for view in first])
    for i, (p, views) in enumerate(due):
        if bands is None:
            pipes[p].step_views(views)
        else:
            pipes[p].finish_group_step(views[0], *bands[i])
            pipes[p].step_views(views[1:])
