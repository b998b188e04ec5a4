"""Pipeline: records -> decoded events -> damped, event-time buckets -> DetectorBank -> alerts.

The same code runs behind the in-memory bus (embedded `serve`), file `replay` and the Kafka
workers: each feeds `Record`s to `process` and persists `snapshot()` with the positions inside
(checkpoint order: flush sinks, save state with positions, then commit offsets).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from detector import BankConfig, DetectorBank, Transition
from detector.damping import ReporterDamper
from streams.bucketing import Bucketer, BucketView
from streams.errors import BadMessage, CheckpointError
from streams.gc_pause import gc_paused
from streams.hotpath import run_items
from streams.records import Counters, Record, decode_record, decode_records
from streams.schema import DeadLetter, Event, ReportEvent, alert_from, without_reporter
from streams.settings import PipelineSettings
from streams.store import Store

SNAPSHOT_VERSION = 1
__all__ = ["Counters", "Pipeline", "Record", "decode_record", "decode_records"]


class Pipeline:
    """Decodes, buckets, detects; calls `on_alert(dict)` and `on_dead_letter(dict)`.

    >>> dead = []
    >>> pipe = Pipeline(on_alert=print, on_dead_letter=dead.append)
    >>> pipe.process([Record("reports", b'{"service": "chatgpt", "ts": 1770152652}', offset=0),
    ...               Record("reports", b'{"service": "chatgpt"}', offset=1)])
    >>> pipe.counters.events, pipe.counters.dead_letter, pipe.positions
    (1, {'missing ts': 1}, {('reports', 0): 2})
    >>> pipe.flush(); pipe.counters.buckets, pipe.bank.services
    (1, ['chatgpt'])
    """

    def __init__(self, settings: PipelineSettings | None = None, *,
                 on_alert: Callable[[dict], None], on_dead_letter: Callable[[dict], None],
                 store: Store | None = None) -> None:
        self.settings = settings or PipelineSettings()
        self.on_alert, self.on_dead_letter, self.store = on_alert, on_dead_letter, store
        self.bank = DetectorBank(BankConfig(bucket_seconds=self.settings.bucket_seconds))
        self.damper = ReporterDamper(max_per_window=self.settings.damper_max_per_window,
                                     window_seconds=self.settings.damper_window_seconds)
        self.bucketer = Bucketer(self.settings)
        self.positions: dict[tuple[str, int], int] = {}
        self.counters = Counters()
        self._open: dict[str, str] = {}  # service -> open incident id
        self._names: list[str] = []  # mirror of bank.services (no copy per event)
        self._ids: dict[str, int] = {}
        self._next: tuple[float, int, Any] = (float("nan"), 0, None)  # cache of _expected_at
        self._defer = False  # `process_until_close` running: hold a groupable full step back
        self.deferred: list[BucketView] | None = None  # the views held back, first one full

    # -- input --------------------------------------------------------------------------
    def process(self, records: Iterable[Record]) -> None:
        """Handle a batch of records; never raises on bad input (it goes to dead-letter)."""
        records = list(records)
        with gc_paused():
            self.process_decoded(zip(records, decode_records(records), strict=True))

    def process_decoded(self, items: Iterable[tuple[Record, Event | BadMessage]]) -> None:
        """`process` for callers that already decoded (e.g. to merge inputs by event time).

        Each item is handled as `_process_one` does, the common report inlined
        (`streams.hotpath.run_items`).
        """
        with gc_paused():
            run_items(self, items)
        self._commit()

    def process_reference(self, records: Iterable[Record]) -> None:
        """`process` record by record on the reference path only (no batch decoding, no
        inlined ingest): the baseline the equivalence tests compare the fast path with."""
        for rec in records:
            self._process_one(rec, decode_record(rec))
        self._commit()

    def _process_one(self, rec: Record, event: Event | BadMessage) -> None:
        """The reference handling of one decoded record."""
        self.counters.processed += 1
        if isinstance(event, BadMessage):
            self._dead(event.reason, rec)
        else:
            self.ingest(event, rec)
        if rec.offset >= 0:
            self.positions[(rec.topic, rec.partition)] = rec.offset + 1

    def ingest(self, event: Event, rec: Record | None = None) -> None:
        """Add one decoded event (used by `process` and by replay, which decodes once)."""
        try:
            end = self.bucketer.admit(event.ts)
        except BadMessage as exc:
            self._dead(exc.reason, rec, event)
            return
        self.counters.events += 1
        i = self._index(event.service)
        if isinstance(event, ReportEvent):
            count = event.count
            if event.reporter:
                count = self.damper.admit(event.service, event.reporter, event.ts, count)
            self.bucketer.add_report(i, end, count, event.category, event.region, event.source)
        else:
            self.bucketer.add_rate(i, end, event.errors, event.requests, event.error_rate)
        self._run(self.bucketer.advance(event.ts, self._names))

    def _index(self, service: str) -> int:
        i = self._ids.get(service)
        if i is None:
            i = self._ids[service] = self.bank.add_service(service)
            self._names.append(service)
        return i

    def advance_watermark(self, t: float) -> None:
        """Live mode: event time reached `t` even without events (closes idle buckets)."""
        self._run(self.bucketer.advance_wall(t, self._names))
        self._commit()

    def flush(self) -> None:
        """End of stream: close and score every open bucket."""
        self._run(self.bucketer.flush(self._names))
        self._commit()

    # -- steps in lockstep with other partitions (`streams.lockstep`) ----------------------
    def process_until_close(self, items: Iterator[tuple[Record, Event | BadMessage]]
                            ) -> list[BucketView] | None:
        """`process_decoded` of `items` up to the event that closes a full bucket another
        pipeline may step together with this one (`groupable`): the views of that moment
        are returned, not stepped, and the rest of `items` is left for the next call. The
        caller steps them (`finish_group_step`, `step_views`) before calling again. None:
        `items` ran out (the caller commits)."""
        self._defer = True
        try:
            run_items(self, items)
        finally:
            self._defer = False
        views, self.deferred = self.deferred, None
        return views

    def groupable(self, view: BucketView) -> bool:
        """A full bucket without error rates, nothing stored: one a group step can take."""
        return view.fraction >= 1.0 and not view.rated and self.store is None

    def step_views(self, views: list[BucketView]) -> None:
        """Step `views` here, in order (what `_run` does outside lockstep)."""
        for view in views:
            self._step(view)

    def finish_group_step(self, view: BucketView, mu: np.ndarray, band: Any) -> None:
        """What `_step` does after the bank's step of full `view`, the bank having been
        stepped in a group (`detector.bank_group`) that emitted nothing: count it and take
        the expectation and band of the next bucket that the group step computed."""
        self.counters.buckets += 1
        t_next = view.t_end + self.bucketer.bucket_seconds
        self._next = (t_next, len(self._names), (mu, band))
        self.bucketer.set_band(band)

    def commit(self) -> None:
        """Commit the store's writes (after `process_until_close` ran out)."""
        self._commit()

    # -- detection ----------------------------------------------------------------------
    def _run(self, views: list[BucketView]) -> None:
        if self._defer and views and self.groupable(views[0]):
            self.deferred = views  # `process_until_close` returns them; `run_items` stops
            return
        for view in views:
            self._step(view)

    def _step(self, view: BucketView) -> None:
        full = view.fraction >= 1.0
        if full and self.store is not None:
            expected, upper = self._expected_at(view.t_end)
        rated = view.rated  # no sample at all: the same as none given, and the bank's quiet path
        transitions = self.bank.step(view.t_end, view.reports,
                                     error_rate=view.error_rate if rated else None,
                                     requests=view.requests if rated else None,
                                     fraction=view.fraction, context=view.context)
        for tr in transitions:
            self._alert(tr)
        if not full:
            self.counters.partial_buckets += 1
            return
        self.counters.buckets += 1
        t_next = view.t_end + self.bucketer.bucket_seconds
        mu, band = self.bank.expected_band(t_next)
        self._next = (t_next, len(self._names), (mu, band))
        self.bucketer.set_band(band)
        if self.store is not None:
            states = ["incident" if n in self._open else "ok" for n in self._names]
            self.store.write_bucket(view.t_end, self._names, view.reports, expected, upper,
                                    view.error_rate, states, series=self.settings.store_series)

    def _expected_at(self, t_end: float) -> tuple[np.ndarray, np.ndarray]:
        """`bank.expected(t_end)`, reusing the one computed for the band after the previous
        full step when it was for this bucket: only full steps change what it depends on."""
        t, n, values = self._next
        if t == t_end and n == len(self._names):
            return values[0], values[1].values()
        return self.bank.expected(t_end)

    def _alert(self, tr: Transition) -> None:
        alert = alert_from(tr)
        if tr.status == "resolved":
            self._open.pop(tr.service, None)
            self.counters.resolved += 1
        else:
            self.counters.opened += tr.status == "open"
            self._open[tr.service] = tr.incident_id
        self.counters.alerts += 1
        if self.store is not None:
            self.store.write_alert(alert, tr.started_at, tr.detected_at)
        self.on_alert(alert)

    def dead_letter(self, reason: str, rec: Record) -> None:
        """Count and emit a message rejected before it reached the pipeline (e.g. in replay)."""
        self._dead(reason, rec)

    def _dead(self, reason: str, rec: Record | None, event: Event | None = None) -> None:
        dl = self.counters.dead_letter
        dl[reason] = dl.get(reason, 0) + 1
        raw = without_reporter(rec.value)[:2048] if rec is not None else ""
        if not raw and event is not None:
            raw = event.model_dump_json()
        self.on_dead_letter(DeadLetter(
            reason=reason, topic=rec.topic if rec else "", partition=rec.partition if rec else 0,
            offset=rec.offset if rec else -1, raw=raw).model_dump())

    def _commit(self) -> None:
        if self.store is not None:
            self.store.commit()

    # -- checkpoints --------------------------------------------------------------------
    def snapshot(self) -> bytes:
        """Exact state: bank, buckets, damper, positions, counters (JSON with base64 blobs)."""
        state = {
            "version": SNAPSHOT_VERSION, "settings": self.settings.model_dump(),
            "bank": base64.b64encode(self.bank.to_bytes()).decode(),
            "damper": base64.b64encode(self.damper.to_bytes()).decode(),
            "bucketer": self.bucketer.to_state(),
            "positions": [[t, p, o] for (t, p), o in sorted(self.positions.items())],
            "counters": self.counters.as_dict(), "open": self._open,
        }
        return json.dumps(state).encode()

    @classmethod
    def restore(cls, data: bytes, settings: PipelineSettings | None = None, *,
                on_alert: Callable[[dict], None], on_dead_letter: Callable[[dict], None],
                store: Store | None = None) -> Pipeline:
        """Rebuild a pipeline from `snapshot()` bytes (settings default to the saved ones)."""
        try:
            state = json.loads(data)
            if state.get("version") != SNAPSHOT_VERSION:
                raise CheckpointError(f"unknown snapshot version {state.get('version')}")
            saved = PipelineSettings(**state["settings"])
            settings = settings or saved
            if settings.bucket_seconds != saved.bucket_seconds:
                raise CheckpointError(f"snapshot has {saved.bucket_seconds} s buckets, "
                                      f"not {settings.bucket_seconds}")
            pipe = cls(settings, on_alert=on_alert, on_dead_letter=on_dead_letter, store=store)
            pipe._load(state)
        except (ValueError, KeyError, TypeError) as exc:
            raise CheckpointError(f"bad snapshot: {exc}") from exc
        return pipe

    def _load(self, state: dict[str, Any]) -> None:
        config = BankConfig(bucket_seconds=self.settings.bucket_seconds)
        self.bank = DetectorBank.from_bytes(base64.b64decode(state["bank"]), config)
        self.damper = ReporterDamper.from_bytes(base64.b64decode(state["damper"]))
        self.bucketer.load_state(state["bucketer"])
        self.positions = {(t, int(p)): int(o) for t, p, o in state["positions"]}
        self.counters = Counters(**state["counters"])
        self._open = dict(state["open"])
        self._names = self.bank.services
        self._ids = {n: i for i, n in enumerate(self._names)}
