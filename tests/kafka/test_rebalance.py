"""Scale-out on the real broker with the default worker (fetch process on): a second worker
joins the group while the first holds the state of every partition; the partitions it takes
over come with their checkpoints, both workers finish, and the alerts and final states are
exactly those of one uninterrupted run."""

from __future__ import annotations

from streams.parsing import REPORTS
from tests.kafka.data import (
    published_alerts,
    read_inputs,
    same_state,
    saved_states,
    scenario_messages,
    send,
    straight_run,
)
from tests.kafka.procs import WorkerProc


def test_a_worker_joining_mid_run_takes_over_partitions_with_their_state(bootstrap, topics):
    # reports only: with one input per partition the order is the offset order, whatever
    # the timing of the second half, published once both workers hold partitions
    messages = [m for m in scenario_messages() if m[0] == REPORTS]
    half = len(messages) // 2
    send(bootstrap, topics, messages[:half])
    # the first worker idles between the halves: its idle exit must not come first
    first = WorkerProc(bootstrap, topics, "grow", idle_exit=10.0, checkpoint_every=0.2)
    second = None
    try:
        first.wait_for(lambda d: d["event"] == "checkpoint" and d["processed"] == half)
        second = WorkerProc(bootstrap, topics, "grow", idle_exit=2.0, checkpoint_every=0.2)
        took = second.wait_for(lambda d: d["event"] == "assigned" and d["partitions"])
        kept = first.wait_for(lambda d: d["event"] == "assigned" and 0 < len(d["partitions"]) < 4)
        send(bootstrap, topics, messages[half:])
        second.finish()
        first.finish()
    finally:
        first.close()
        if second is not None:
            second.close()
    assert sorted(took["partitions"] + kept["partitions"]) == [0, 1, 2, 3]
    assert took["processed"] > 0, "the second worker resumes its partitions from checkpoints"

    inputs = read_inputs(bootstrap, topics)
    pipes: dict = {}
    expected = straight_run(inputs, pipes=pipes)
    alerts = published_alerts(bootstrap, topics.alerts)
    assert len({a["incident_id"] for a in expected}) >= 3
    assert {a["alert_id"] for a in alerts} == {a["alert_id"] for a in expected}
    final = saved_states(bootstrap, topics, "grow")
    assert all(same_state(final[p], pipes[p]) for p in pipes), "no record lost or repeated"
