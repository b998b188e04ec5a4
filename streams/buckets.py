"""One open bucket's accumulators and the `BucketView` handed to `DetectorBank.step`.

A view's context (categories, regions, sources per service) is only read to explain the few
services that move, so `ContextView` builds a service's `BucketContext` when asked for it
instead of one per service per step.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from detector import BucketContext
from detector.band import UpperBand


@dataclass(frozen=True)
class BucketView:
    """One bucket for all services, ready for `DetectorBank.step` (arrays in index order).

    `t_end` is the bucket end for a closed bucket and the event time of the early look for a
    partial one (`fraction` < 1), which is what `DetectorBank.step` expects in both cases.
    """

    t_end: float
    fraction: float
    reports: np.ndarray
    error_rate: np.ndarray
    requests: np.ndarray
    context: Mapping[str, BucketContext]
    rated: bool = True  # some service has an error-rate sample (else both rate arrays are NaN)


class ContextView(Mapping[str, BucketContext]):
    """Read-only `{service: BucketContext}` of one view, built when first read.

    It reads the bucket's live counters: a view is stepped before the next event is added
    (the pipeline steps every view `advance` returns at once), so it sees what it was built on.

    >>> ctx = ContextView({0: [{"login": 2.0}, {}, {}]}, ["chatgpt", "sora"])
    >>> ctx.get("chatgpt"), ctx.get("sora"), len(ctx)
    (BucketContext(categories={'login': 2.0}, regions={}, sources={}), None, 1)
    """

    def __init__(self, context: dict[int, list[dict[str, float]]], names: list[str]) -> None:
        self._context, self._names = context, names
        self._by_name: dict[str, list[dict[str, float]]] | None = None

    def _items(self) -> dict[str, list[dict[str, float]]]:
        if self._by_name is None:
            self._by_name = {self._names[i]: c for i, c in self._context.items()}
        return self._by_name

    def __getitem__(self, name: str) -> BucketContext:
        c, r, s = self._items()[name]
        return BucketContext(dict(c), dict(r), dict(s))

    def __iter__(self) -> Iterator[str]:
        return iter(self._items())

    def __len__(self) -> int:
        return len(self._context)


_NO_RATES: dict[int, np.ndarray] = {}


def _no_rates(n: int) -> np.ndarray:
    """A read-only all-NaN array of length `n` (error rates of a bucket without any), cached."""
    arr = _NO_RATES.get(n)
    if arr is None:
        if len(_NO_RATES) >= 64:
            _NO_RATES.clear()
        arr = _NO_RATES[n] = np.full(n, np.nan)
        arr.flags.writeable = False
    return arr


@dataclass
class OpenBucket:
    """Accumulators of one open bucket, keyed by service index."""

    reports: dict[int, float] = field(default_factory=dict)
    rates: dict[int, list[float]] = field(default_factory=dict)  # errors, requests, sum, n
    context: dict[int, list[dict[str, float]]] = field(default_factory=dict)
    batched: dict[int, float] = field(default_factory=dict)  # part of `reports` sent as counts > 1

    def paced(self, i: int, fraction: float, band: float = math.inf) -> float:
        """Service `i`'s count as an early look at `fraction` of the bucket reads it.

        A pre-aggregated count (one event with count > 1) covers a stretch of time, not the
        instant it is stamped with, so an early look prorates it to the elapsed fraction: a
        whole minute's normal count stamped 10 s into the bucket is not a 6x pace, while a
        spike sent as one count still is. Single reports count as they come, and a bucket
        whose total already passed its full-bucket `band` is anomalous at any pace: whole.
        """
        total = self.reports.get(i, 0.0)
        if total > band:
            return total
        return total - self.batched.get(i, 0.0) * (1.0 - fraction)

    def view(self, t_end: float, fraction: float, names: list[str],
             band: UpperBand | None = None) -> BucketView:
        """All services' arrays; an early look (`fraction` < 1) reads counts as `paced`."""
        n, got = len(names), self.reports
        reports = np.zeros(n)
        if got:
            reports[np.fromiter(got, np.intp, len(got))] = np.fromiter(got.values(), float,
                                                                       len(got))
        if fraction < 1.0 and self.batched:
            for i in self.batched:  # `paced`, asking for the exact band only above its floor
                if band is None or not band.passed(i, self.reports.get(i, 0.0)):
                    reports[i] = self.paced(i, fraction)
        rate = requests = _no_rates(n)  # read-only, shared: most buckets hold no rate
        if self.rates:
            rate, requests = np.full(n, np.nan), np.full(n, np.nan)
        for i, (err, req, total, k) in self.rates.items():
            if req > 0:
                rate[i], requests[i] = err / req, req
            elif k > 0:
                rate[i] = total / k
        return BucketView(t_end, fraction, reports, rate, requests,
                          ContextView(self.context, names), bool(self.rates))

    def to_state(self) -> dict[str, Any]:
        return {"reports": list(self.reports.items()), "rates": list(self.rates.items()),
                "context": list(self.context.items()), "batched": list(self.batched.items())}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> OpenBucket:
        return cls({int(i): v for i, v in state["reports"]},
                   {int(i): list(v) for i, v in state["rates"]},
                   {int(i): [dict(d) for d in v] for i, v in state["context"]},
                   {int(i): float(v) for i, v in state.get("batched", [])})
