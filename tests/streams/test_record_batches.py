"""`streams.record_batches` against kafka-python's own reading of the same fetched bytes.

Batches are built with kafka-python's builders: keys and null keys, null and empty values,
values long enough for 3-byte length varints, headers, offset and timestamp deltas beyond
one byte, gzip, legacy (v1) message sets, control batches, a fetch offset in the middle of a
batch, and corrupt records. Both readers are `Fetcher.PartitionRecords` driven by the same
sequence of `take(n)`: the records, the next fetch offset, `bool` (drained) and the errors
must agree at every step.
"""

from __future__ import annotations

import random
import struct

import pytest
from kafka.consumer.fetcher import Fetcher
from kafka.errors import CorruptRecordError
from kafka.record import MemoryRecords
from kafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder
from kafka.record.legacy_records import LegacyRecordBatchBuilder
from kafka.record.util import calc_crc32c
from kafka.structs import TopicPartition

from streams.record_batches import FastPartitionRecords, install, read_records

TP = TopicPartition("reports", 3)
GZIP = DefaultRecordBatch.CODEC_GZIP


def v2_batch(base: int, records: list[tuple], compression: int = 0,
             control: bool = False) -> bytes:
    """One v2 batch of (offset delta, timestamp ms, key, value, headers) records."""
    b = DefaultRecordBatchBuilder(magic=2, compression_type=compression, is_transactional=False,
                                  producer_id=-1, producer_epoch=-1, base_sequence=-1,
                                  batch_size=1 << 30)
    for delta, ts, key, value, headers in records:
        b.append(delta, timestamp=ts, key=key, value=value, headers=headers)
    data = bytearray(b.build())
    struct.pack_into(">q", data, 0, base)
    if control:  # the control flag (0x20 of the attributes), the CRC made good again
        attrs_at, crc_at = DefaultRecordBatch.ATTRIBUTES_OFFSET, DefaultRecordBatch.CRC_OFFSET
        data[attrs_at + 1] |= 0x20
        struct.pack_into(">I", data, crc_at, calc_crc32c(memoryview(data)[attrs_at:]))
    return bytes(data)


def v1_batch(base: int, values: list[bytes]) -> bytes:
    b = LegacyRecordBatchBuilder(magic=1, compression_type=0, batch_size=1 << 30)
    for i, v in enumerate(values):
        b.append(base + i, timestamp=1_770_000_000_000 + i, key=None, value=v)
    return bytes(b.build())


def random_records(rng: random.Random, n: int, step: int = 1) -> list[tuple]:
    """n records with every field shape a reader must get past."""
    out = []
    for i in range(n):
        key = rng.choice([None, b"", b"svc-1", bytes(rng.randrange(256) for _ in range(90))])
        value = rng.choice([None, b"", b'{"service": "a", "ts": 1}',
                            rng.randbytes(rng.choice([10, 70, 200, 9000, 20000]))])
        headers = rng.choice([[], [], [("trace", b"x" * rng.randrange(200))],
                              [("a", None), ("\u00e9t\u00e9", b"")]])
        out.append((i * step, 1_770_000_000_000 + rng.choice([0, 5, 300, 10**7]) * i,
                    key, value, headers))
    return out


def drive(buf: bytes, fetch_offset: int, takes: list[int | None], check_crcs: bool = True):
    """The same takes on kafka-python's reader and on the fast one: their answers per step."""
    answers = []
    for cls in (Fetcher.PartitionRecords, FastPartitionRecords):
        part = cls(fetch_offset, TP, MemoryRecords(buf), check_crcs=check_crcs)
        steps = []
        for n in takes:
            if not part:  # drained: kafka-python's fetcher takes no more from it
                break
            try:
                got = part.take(n)
            except CorruptRecordError as exc:
                steps.append(("error", type(exc)))
                break
            if cls is Fetcher.PartitionRecords:
                got = [(r.offset, r.value) for r in got]
            steps.append((got, part.next_fetch_offset, bool(part)))
        answers.append(steps)
    return answers


