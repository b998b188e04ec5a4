"""The worker's input source completes its group joins (`InputSource._settle_group`).
kafka-python (3.0.12) completes a join left in flight by a timed-out poll only in a later poll
that still needs a rejoin: one completing between two polls is dropped and sent again (from
the group leader: another rebalance), and a leader's join for new partition metadata is never
completed. Both fail without the source's waiting (loaded test runs saw workers wait for their
assignment until the test's timeout)."""

from __future__ import annotations

import threading
import time

import pytest

from streams import kafka_io, worker_source
from streams.kafka_fetch import FetchProcess
from streams.worker_source import InputSource

PEER_DELAY = 1.0  # seconds before the peer polls again (and rejoins)


def _wait(cond, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.05)


@pytest.mark.parametrize("fetch_process", [True, False])
def test_one_poll_completes_a_join_that_waits_for_a_slow_peer(bootstrap, topics, fetch_process,
                                                              monkeypatch):
    monkeypatch.setattr(worker_source, "JOIN_WAIT_MS", 60_000, raising=False)  # slow machine
    group = f"join-{fetch_process}"
    inputs = list(topics.inputs)
    peer = kafka_io.consumer(bootstrap, group, heartbeat_interval_ms=300)
    peers = InputSource(peer, topics.inputs)  # in-process: kafka-python's joins completed too
    member = kafka_io.consumer(bootstrap, group)
    fetch = FetchProcess(bootstrap) if fetch_process else None
    source = InputSource(member, topics.inputs, fetch)
    stop = threading.Event()

    def slow_peer() -> None:  # busy for a while, then polls as a worker does
        time.sleep(PEER_DELAY)
        while not stop.is_set():
            peers.poll(50)

    thread = threading.Thread(target=slow_peer, daemon=True)
    try:
        peer.subscribe(inputs)
        deadline = time.monotonic() + 60
        while len(peer.assignment()) < 8 and time.monotonic() < deadline:
            peers.poll(50)  # the peer leads a group of one: all 8 partitions
        assert len(peer.assignment()) == 8
        member.subscribe(inputs)
        thread.start()
        source.poll(50)  # the join waits for the peer's rejoin, a second away
        assert len(member.assignment()) == 4, "the join was left in flight by the poll"
        _wait(lambda: len(peer.assignment()) == 4, "the peer's share")  # it still polls
    finally:
        _stop(stop, thread, source, member, peer)


@pytest.mark.parametrize("fetch_process", [True, False])
def test_a_leaders_join_left_in_flight_for_new_partitions_is_completed(bootstrap, topics,
                                                                       fetch_process):
    """The group leader rejoins for a metadata change (partitions added); a short poll leaves
    that join in flight, and it completes before the next poll: kafka-python then no longer
    needs a rejoin and would keep the member rebalancing with its old partitions for good.
    The source's next polls get it the new assignment."""
    group = f"orphan-{fetch_process}"
    inputs = list(topics.inputs)
    member = kafka_io.consumer(bootstrap, group, metadata_max_age_ms=300)
    peer = kafka_io.consumer(bootstrap, group, heartbeat_interval_ms=300)
    peers = InputSource(peer, topics.inputs)  # in-process: kafka-python's joins completed too
    fetch = FetchProcess(bootstrap) if fetch_process else None
    source = InputSource(member, topics.inputs, fetch)
    stop = threading.Event()

    def peer_polls() -> None:
        while not stop.is_set():
            peers.poll(50)

    thread = threading.Thread(target=peer_polls, daemon=True)
    try:
        member.subscribe(inputs)
        _wait(lambda: source.poll(50) is not None and len(member.assignment()) == 8,
              "the member leads a group of one")
        peer.subscribe(inputs)
        thread.start()
        _wait(lambda: source.poll(50) is not None and len(member.assignment()) == 4
              and len(peer.assignment()) == 4, "four partitions each")

        admin = kafka_io.admin(bootstrap)
        try:
            admin.create_partitions({topics.reports: 6})
        finally:
            admin.close()
        _wait(lambda: len(member.partitions_for_topic(topics.reports) or ()) == 6,
              "the member sees the new partitions")
        member.poll(timeout_ms=0)  # a short poll: the leader's join begins and is left
        _wait(lambda: len(peer.assignment()) == 5, "the rebalance completes without a poll")

        for _ in range(50):  # the worker's next polls
            source.poll(50)
            if len(member.assignment()) == 5:
                break
        assert len(member.assignment()) == 5, "the member never completed its join"
        everything = {tp for t, n in ((topics.reports, 6), (topics.error_rates, 4))
                      for tp in (source.tp(t, p) for p in range(n))}
        _wait(lambda: member.assignment() | peer.assignment() == everything,
              "the peer's share")  # it still polls
    finally:
        _stop(stop, thread, source, member, peer)


def _stop(stop, thread, *clients) -> None:
    """End the peer's polling thread, then close the clients."""
    stop.set()
    if thread.ident is not None:
        thread.join(10)
    for client in clients:
        client.close()
