"""The broker stopped for 30 s and restarted mid-run: the worker reconnects and loses nothing."""

from __future__ import annotations

import time

from streams import kafka_io
from streams.broker import KafkaBroker
from tests.kafka.data import published_alerts, read_inputs, scenario_messages, send, straight_run
from tests.kafka.procs import WorkerProc

DOWN_SECONDS = 30


def test_worker_survives_a_30s_broker_outage(kafka_broker: KafkaBroker):
    broker = kafka_broker  # the session's broker: stopped and started again on the same data
    worker = None
    try:
        topics = kafka_io.TopicNames.prefixed(f"fault{time.time_ns()}.")
        kafka_io.create_topics(broker.bootstrap, topics)
        messages = scenario_messages()
        send(broker.bootstrap, topics, messages)
        worker = WorkerProc(broker.bootstrap, topics, "fault", checkpoint_every=0.3,
                            idle_exit=2.0, max_poll_records=200)
        seen = worker.wait_for(lambda d: d["event"] == "checkpoint"
                               and d["processed"] > len(messages) / 4)
        assert seen["processed"] < len(messages), "the broker must go down mid-run"

        broker.stop()
        time.sleep(DOWN_SECONDS)
        assert worker.proc.poll() is None, "the worker must wait for the broker, not give up"
        broker.start()

        summary = worker.finish(timeout=240)
        expected = straight_run(read_inputs(broker.bootstrap, topics))
        alerts = published_alerts(broker.bootstrap, topics.alerts)
    finally:
        if worker is not None:
            worker.close()
        broker.start()  # no-op when running: later tests need it
    assert summary["alerts"] >= len(expected) > 0
    assert {a["alert_id"] for a in alerts} == {a["alert_id"] for a in expected}
