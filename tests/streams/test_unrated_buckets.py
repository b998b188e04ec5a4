"""A bucket without any error-rate sample is stepped with no error-rate input (the bank's quiet
path), which must decide exactly what stepping its all-NaN rate arrays decides: same alerts,
same snapshots (bank state included) on input with and without error rates."""

from __future__ import annotations

import dataclasses

import pytest

from streams import buckets
from streams.pipeline import Pipeline, Record
from tests.streams.corpus import mixed_records
from tests.streams.test_lazy_band import _records
from tests.streams.test_preaggregated import _minutes


def _run(records: list[Record]) -> tuple[list[dict], list[bytes], int]:
    alerts: list[dict] = []
    pipe = Pipeline(on_alert=alerts.append, on_dead_letter=alerts.append)
    snapshots = []
    for k in range(0, len(records), 500):
        pipe.process(records[k:k + 500])
        snapshots.append(pipe.snapshot())
    pipe.flush()
    return alerts, snapshots + [pipe.snapshot()], pipe.counters.buckets


@pytest.mark.parametrize("shape", ["mixed", "preaggregated"])
def test_unrated_buckets_step_as_if_rated(shape: str, monkeypatch: pytest.MonkeyPatch) -> None:
    records = mixed_records() if shape == "mixed" else _records(_minutes(400, spike_at=300))
    quiet = _run(records)
    view = buckets.OpenBucket.view

    def always_rated(self, *args, **kwargs):
        return dataclasses.replace(view(self, *args, **kwargs), rated=True)

    monkeypatch.setattr(buckets.OpenBucket, "view", always_rated)
    rated = _run(records)
    assert any(a.get("status") == "open" for a in rated[0]) and rated[2] > 100
    assert quiet == rated
