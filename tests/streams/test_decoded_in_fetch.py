"""Reports decoded by the fetch process (`streams.fetch_assist.report_tuples`, sent as plain
tuples and the indexes left to the worker) and turned back into events by the worker
(`streams.worker_source._events`) equal `decode_many` in the worker, bad messages included,
and survive the pickling of the pipe between them."""

from __future__ import annotations

import pickle

from streams.fetch_assist import report_tuples
from streams.parsing import REPORTS, decode_many
from streams.schema import ReportEvent
from streams.worker_source import _events
from tests.streams.corpus import mixed_records


def test_report_tuples_turn_back_into_decode_many():
    values = [rec.value for rec in mixed_records() if rec.topic == REPORTS]
    tuples, todo = pickle.loads(pickle.dumps(report_tuples(values), protocol=5))
    expected = decode_many(REPORTS, values)
    got = _events(REPORTS, values, tuples, todo)
    assert len(todo) >= 30  # the corpus's bad reports: decoded by the worker itself
    assert [type(e) for e in got] == [type(e) for e in expected]
    assert [getattr(e, "reason", e) for e in got] == [getattr(e, "reason", e) for e in expected]
    assert all(type(e) is ReportEvent for i, e in enumerate(got) if i not in set(todo))


def test_all_good_reports_need_no_decoding_in_the_worker():
    values = [rec.value for rec in mixed_records() if rec.topic == REPORTS]
    good = [v for v, e in zip(values, decode_many(REPORTS, values), strict=True)
            if type(e) is ReportEvent]
    tuples, todo = report_tuples(good)
    assert todo == []
    assert _events(REPORTS, good, tuples, todo) == decode_many(REPORTS, good)
