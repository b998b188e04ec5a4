"""The worker asks the fetch process to assist (`Worker._pace_assist`) only where buckets
close often enough for lockstep to gain: pre-aggregated counts of a small fleet, not single
reports. Decided per `ASSIST_EVERY` records from the pipelines' own counters."""

from __future__ import annotations

from streams import kafka_io
from streams.pipeline import Pipeline
from streams.worker import ASSIST_EVERY, ASSIST_STEPS, Worker, WorkerConfig


class _Source:
    def __init__(self) -> None:
        self.asked: list[bool] = []

    def assist(self, on: bool) -> None:
        self.asked.append(on)


def _worker() -> tuple[Worker, _Source]:
    worker = Worker(WorkerConfig("127.0.0.1:9", "g", kafka_io.TopicNames()))
    worker._source = source = _Source()
    worker.pipelines = {p: Pipeline(on_alert=print, on_dead_letter=print) for p in (0, 1)}
    return worker, source


def _did(worker: Worker, records: int, steps: int) -> None:
    for pipe in worker.pipelines.values():
        pipe.counters.processed += records // 2
        pipe.counters.buckets += steps // 2


def test_assistance_follows_how_often_buckets_close():
    worker, source = _worker()
    _did(worker, ASSIST_EVERY // 2, 1000)
    worker._pace_assist()
    assert source.asked == []  # too few records to judge yet
    _did(worker, ASSIST_EVERY // 2, 1000)
    worker._pace_assist()
    assert source.asked == [True]  # 2,000 steps in 20,000 records: closes are frequent
    steps = int(ASSIST_STEPS * ASSIST_EVERY) // 2
    _did(worker, ASSIST_EVERY, steps)  # half the threshold: single reports, say
    worker._pace_assist()
    assert source.asked == [True, False]


def test_a_revocation_starts_the_count_again():
    worker, source = _worker()
    _did(worker, 2 * ASSIST_EVERY, 4000)
    worker._pace_assist()
    worker.pipelines.pop(1)  # its counters leave the sums
    worker._pace_assist()
    assert source.asked == [True]  # no judgement from the drop
    _did(worker, 2 * ASSIST_EVERY, 10)
    worker._pace_assist()
    assert source.asked == [True, False]