@pytest.mark.parametrize("seed", range(12))
def test_random_batches_read_as_kafka_python_reads_them(seed):
    rng = random.Random(seed)
    parts, base = [], 0
    for _ in range(rng.randrange(1, 6)):
        n, step = rng.randrange(1, 300), rng.choice([1, 1, 3, 70])
        kind = rng.choice(["plain", "plain", "gzip", "control", "v1"])
        if kind == "v1":
            parts.append(v1_batch(base, [rng.randbytes(rng.randrange(1, 300)) for _ in range(n)]))
            base += n
            continue
        recs = random_records(rng, 1 if kind == "control" else n, step)
        parts.append(v2_batch(base, recs, GZIP if kind == "gzip" else 0, kind == "control"))
        base += recs[-1][0] + 1
    buf = b"".join(parts)
    fetch_offset = rng.randrange(0, max(1, base // 2))
    takes = [rng.choice([1, 7, 50, 500, None]) for _ in range(40)]
    stock, fast = drive(buf, fetch_offset, takes)
    assert fast == stock
    assert sum(len(s[0]) for s in stock if s[0] != "error") > 0 or base == 0


def test_every_record_and_the_offsets_after_the_last_batch():
    recs = random_records(random.Random(7), 400, step=2)
    buf = v2_batch(1000, recs) + v2_batch(1800, recs[:10], GZIP)
    stock, fast = drive(buf, 1000, [None, None])
    assert fast == stock
    got, next_offset, undrained = fast[0]
    assert [o for o, _ in got] == [1000 + 2 * i for i in range(400)] + [1800 + 2 * i
                                                                         for i in range(10)]
    assert [v for _, v in got[:400]] == [r[3] for r in recs]
    assert next_offset == 1800 + 18 + 1 and not undrained


def test_a_fetch_from_the_middle_of_a_batch_skips_the_records_before():
    buf = v2_batch(0, random_records(random.Random(1), 50))
    stock, fast = drive(buf, 31, [5, 100])
    assert fast == stock and fast[0][0][0][0] == 31


@pytest.mark.parametrize("damage", ["length", "truncated", "header count", "trailing"])
def test_corrupt_records_raise_as_in_kafka_python(damage):
    recs = [(i, 1_770_000_000_000, b"k", b"v" * 40, []) for i in range(5)]
    good = v2_batch(0, recs)
    body = DefaultRecordBatch.HEADER_STRUCT.size
    data = bytearray(good)
    if damage == "length":
        data[body] += 2  # the first record claims one byte more than it has
    elif damage == "truncated":
        data = data[:-10]
        struct.pack_into(">i", data, 8, len(data) - 12)
    elif damage == "header count":
        data[len(data) - 1] = 1  # the last record's header count: -1
    else:
        data += b"\x00\x00"
        struct.pack_into(">i", data, 8, len(data) - 12)
    with pytest.raises(CorruptRecordError):
        read_records(bytes(data), body, 5, 0)
    # the records before the bad one first, as kafka-python returns them; the error next
    stock, fast = drive(bytes(data), 0, [None, None], check_crcs=False)
    assert fast == stock and fast[-1] == ("error", CorruptRecordError)


@pytest.mark.parametrize("magic", [2, 1])
def test_a_bad_crc_raises_like_kafka_python(magic):
    if magic == 2:
        data = bytearray(v2_batch(0, random_records(random.Random(3), 20)))
    else:  # legacy: one CRC per message; the second of three is damaged
        data = bytearray(v1_batch(0, [b"a" * 30, b"b" * 30, b"c" * 30]))
        data[len(data) * 2 // 3 - 5] ^= 0xFF
    data[-3] ^= 0xFF
    stock, fast = drive(bytes(data), 0, [None, None])
    assert fast == stock and fast[-1] == ("error", CorruptRecordError)


def test_install_only_replaces_kafka_pythons_reader():
    class Consumer:
        _fetcher = type("F", (), {"PartitionRecords": Fetcher.PartitionRecords})()

    cons = Consumer()
    assert install(cons) and cons._fetcher.PartitionRecords is FastPartitionRecords
    assert not install(cons)  # already replaced: left alone
    assert not install(object())
