"""A fetch process: kafka-python's fetching and record parsing on the machine's other core.

kafka-python parses every record in pure Python (only the batch CRC is in C, from the crc32c
package), ~7-12 us per message here: about as much as decoding and detection of a single
report together. The child reads record batches with `streams.record_batches` instead (values
and offsets only, ~1.5 us per record; fetching, positions, CRCs and transactions stay
kafka-python's). With `WorkerConfig.fetch_process` (the default; `--in-process-fetch` or
`fetch_process=False` parses in the worker instead) the worker keeps its group consumer for
membership, rebalance callbacks and offset commits (once the child is up its partitions stay
paused; until then it reads, `streams.worker_source`) and a child process (`python -m
streams.fetch_child`, a groupless consumer with the same fetch settings) fetches exactly the
input partitions the worker tells it, from the positions the worker tells it, and ships their
values and offsets back in batches. Where the worker's thread is the bound it assists
(`FetchProcess.assist`, `streams.fetch_assist`): it decodes the reports too, and its
partitions take turns. The worker still owns every position: each assignment carries an
epoch and batches of an older epoch are dropped, so a revoked and re-assigned partition never
mixes data from before its seek. The child exits
when the worker goes away (its pipe closes), also after a SIGKILL of the worker.

It was opt-in for a while: loaded test runs had workers wait for their group assignment.
Cause: kafka-python (3.0.12) completes a join left in flight by a timed-out poll only in a
later poll that still needs a rejoin, so a join completing between two polls is dropped and
sent again (from the group leader: another rebalance), and a leader's join for new partition
metadata is never completed; the group consumer's polls of 0 ms left joins in flight at every
rebalance. `InputSource._settle_group` now waits for a join right after the poll that began
it. Also seen in loaded runs: kafka-python's offset look-ups fail with a KeyError while a
partition's leader is unknown to the client (`list_offsets` asks again).

Parent -> child: ("assign", {(topic, partition): (epoch, position)}), ("pause", [tp]),
("resume", [tp]), ("assist", bool), ("stop",). Child -> parent: [(topic, partition, epoch,
values, offsets, decoded)] plus {(topic, partition): highwater}, once empty when the child
is up (connected, metadata loaded), then after every poll that returned records, and at
least every `POLL_MS` while idle.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from streams.fetch_assist import Decoded

POLL_MS = 50  # the child's longest poll, and its longest silence while idle
CHUNK = 1000  # records per child poll and message: the worker starts on the first chunk while
# the child parses the next (5,000-record chunks left ~0.2 s unshared at each end of a run)
# topic, partition, epoch, values, offsets, and the decoded reports while assisting
Batch = tuple[str, int, int, list[bytes], list[int], "Decoded | None"]


class FetchProcess:
    """Parent-side handle of the fetch child: assignment, pause/resume, batches, highwaters."""

    def __init__(self, bootstrap: str, max_poll_records: int = 5000,
                 decode: Iterable[str] = (), interleave: bool = True) -> None:
        """`decode`: the Kafka topics of reports, which the child decodes as well;
        `interleave`: partitions take turns in the child's polls (`fetch_assist.Turns`)."""
        self.max_poll_records = max_poll_records
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "streams.fetch_child", bootstrap, str(to_child_r),
             str(from_child_w), str(max_poll_records), ",".join(decode),
             "1" if interleave else "0"],
            pass_fds=(to_child_r, from_child_w))
        os.close(to_child_r)
        os.close(from_child_w)
        self._out, self._in = Connection(to_child_w, readable=False), Connection(from_child_r,
                                                                                  writable=False)
        self._lock = threading.Lock()  # rebalance callbacks send from the consumer's IO thread
        self._epochs: dict[tuple[str, int], tuple[int, int]] = {}  # tp -> (epoch, position)
        self._epoch = 0
        self._paused: set[tuple[str, int]] = set()
        self._assist = False
        self.highwater: dict[tuple[str, int], int] = {}

    def _send(self, msg: tuple) -> None:
        with self._lock:
            if not self._out.closed:
                try:
                    self._out.send(msg)
                except OSError:  # the child is gone (e.g. closing after it failed): `poll`
                    pass  # tells its exit code; a revoke callback must not raise here

    def seek(self, topic: str, partition: int, position: int) -> None:
        """Fetch (topic, partition) from `position` on; batches fetched before are dropped."""
        self._epoch += 1
        self._epochs[(topic, partition)] = (self._epoch, position)
        self.highwater.pop((topic, partition), None)
        self._send(("assign", dict(self._epochs)))

    def unassign(self, topic: str, partition: int) -> None:
        self._paused.discard((topic, partition))
        if self._epochs.pop((topic, partition), None) is not None:
            self._send(("assign", dict(self._epochs)))

    def assist(self, on: bool) -> None:
        """Have the child take on part of the worker's work, or not (the start): decode the
        reports and let the partitions take turns (`streams.fetch_assist`). That costs
        the child more than it saves the worker (~6-7 us against ~2-3 per single report,
        which has eight fields to decode and pickle), so it pays only where the worker's
        thread is the bound: where buckets close often (`Worker._pace_assist`)."""
        if on != self._assist:
            self._assist = on
            self._send(("assist", on))

    def pause(self, topic: str, partition: int) -> None:
        self._paused.add((topic, partition))
        self._send(("pause", [(topic, partition)]))

    def resume(self, topic: str, partition: int) -> None:
        self._paused.discard((topic, partition))
        self._send(("resume", [(topic, partition)]))

    def paused(self, topic: str, partition: int) -> bool:
        return (topic, partition) in self._paused

    def ready(self) -> bool:
        """A message from the child is waiting (or it exited: `poll` then says how)."""
        return self._in.poll(0)

    def poll(self, timeout_s: float) -> list[Batch]:
        """The batches of the current epochs the child has sent, waiting up to `timeout_s` for
        the first: what is waiting is taken up to about `max_poll_records` records (the child
        sends smaller chunks, see `CHUNK`, so the worker starts on the first one early)."""
        if not self._in.poll(timeout_s):
            if self._proc.poll() is not None:
                raise RuntimeError(f"fetch process exited with {self._proc.returncode}")
            return []
        out: list[Batch] = []
        taken = 0
        while True:
            try:
                batches, highs = self._in.recv()
            except EOFError:
                raise RuntimeError(f"fetch process exited with {self._proc.wait()}") from None
            self.highwater.update((tp, h) for tp, h in highs.items() if tp in self._epochs)
            for b in batches:
                if self._epochs.get((b[0], b[1]), (-1,))[0] == b[2]:
                    out.append(b)
                    taken += len(b[4])
            if taken >= self.max_poll_records or not self._in.poll(0):
                return out

    def close(self) -> None:
        try:
            self._send(("stop",))
        except OSError:
            pass
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._out.close()
        self._in.close()


def list_offsets(cons: Any, tps: list[Any], *, end: bool, attempts: int = 20) -> dict[Any, int]:
    """Beginning (or end) offsets of `tps`. kafka-python (3.0.12) leaves a partition whose
    leader it does not know at that moment (metadata in flux: a fresh client, a refresh)
    out of its answer, then fails with a KeyError; ask again shortly, `attempts` times in all,
    before letting that KeyError through."""
    ask = cons.end_offsets if end else cons.beginning_offsets
    for attempt in range(attempts):
        try:
            return ask(tps, timeout_ms=10_000) if tps else {}
        except KeyError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.1)  # its metadata refresh was requested by the failed look-up
    return {}
