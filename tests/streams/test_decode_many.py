"""Batch decoding equals the reference: `decode_many` (msgspec for well-formed reports, then
`decode` for the rest) gives element-wise the event or dead-letter reason of `decode`
(orjson), on a mixed corpus, on mutated reports and where the two parsers could part; and
`fast_iso` equals `parse_ts`. Events are compared with their field types."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

import pytest

from streams.errors import BadMessage
from streams.parsing import decode, decode_many
from streams.pipeline import Record, decode_record, decode_records
from streams.timestamps import fast_iso, parse_ts
from tests.streams.corpus import mixed_records


@pytest.fixture(scope="module")
def corpus() -> list[Record]:
    return mixed_records()


def _same(a: object, b: object) -> bool:
    if isinstance(a, BadMessage) or isinstance(b, BadMessage):
        return type(a) is type(b) and a.reason == b.reason  # type: ignore[union-attr]
    same_types = all(type(x) is type(y) for x, y in zip(a, b, strict=True))  # type: ignore[call-overload]
    return type(a) is type(b) and a == b and same_types


def test_decode_many_is_decode_element_wise(corpus: list[Record]) -> None:
    for topic in ("reports", "error-rates", "alerts"):
        values = [rec.value for rec in corpus]
        many = decode_many(topic, values)
        assert len(many) == len(values)
        for value, got in zip(values, many, strict=True):
            try:
                want: object = decode(topic, value)
            except BadMessage as exc:
                want = exc
            assert _same(got, want), value


def test_decode_records_mixed_topics(corpus: list[Record]) -> None:
    got = decode_records(corpus)
    assert all(_same(g, decode_record(r)) for g, r in zip(got, corpus, strict=True))


def test_decode_many_on_mutated_messages() -> None:
    """Seeded byte and field mutations of well-formed reports decode as `decode` does."""
    rng = random.Random(11)
    good = json.dumps({"service": "svc-1", "ts": "2026-02-03T21:04:12.250Z", "count": 1,
                       "category": "login", "region": "FR", "reporter": "u1"}).encode()
    values = []
    for _ in range(4000):
        v = bytearray(good)
        for _ in range(rng.randrange(1, 3)):
            v[rng.randrange(len(v))] = rng.choice(b'0123456789:-.TZ"{}, az\\+')
        values.append(bytes(v))
    for got, value in zip(decode_many("reports", values), values, strict=True):
        assert _same(got, decode_record(Record("reports", value))), value


@pytest.mark.parametrize("value", [
    b'{"service": "a", "ts": 1770112800, "x": 1e400}',  # unknown fields: msgspec skips them
    b'{"service": "a", "ts": 1770112800, "x": "\xff"}',  # unchecked, orjson refuses these
    b'{"service": "a", "ts": 1770112800, "x": "\\ud800"}',
    b'{"service": "a", "ts": 1770112800, "x": 123456789012345678901234567890}',
    b'{"service": "a", "ts": 1770112800, "x": [1, {"y": null}]}',
    b'{"service": "a", "ts": 1770112800, "category": "\xff"}',
    b'{"service": "a", "ts": 1770112800, "category": "\xed\xa0\x80"}',
    b'{"service": "a", "ts": 1770112800, "category": "\\udc00"}',
    b'{"service": "a", "ts": 1770112800, "category": "' + "\u00e9".encode() * 200 + b'"}',
    b'{"service": "a", "ts": 1770112800, "category": "' + "\u00e9".encode() * 201 + b'"}',
    b'{"service": "a", "ts": 1770112800, "region": "' + "\U0001F600".encode() * 200 + b'"}',
    b'{"service": "a", "ts": 1770112800, "source": 42}',
    b'{"service": "a", "ts": 1770112800, "service": "b"}',  # duplicate keys: the last one
    b'{"service": "a", "ts": 1e400}',
    b'{"service": "a", "ts": 17701128001234567890123}',
    b'{"service": "a", "ts": true}',
    b'{"service": "a", "ts": "2026-02-03T21:04:12Z", "count": 3}',
    b'{"service": "a", "ts": "2026-02-03 21:04:12"}',
    b'{"service": "a", "ts": 1770112800, "count": -0.0}',
    b'{"service": "a", "ts": 1770112800, "count": -0}',
    b'{"service": "a", "ts": 1770112800, "count": true}',
    b'{"service": "a", "ts": 1770112800, "count": 1000000}',
    b'{"service": "a", "ts": 1770112800, "count": 1000000.0000001}',
    b'{"service": "a", "ts": 1770112800, "count": 1e-400}',
    b'{"service": "a", "ts": 1770112800, "count": null, "reporter": null}',
    b'{"service": "a\\u0000", "ts": 1770112800}',
    b'{"service": "a\n", "ts": 1770112800}',
    b'{"service": "", "ts": 1770112800}',
    b'\xef\xbb\xbf{"service": "a", "ts": 1770112800}',
    b' {"service": "a", "ts": 1770112800}\n',
    b'{"service": "a", "ts": 1770112800} x',
    b'[{"service": "a", "ts": 1770112800}]',
    b'{"service": "a", "ts": 1770112800, "x": ' + b"[" * 2000 + b"]" * 2000 + b"}",
])
def test_decode_many_where_the_parsers_differ(value: bytes) -> None:
    """Inputs where msgspec (the fast path) and orjson (`decode`) could part: the same event
    or reason either way."""
    assert _same(decode_many("reports", [value])[0], decode_record(Record("reports", value)))


def test_fast_iso_equals_parse_ts() -> None:
    rng = random.Random(5)
    checked = 0
    for _ in range(20000):
        t = rng.uniform(946684800.0, 4102444800.0)
        text = datetime.fromtimestamp(t, UTC).isoformat(
            timespec=rng.choice(["seconds", "milliseconds"])).replace("+00:00", "Z")
        if rng.random() < 0.5:
            i = rng.randrange(len(text))
            text = text[:i] + rng.choice("0123456789-:TZz. +٣") + text[i + 1:]
        fast = fast_iso(text)
        if fast is None:
            continue
        checked += 1
        assert fast == parse_ts(text), text
    assert checked > 10000
