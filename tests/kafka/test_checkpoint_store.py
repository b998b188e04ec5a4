"""The checkpoint store reads its topic early (a background thread started with the store) and
still answers as a plain reader would: checkpoints saved before or after, and a clear error
for a missing topic raised on the caller's thread."""

from __future__ import annotations

import pytest

from streams import kafka_io
from streams.errors import CheckpointError
from streams.kafka_checkpoint import KafkaCheckpoints


def test_early_read_sees_saved_checkpoints_before_and_after(bootstrap, topics):
    producer = kafka_io.producer(bootstrap)
    try:
        first = KafkaCheckpoints(bootstrap, topics.state, producer)
        first.save_all([("g/0", b"zero"), ("g/1", b"one")])
        first.close()
        second = KafkaCheckpoints(bootstrap, topics.state, producer)  # starts reading at once
        first = KafkaCheckpoints(bootstrap, topics.state, producer)
        first.save("g/1", b"one, later")
        first.close()
        assert second.load("g/0") == b"zero"
        assert second.load("g/1") == b"one, later"  # written after its early read began
        assert second.load("g/2") is None
        second.close()
    finally:
        producer.close()


def test_a_missing_topic_is_a_clear_error_on_load(bootstrap):
    store = KafkaCheckpoints(bootstrap, "no-such-state-topic-for-this-test", producer=None)
    with pytest.raises(CheckpointError, match="does not exist"):
        store.load("g/0")
    with pytest.raises(CheckpointError, match="does not exist"):  # and again: nothing cached
        store.load("g/0")
    store.close()
