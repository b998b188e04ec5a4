"""InputMerge, the worker's event-time merge of a partition's two inputs (pure, no broker)."""

from __future__ import annotations

import json

from streams.input_merge import InputMerge
from streams.parsing import ERROR_RATES, REPORTS
from streams.pipeline import Record

T = 1_764_547_200


def rec(topic: str, ts: float, offset: int) -> Record:
    body = {"service": "a", "ts": ts}
    if topic == ERROR_RATES:
        body["error_rate"] = 0.1
    return Record(topic, json.dumps(body).encode(), b"a", 0, offset)


def order(records: list[Record]) -> list[tuple[str, int]]:
    return [(r.topic, r.offset) for r in records]


def test_merges_by_event_time_reports_first_on_ties():
    m = InputMerge((REPORTS, ERROR_RATES))
    m.add(REPORTS, [rec(REPORTS, T + 10, 0), rec(REPORTS, T + 30, 1)])
    m.add(ERROR_RATES, [rec(ERROR_RATES, T + 10, 0), rec(ERROR_RATES, T + 20, 1)])
    out = m.release(lambda t: True)
    assert order(out) == [(REPORTS, 0), (ERROR_RATES, 0), (ERROR_RATES, 1), (REPORTS, 1)]


def test_waits_for_an_input_that_is_empty_but_not_caught_up():
    m = InputMerge((REPORTS, ERROR_RATES))
    m.add(REPORTS, [rec(REPORTS, T + 10, 0)])
    assert m.release(lambda t: False) == []  # error-rates may still deliver older samples
    assert order(m.release(lambda t: t == ERROR_RATES)) == [(REPORTS, 0)]


def test_unreadable_and_far_future_records_do_not_hold_back_the_other_input():
    m = InputMerge((REPORTS, ERROR_RATES), far=86_400)
    m.add(REPORTS, [Record(REPORTS, b"not json", None, 0, 0), rec(REPORTS, T + 40 * 86_400, 1),
                    rec(REPORTS, T + 50, 2)])
    m.add(ERROR_RATES, [rec(ERROR_RATES, T + 20, 0), rec(ERROR_RATES, T + 60, 1)])
    out = m.release(lambda t: False, seen=T)
    assert order(out) == [(REPORTS, 0), (REPORTS, 1), (ERROR_RATES, 0), (REPORTS, 2)]
