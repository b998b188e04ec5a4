"""What a `streams.pipeline.Pipeline` reads and counts: `Record`s (one message of a logical
topic at a source position), their decoding into events or dead-letter reasons, and the
pipeline's `Counters`. Apart from the pipeline (detection): the input paths (`input_merge`,
`worker_source`, the API's ingest) need only these. `streams.pipeline` re-exports them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from itertools import groupby
from typing import Any, NamedTuple

from streams.errors import BadMessage
from streams.parsing import decode, decode_many
from streams.schema import Event


class Record(NamedTuple):
    """One message of a logical topic ("reports" or "error-rates") at a source position.

    A named tuple, not a frozen dataclass: the Kafka worker makes one per message, and a tuple
    is built ~3x faster (0.5 against 1.5 us) and is smaller."""

    topic: str
    value: bytes
    key: bytes | None = None
    partition: int = 0
    offset: int = -1


@dataclass
class Counters:
    """What the pipeline did; readable as attributes or as `counters["processed"]`."""

    processed: int = 0
    events: int = 0
    dead_letter: dict[str, int] = field(default_factory=dict)
    alerts: int = 0
    opened: int = 0
    resolved: int = 0
    buckets: int = 0
    partial_buckets: int = 0

    def __getitem__(self, name: str) -> Any:
        return getattr(self, name)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def decode_record(rec: Record) -> Event | BadMessage:
    """The record's event, or the BadMessage saying why it has none (never raises)."""
    try:
        return decode(rec.topic, rec.value)
    except BadMessage as exc:
        return exc


def decode_records(records: Sequence[Record]) -> list[Event | BadMessage]:
    """`decode_record` of each record, decoded with `decode_many` per run of one topic."""
    out: list[Event | BadMessage] = []
    for topic, run in groupby(records, key=_topic):
        out.extend(decode_many(topic, [rec.value for rec in run]))
    return out


def _topic(rec: Record) -> str:
    return rec.topic
