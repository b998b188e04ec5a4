"""Kafka record batches read straight into (offset, value) pairs, for the fetch process.

kafka-python (3.0.x) reads each record of a v2 batch in pure Python into a `DefaultRecord`
(timestamp, key, headers, checksum), then wraps it in a 13-field `ConsumerRecord`: ~12 us per
record here, nearly all of a consumer's CPU. The fetch process (`streams.kafka_fetch`) needs
only values and offsets, so `install` gives its consumer `FastPartitionRecords`, which reads
each batch in one loop: ~2 us per record. Everything around the records stays kafka-python's:
fetch requests and sessions, positions, CRC checks of each batch (crc32c in C), transactions
(aborted batches, control batches), compression, legacy (v0/v1) message sets, which are read
by kafka-python itself.

Each record is checked as kafka-python checks it (its declared length against what was read,
the header count, no bytes left over in the batch), and the same `CorruptRecordError`s are
raised. `tests/streams/test_record_batches.py` compares the output with kafka-python's own
reading over generated batches (keys, null values, headers, long varints, compression,
control batches, offsets skipped within a batch).

Only the consumers given to `install` are changed (the fetch process's and the worker's
group consumer, `streams.worker_source`): their polls return `(offset, value)` tuples
instead of `ConsumerRecord`s. `unpark`, called before their polls, works around
kafka-python leaving a resumed partition's parked records unread.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kafka.consumer.fetcher import Fetcher, IsolationLevel
from kafka.errors import CorruptRecordError
from kafka.record.util import decode_varint

FAST_MAGIC = 2  # the record batch format read here; others go to kafka-python's reader


def _skip_headers(data: bytes, pos: int) -> int:
    """Position after the headers whose count is at `pos` (checked as kafka-python does)."""
    count, pos = decode_varint(data, pos)
    if count < 0:
        raise CorruptRecordError(f"Found invalid number of record headers {count}")
    for _ in range(count):
        size, pos = decode_varint(data, pos)
        if size < 0:
            raise CorruptRecordError(f"Invalid negative header key size {size}")
        data[pos:pos + size].decode("utf-8")  # a header key must be UTF-8, as there
        pos += size
        size, pos = decode_varint(data, pos)
        if size > 0:
            pos += size
    return pos


def read_records(data: bytes, pos: int, count: int,
                 base_offset: int) -> tuple[list[int], list[bytes | None]]:
    """Offsets and values of the `count` records of a v2 batch body starting at `pos`.

    The record layout (KIP-98): length, attributes, timestamp delta, offset delta, key, value
    and headers, each length and delta a zigzag varint. Raises `CorruptRecordError` where
    kafka-python's `DefaultRecordBatch` would.
    """
    offsets, values, error = _read(data, pos, count, base_offset)
    if error is not None:
        raise error
    return offsets, values


def _read(data: bytes, pos: int, count: int, base_offset: int
          ) -> tuple[list[int], list[bytes | None], CorruptRecordError | None]:
    """`read_records`, returning the records read before an error along with it."""
    offsets: list[int] = []
    values: list[bytes | None] = []
    add_offset, add_value = offsets.append, values.append
    try:
        for _ in range(count):
            # zigzag varints (`decode_varint`), 1- and 2-byte ones inlined: (v >> 1) ^ -(v & 1)
            b = data[pos]  # record length
            if b < 128:
                length, pos = (b >> 1) ^ -(b & 1), pos + 1
            elif data[pos + 1] < 128:
                b = (b & 127) | (data[pos + 1] << 7)
                length, pos = (b >> 1) ^ -(b & 1), pos + 2
            else:
                length, pos = decode_varint(data, pos)
            start = pos
            pos = pos + 1 if data[pos] < 128 else decode_varint(data, pos)[1]  # attributes: unused
            while data[pos] > 127:  # timestamp delta: unused, skipped
                pos += 1
            pos += 1
            b = data[pos]  # offset delta
            if b < 128:
                delta, pos = (b >> 1) ^ -(b & 1), pos + 1
            else:
                delta, pos = decode_varint(data, pos)
            b = data[pos]  # key length (the key is not kept)
            if b < 128:
                size, pos = (b >> 1) ^ -(b & 1), pos + 1
            else:
                size, pos = decode_varint(data, pos)
            if size > 0:
                pos += size
            b = data[pos]  # value length
            if b < 128:
                size, pos = (b >> 1) ^ -(b & 1), pos + 1
            elif data[pos + 1] < 128:
                b = (b & 127) | (data[pos + 1] << 7)
                size, pos = (b >> 1) ^ -(b & 1), pos + 2
            else:
                size, pos = decode_varint(data, pos)
            if size >= 0:
                add_value(data[pos:pos + size])
                pos += size
            else:
                add_value(None)
            if data[pos] == 0:  # no headers
                pos += 1
            else:
                pos = _skip_headers(data, pos)
            if pos - start != length:
                values.pop()
                return offsets, values, CorruptRecordError(
                    f"Invalid record size: expected to read {length} bytes in record payload, "
                    f"but instead read {pos - start}")
            add_offset(base_offset + delta)
    except CorruptRecordError as err:  # from `_skip_headers`
        del values[len(offsets):]
        return offsets, values, err
    except (ValueError, IndexError) as err:
        del values[len(offsets):]
        return offsets, values, CorruptRecordError(f"Found invalid record structure: {err!r}")
    if pos != len(data):
        return offsets, values, CorruptRecordError(
            f"{len(data) - pos} unconsumed bytes after all records consumed")
    return offsets, values, None


def batch_records(batch: Any, check_crcs: bool = True
                  ) -> tuple[list[int], list[bytes | None], Exception | None]:
    """Offsets and values of one record batch (`kafka.record` batch of any format, its CRC
    already checked), and the error that stopped the reading if one did (the records before
    it are still returned, as kafka-python returns them): v2 batches read by `_read`, older
    ones by kafka-python (their records carry CRCs of their own, checked if `check_crcs`)."""
    if batch.magic != FAST_MAGIC:
        offsets, values = [], []
        try:
            for r in batch:
                if check_crcs and not r.validate_crc():
                    raise CorruptRecordError(f"Record at offset {r.offset} failed crc check")
                offsets.append(r.offset)
                values.append(r.value)
        except Exception as exc:  # noqa: BLE001 - handed to `take`, which raises it
            return offsets, values, exc
        return offsets, values, None
    batch._maybe_uncompress()  # kafka-python's own: the codecs and its buffer after them
    return _read(bytes(batch._buffer), batch._pos, batch.records_count, batch.base_offset)


class FastPartitionRecords(Fetcher.PartitionRecords):
    """kafka-python's records of one fetched partition, taken as `(offset, value)` tuples.

    `take` is kafka-python's contract (at most `n` records from the fetch offset on, the next
    fetch offset moved past them, an error raised after the records read before it, `drain`
    at the end); the per-batch handling (CRC, transactions, control batches, the next offset
    after the last batch) is kafka-python's `_unpack_records` with the record loop replaced.
    """

    def __init__(self, fetch_offset: int, tp: Any, records: Any, **kwargs: Any) -> None:
        super().__init__(fetch_offset, tp, records, **kwargs)
        self._batches = self._read_batches(records)
        self._offsets: list[int] = []
        self._values: list[bytes | None] = []
        self._at = 0  # next record of the current batch

    def take(self, n: int | None = None) -> list[tuple[int, bytes | None]]:
        self._maybe_raise_next_inline_exception()
        out: list[tuple[int, bytes | None]] = []
        try:
            while self.record_iterator is not None and (n is None or len(out) < n):
                offsets, at = self._offsets, self._at
                if at >= len(offsets):
                    got = next(self._batches, None)
                    if got is None:  # drained at its end (also when it raised before)
                        self.drain()
                        break
                    self._offsets, self._values, self._at = got
                    continue
                end = len(offsets) if n is None else min(len(offsets), at + n - len(out))
                out.extend(zip(offsets[at:end], self._values[at:end], strict=True))
                self._at = end
                self.records_read += end - at
                self.next_fetch_offset = offsets[end - 1] + 1
        except Exception as e:
            if not out:
                raise
            self._next_inline_exception = e  # raised by the next `take`, as kafka-python does
        return out

    def _read_batches(self, records: Any) -> Iterator[tuple[list[int], list, int]]:
        """(offsets, values, first index at or after the fetch offset) of each data batch."""
        batch = records.next_batch()
        last = None
        while batch is not None:
            last = batch
            if self.check_crcs and not batch.validate_crc():
                raise CorruptRecordError(
                    f"Record batch for partition {self.topic_partition} at offset "
                    f"{batch.base_offset} failed crc check")
            if batch.magic == FAST_MAGIC and self._skipped(batch):
                self.next_fetch_offset = batch.next_offset
                batch = records.next_batch()
                continue
            offsets, values, error = batch_records(batch, self.check_crcs)
            self.bytes_read += batch.size_in_bytes
            first = 0
            while first < len(offsets) and offsets[first] < self.fetch_offset:
                first += 1  # a fetch from the middle of a batch gets all of it
            if first < len(offsets):
                yield offsets, values, first
            if error is not None:
                raise error
            batch = records.next_batch()
        if last is not None and last.magic == FAST_MAGIC:
            self.next_fetch_offset = last.next_offset
        self.drain()

    def _skipped(self, batch: Any) -> bool:
        """An aborted transaction's batch or a control batch: not returned (kafka-python's
        `_unpack_records`, which also tracks the aborted producers)."""
        self.leader_epoch = batch.leader_epoch
        if (self.isolation_level == IsolationLevel.READ_COMMITTED
                and batch.has_producer_id()):
            self._consume_aborted_transactions_up_to(batch.last_offset)
            if self._contains_abort_marker(batch):
                self.aborted_producer_ids.discard(batch.producer_id)
            elif self._is_batch_aborted(batch):
                return True
        return batch.is_control_batch


def install(consumer: Any) -> bool:
    """Have `consumer` (a kafka-python `KafkaConsumer`) read batches with
    `FastPartitionRecords`; its polls then return `(offset, value)` tuples. False (and nothing
    changed) if this kafka-python has no such place to put it."""
    fetcher = getattr(consumer, "_fetcher", None)
    if getattr(fetcher, "PartitionRecords", None) is not Fetcher.PartitionRecords:
        return False
    fetcher.PartitionRecords = FastPartitionRecords
    return True


def unpark(consumer: Any) -> None:
    """Let `consumer`'s parked records come back in line; call it before every poll.

    A partition paused while its parsed records are in line has them parked (KAFKA-7548) and
    is not fetched while they are. kafka-python (3.0.12) brings them back, once the partition
    is resumed, only at a poll that finds its in-line slot empty (None); but it leaves a
    drained record set in that slot until the next fetch of another partition replaces it,
    and it empties the slot only when it parks something. So a partition resumed after a
    pause (the worker's `_throttle`, the fetch process's turns) could wait for as long as no
    other partition was paused, and for good once the others ran dry. A drained slot is
    emptied here (what kafka-python does with it at its next fetch anyway)."""
    fetcher = getattr(consumer, "_fetcher", None)
    nxt = getattr(fetcher, "_next_partition_records", None)
    if nxt is not None and not nxt:
        fetcher._next_partition_records = None  # type: ignore[union-attr]
