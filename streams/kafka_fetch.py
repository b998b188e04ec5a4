"""A fetch process: kafka-python's fetching and record parsing on the machine's other core.

kafka-python parses every record in pure Python (only the batch CRC is in C, from the crc32c
package), ~7-12 us per message here: about as much as decoding and detection of a single
report together. The child reads record batches with `streams.record_batches` instead (values
and offsets only, ~1.5 us per record; fetching, positions, CRCs and transactions stay
kafka-python's). With `WorkerConfig.fetch_process` (the default; `--in-process-fetch` or
`fetch_process=False` parses in the worker instead) the worker keeps its group consumer for
membership, rebalance callbacks and offset commits (once the child is up its partitions stay
paused; until then it reads, `streams.worker_source`) and a child process (`python -m
streams.kafka_fetch`, a groupless consumer with the same fetch settings) fetches exactly the
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
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from streams import kafka_io
from streams.gc_pause import gc_paused

if TYPE_CHECKING:  # the child imports it when it starts serving (a light start-up)
    from streams.fetch_assist import Decoded, Turns

POLL_MS = 50
CHUNK = 1000  # records per child poll and message: the worker starts on the first chunk while
# the child parses the next (5,000-record chunks left ~0.2 s unshared at each end of a run)
AHEAD = 8  # chunks the child may parse ahead of the worker (`_Sender`)
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
            [sys.executable, "-m", "streams.kafka_fetch", bootstrap, str(to_child_r),
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


# -- the child ------------------------------------------------------------------------------
def _apply(cons: Any, msg: tuple, epochs: dict[Any, int], turns: Turns | None = None) -> bool:
    """Carry out one command; False on "stop"."""
    from kafka import TopicPartition

    kind = msg[0]
    if kind == "stop":
        return False
    if kind == "assign":
        wanted = {TopicPartition(t, p): ep for (t, p), ep in msg[1].items()}
        cons.assign(sorted(wanted, key=lambda tp: (tp.topic, tp.partition)))
        for tp, (epoch, position) in wanted.items():
            if epochs.get(tp) != epoch:
                cons.seek(tp, position)
                epochs[tp] = epoch
        for tp in set(epochs) - set(wanted):
            del epochs[tp]
    elif kind in ("pause", "resume"):
        tps = [TopicPartition(t, p) for t, p in msg[1] if TopicPartition(t, p) in epochs]
        if tps:
            getattr(cons, kind)(*tps)
            if turns is not None:
                turns.paused_by_worker(tps, kind == "pause")
    return True


class _Sender:
    """Sends the child's messages from a thread, up to `AHEAD` chunks ahead of the worker, so
    the child parses the next chunks while the worker is busy with the last (the pipe holds
    less than one chunk: a child sending itself waited for the worker at every chunk)."""

    def __init__(self, out: Connection) -> None:
        self._out, self._queue = out, queue.Queue(maxsize=AHEAD)
        self._error: BaseException | None = None
        threading.Thread(target=self._run, name="fetch-sender", daemon=True).start()

    def _run(self) -> None:
        while True:
            try:
                self._out.send(self._queue.get())
            except OSError as exc:  # the worker went away: `send` raises it in the child
                self._error = exc
                return

    def send(self, message: tuple) -> None:
        while True:
            if self._error is not None:
                raise self._error
            try:
                self._queue.put(message, timeout=0.1)
                return
            except queue.Full:
                continue


def _values_offsets(msgs: list, fast: bool) -> tuple[list[bytes], list[int]]:
    """Values and offsets of polled records: `(offset, value)` tuples when `fast`
    (`streams.record_batches`), else kafka-python's `ConsumerRecord`s."""
    if fast:
        return [m[1] for m in msgs], [m[0] for m in msgs]
    return [m.value for m in msgs], [m.offset for m in msgs]


