"""Restart-equivalence and scale-out on the real broker, with worker processes and SIGKILL."""

from __future__ import annotations

import pytest

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


@pytest.fixture
def loaded(bootstrap, topics):
    """Topics holding the scenario, and the alerts of a straight in-memory run over them."""
    messages = scenario_messages()
    send(bootstrap, topics, messages)
    pipes: dict = {}
    expected = straight_run(read_inputs(bootstrap, topics), pipes=pipes)
    assert len({a["incident_id"] for a in expected}) >= 3
    return topics, len(messages), expected, pipes


def test_sigkill_mid_replay_then_restart_gives_exactly_the_same_alert_ids(bootstrap, loaded):
    topics, total, expected, pipes = loaded
    first = WorkerProc(bootstrap, topics, "restart", checkpoint_every=0.2)
    try:
        seen = first.wait_for(lambda d: d["event"] == "checkpoint" and d["processed"] > total / 3)
        first.kill()
    finally:
        first.close()
    assert seen["processed"] < total, "the kill must land in the middle of the stream"

    second = WorkerProc(bootstrap, topics, "restart", checkpoint_every=0.2, idle_exit=2.0)
    try:
        resumed = second.wait_for(lambda d: d["event"] == "assigned" and d["partitions"])
        second.finish()
    finally:
        second.close()
    assert resumed["processed"] > 0, "the restarted worker resumes from the checkpoints"

    got = [a["alert_id"] for a in published_alerts(bootstrap, topics.alerts)]
    want = [a["alert_id"] for a in expected]
    assert set(got) == set(want)  # nothing missing, nothing else: repeats only of the same id
    assert len(got) >= len(want)
    final = saved_states(bootstrap, topics, "restart")
    assert set(pipes) <= set(final)
    assert all(final[p].counters.processed == 0 for p in set(final) - set(pipes))
    assert all(same_state(final[p], pipes[p]) for p in pipes), "no record lost or repeated"


def test_two_workers_one_killed_every_expected_incident_is_published(bootstrap, topics):
    # reports only, published once both workers hold partitions: with one input per
    # partition the order is the offset order, whatever the timing of the live data
    messages = [m for m in scenario_messages() if m[0] == REPORTS]
    stay = WorkerProc(bootstrap, topics, "scale", session_timeout_ms=3000, idle_exit=2.0)
    doomed = None
    try:
        stay.wait_for(lambda d: d["event"] == "assigned" and d["partitions"])
        doomed = WorkerProc(bootstrap, topics, "scale", session_timeout_ms=3000, idle_exit=2.0,
                            max_poll_records=20, checkpoint_every=0.2)
        held = doomed.wait_for(lambda d: d["event"] == "assigned" and d["partitions"])
        send(bootstrap, topics, messages)
        seen = doomed.wait_for(lambda d: d["event"] == "checkpoint" and d["processed"] > 0)
        doomed.kill()
        stay.finish()
    finally:
        stay.close()
        if doomed is not None:
            doomed.close()
    inputs = read_inputs(bootstrap, topics)
    share = sum(len(inputs.get(p, {}).get(REPORTS, [])) for p in held["partitions"])
    assert seen["processed"] < share, "the killed worker must die in the middle of its work"
    assert [d for d in stay.seen if d["event"] == "assigned"][-1]["partitions"] == [0, 1, 2, 3]

    pipes: dict = {}
    expected = straight_run(inputs, pipes=pipes)
    alerts = published_alerts(bootstrap, topics.alerts)
    assert len({a["incident_id"] for a in expected}) >= 3
    assert {a["incident_id"] for a in alerts} == {a["incident_id"] for a in expected}
    assert {a["alert_id"] for a in alerts} == {a["alert_id"] for a in expected}
    final = saved_states(bootstrap, topics, "scale")
    assert all(same_state(final[p], pipes[p]) for p in pipes), "no record lost or repeated"
