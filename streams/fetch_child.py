"""The fetch process itself (`python -m streams.fetch_child`, started by
`streams.kafka_fetch.FetchProcess`, whose docstring tells what it is for and the messages
both ways): a groupless consumer that fetches the partitions the worker assigns, from the
positions it gives, and sends their values and offsets back in batches from a sender thread
(`_Sender`), up to `AHEAD` messages ahead of the worker."""

from __future__ import annotations

import queue
import sys
import threading
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from streams import kafka_io
from streams.gc_pause import gc_paused
from streams.kafka_fetch import CHUNK, POLL_MS, Batch, list_offsets

if TYPE_CHECKING:  # the child imports it when it starts serving (a light start-up)
    from streams.fetch_assist import Turns

AHEAD = 8  # chunks the child may parse ahead of the worker (`_Sender`)


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
    from streams import record_batches
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
            if not taking:  # (parked records come back: after the worker's pauses, or turns)
                record_batches.unpark(cons)
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


def _end_offsets(cons: Any, tps: list[Any]) -> dict[Any, int]:
    """End offsets of `tps` for `_highwaters`, or none this time (the next poll asks again)."""
    from kafka.errors import KafkaError

    try:
        return list_offsets(cons, tps, end=True, attempts=1)
    except (KeyError, KafkaError):
        return {}


def main(argv: list[str] | None = None) -> None:
    """`python -m streams.fetch_child BOOTSTRAP COMMAND_FD BATCH_FD MAX_POLL_RECORDS
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