def _serve(cons: Any, commands: Connection, out: Connection, chunk: int,
           fast: bool = False, decode: frozenset[str] = frozenset(),
           interleave: bool = True) -> None:
    from streams.fetch_assist import Turns, last_ts, report_tuples

    sender = _Sender(out)
    turns = Turns(cons) if interleave and Turns.supported(cons) else None
    taking = False  # turns active at this poll
    assisting = False  # decoding reports (the worker's "assist")
    sender.send(([], {}))  # up: the worker's group consumer has read until now
    epochs: dict[Any, int] = {}
    ends: dict[Any, tuple[int, int]] = {}  # tp -> (epoch, end offset looked up in it)
    batches: list[Batch] = []  # with turns: a round's batches, sent together
    while True:
        while commands.poll(0 if epochs else POLL_MS / 1000):
            msg = commands.recv()
            if msg[0] == "assist":
                assisting = msg[1]
                if turns is not None:
                    turns.set_active(assisting)
            elif not _apply(cons, msg, epochs, turns):
                return
            elif turns is not None:  # (assign: partitions gone)
                turns.keep(epochs)
        if not epochs:
            continue
        # the collector scanned the records in hand mid-poll (~3 us per record): between polls
        with gc_paused():
            taking = turns is not None and turns.active
            if taking and turns.before_poll() and batches:
                sender.send((batches, _highwaters(cons, epochs, ends)))  # a round is over
                batches = []
            polled = cons.poll(timeout_ms=POLL_MS, max_records=chunk)
            reached: dict[Any, float | None] = {}
            for tp, msgs in polled.items():
                if tp in epochs:
                    values, offsets = _values_offsets(msgs, fast)
                    decoded = (report_tuples(values) if assisting and tp.topic in decode
                               else None)
                    batches.append((tp.topic, tp.partition, epochs[tp], values, offsets, decoded))
                    reached[tp] = last_ts(decoded)
            if taking:
                turns.after_poll(reached)
        if not taking or not polled:  # (idle: what there is, and the high-water marks)
            sender.send((batches, _highwaters(cons, epochs, ends)))
            batches = []


def _highwaters(cons: Any, epochs: dict[Any, int], ends: dict[Any, tuple[int, int]]) -> dict:
    """High-water mark per assigned partition: kafka-python's, from its fetch responses, else
    (after a seek it forgets that of an empty partition and never learns it again) the end
    offset looked up once per epoch."""
    highs = {tp: cons.highwater(tp) for tp in epochs}
    unknown = [tp for tp, h in highs.items() if h is None
               and ends.get(tp, (-1, 0))[0] != epochs[tp]]
    if unknown:
        for tp, end in _end_offsets(cons, unknown).items():
            ends[tp] = (epochs[tp], end)
    for tp, h in highs.items():
        if h is None and ends.get(tp, (-1, 0))[0] == epochs[tp]:
            highs[tp] = ends[tp][1]
    return {(tp.topic, tp.partition): h for tp, h in highs.items() if h is not None}


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


def _end_offsets(cons: Any, tps: list[Any]) -> dict[Any, int]:
    """End offsets of `tps` for `_highwaters`, or none this time (the next poll asks again)."""
    from kafka.errors import KafkaError

    try:
        return list_offsets(cons, tps, end=True, attempts=1)
    except (KeyError, KafkaError):
        return {}


def main(argv: list[str] | None = None) -> None:
    """`python -m streams.kafka_fetch BOOTSTRAP COMMAND_FD BATCH_FD MAX_POLL_RECORDS
    [REPORT_TOPICS [INTERLEAVE]]` (started by the worker; REPORT_TOPICS comma-separated,
    INTERLEAVE 1 or 0)."""
    args = argv or sys.argv[1:]
    bootstrap, cmd_fd, out_fd, max_records = args[:4]
    decode = frozenset(t for t in (args[4] if len(args) > 4 else "").split(",") if t)
    interleave = len(args) <= 5 or args[5] == "1"
    commands = Connection(int(cmd_fd), writable=False)
    out = Connection(int(out_fd), readable=False)
    from streams import record_batches

    cons = kafka_io.consumer(bootstrap, None, max_poll_records=int(max_records))
    fast = record_batches.install(cons)  # records read ~5x faster, as (offset, value)
    try:
        kafka_io.load_metadata(cons, all_topics=True)  # while the worker joins its group
        _serve(cons, commands, out, min(CHUNK, int(max_records)), fast, decode, interleave)
    except (EOFError, BrokenPipeError, ConnectionResetError):
        pass  # the worker went away
    finally:
        cons.close()


if __name__ == "__main__":
    main()
