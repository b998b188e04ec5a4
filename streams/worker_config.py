"""How a Kafka worker is configured and wired to its group: settings, the rebalance listener,
offset commits, and how a batch run knows its whole group is done."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from streams import kafka_io
from streams.kafka_checkpoint import KafkaCheckpoints, state_key
from streams.settings import PipelineSettings

log = logging.getLogger("outage_radar.worker")


@dataclass(frozen=True)
class WorkerConfig:
    """Where to read and write, and how often to checkpoint."""

    bootstrap: str
    group: str = "outage-radar"
    topics: kafka_io.TopicNames = field(default_factory=kafka_io.TopicNames)
    pipeline: PipelineSettings = field(default_factory=PipelineSettings)
    checkpoint_every: float = 10.0  # wall-clock seconds between checkpoints
    max_buffer: int = 50_000  # buffered records per input partition before pausing its fetch
    idle_exit: float | None = None  # batch mode: flush, checkpoint and exit after this idle time
    live: bool = False  # serve mode: idle partitions advance event time to the wall clock
    session_timeout_ms: int = 10_000
    max_poll_records: int = 5000
    fetch_process: bool = True  # fetch and parse records in a child process (other core)
    lockstep: bool = True  # partitions step their full buckets as one bank (streams.lockstep)


def group_done(offsets: Any, mine: set[Any], positions: Mapping[Any, int],
               checkpoints: KafkaCheckpoints, group: str, logical: Mapping[str, str]) -> bool:
    """True when every input partition was consumed to its end offset: by this member
    (`positions` of its assigned partitions `mine`) or, for the others, by the positions in
    their latest checkpoints (a peer may have died; its partitions reached here later)."""
    from kafka import TopicPartition

    tps = [TopicPartition(topic, p) for topic in logical
           for p in sorted(offsets.partitions_for_topic(topic) or ())]
    end = offsets.end_offsets(tps, timeout_ms=5000)
    if not any(end.values()):
        return False  # nothing was ever published: a batch run waits for its data
    for tp in tps:
        if tp in mine:
            pos = positions.get(tp, 0)
        else:
            pos = checkpoints.position(state_key(group, tp.partition), logical[tp.topic],
                                       tp.partition)
        if pos < end[tp]:
            return False
    return True


def rebalance_listener(on_revoked: Callable[[set[int]], None],
                       on_assigned: Callable[[set[int]], None]) -> Any:
    """A kafka-python rebalance listener passing partition numbers (kafka imported lazily)."""
    from kafka import ConsumerRebalanceListener

    class Listener(ConsumerRebalanceListener):
        def on_partitions_revoked(self, revoked: Any) -> None:
            on_revoked({tp.partition for tp in revoked})

        def on_partitions_assigned(self, assigned: Any) -> None:
            on_assigned({tp.partition for tp in assigned})

    return Listener()


def commit_offsets(consumer: Any, offsets: Mapping[Any, int], in_callback: bool) -> None:
    """Commit next offsets per TopicPartition; inside a rebalance callback asynchronously (the
    group consumer refuses blocking calls there). A failure is only logged: offsets are
    advisory, the saved state holds the positions."""
    from kafka import OffsetAndMetadata

    meta = {tp: OffsetAndMetadata(pos, "", -1) for tp, pos in offsets.items()}
    try:
        if in_callback:
            consumer.commit_async(meta)
        else:
            consumer.commit(meta, timeout_ms=30_000)
    except Exception as exc:  # noqa: BLE001 - offsets are advisory: state holds positions
        log.warning("offset commit failed (state is saved): %s", exc)
