"""Kafka cluster ids for `kafka-storage format`: never read as a command-line option."""

from __future__ import annotations

import re

from streams.broker import _cluster_id


def test_cluster_ids_are_kafka_uuids_that_never_start_with_a_dash() -> None:
    ids = [_cluster_id() for _ in range(5000)]  # 1 in 64 started with "-" before the fix
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", i) and not i.startswith("-") for i in ids)
    assert len(set(ids)) == len(ids)
