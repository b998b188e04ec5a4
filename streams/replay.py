"""Replay of historical files through the Pipeline, in event time, as fast as it can.

Inputs: JSONL report / error-rate files (topic inferred per line) or NAB-style
`timestamp,value` CSV (a real-valued series named after the file, fed as `error_rate`
with no requests). Every input is decoded once, sorted by event time (stable, so ties keep
file order) and ingested; the result is deterministic: same input, same alert ids.
Dead letters of a replay name their source as partition = index of the file in the command
line and offset = line number (0-based).
"""

from __future__ import annotations

import csv
import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from rich.console import Console
from rich.progress import MofNCompleteColumn, Progress
from rich.table import Table

from streams.errors import BadMessage
from streams.parsing import (
    error_rate_from,
    infer_topic,
    load_object,
    parse_ts,
    report_from,
)
from streams.pipeline import Pipeline, Record
from streams.schema import ErrorRateEvent, Event
from streams.settings import PipelineSettings
from streams.store import Store

Sink = Callable[[dict], None]


@dataclass
class ReplaySummary:
    """What a replay read, found and wrote."""

    files: int = 0
    lines: int = 0
    events: int = 0
    services: int = 0
    buckets: int = 0
    partial_buckets: int = 0
    dead_letter: dict[str, int] = field(default_factory=dict)
    opened: int = 0
    resolved: int = 0
    alerts: int = 0
    seconds: float = 0.0

    @property
    def throughput(self) -> float:
        """Input lines per second of wall-clock (reported, never asserted)."""
        return self.lines / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True, slots=True)
class _Item:
    ts: float
    seq: int
    event: Event
    rec: Record


def _by_time(item: _Item) -> float:
    return item.ts


def read_file(path: Path, fileno: int, dead: Callable[[str, Record], None]) -> Iterator[_Item]:
    """Decoded events of one file; bad lines go to `dead` with their reason."""
    reader = _read_csv if path.suffix.lower() == ".csv" else _read_jsonl
    yield from reader(path, fileno, dead)


def _read_jsonl(path: Path, fileno: int, dead: Callable[[str, Record], None]) -> Iterator[_Item]:
    with path.open("rb") as fh:
        for lineno, line in enumerate(fh):
            if not line.strip():
                continue
            rec = Record("reports", b"", None, fileno, lineno)
            try:
                obj = load_object(line)
                topic = infer_topic(obj)
                rec = Record(topic, b"", None, fileno, lineno)
                event = report_from(obj) if topic == "reports" else error_rate_from(obj)
            except BadMessage as exc:
                dead(exc.reason, Record(rec.topic, line.rstrip(b"\n"), None, fileno, lineno))
                continue
            yield _Item(event.ts, lineno, event, rec)


def _read_csv(path: Path, fileno: int, dead: Callable[[str, Record], None]) -> Iterator[_Item]:
    service = csv_service_name(path)
    with path.open(newline="") as fh:
        for lineno, row in enumerate(csv.reader(fh)):
            if lineno == 0 and row and row[0].strip().lower() == "timestamp":
                continue
            try:
                ts, value = _csv_row(row)
            except BadMessage as exc:
                dead(exc.reason, Record("error-rates", ",".join(row).encode(), None, fileno,
                                        lineno))
                continue
            event = ErrorRateEvent(service, ts, None, None, value)
            yield _Item(ts, lineno, event, Record("error-rates", b"", None, fileno, lineno))


def _csv_row(row: list[str]) -> tuple[float, float]:
    """`timestamp,value`; NAB timestamps are naive and taken as UTC."""
    if len(row) < 2:
        raise BadMessage("bad csv line")
    text = row[0].strip()
    if re.fullmatch(r"\d{4}-\d\d-\d\d[ T][\d:.]+", text):
        text += "+00:00"
    ts = parse_ts(text)
    try:
        value = float(row[1])
    except ValueError:
        raise BadMessage("bad value") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise BadMessage("bad value")
    return ts, value


def csv_service_name(path: Path) -> str:
    """A valid service id from a file name (`realKnownCause/nyc_taxi.csv` -> `nyc_taxi`)."""
    name = re.sub(r"[^A-Za-z0-9._:-]", "_", path.stem).lstrip("._:-")
    return (name or "series")[:64]


def streams_of(paths: list[Path]) -> list[list[Path]]:
    """Inputs that share one event-time clock: all JSONL files together, each CSV on its own.

    A NAB-style CSV is an independent series with its own era (2014 taxi counts next to 2026
    reports), so mixing it into the report stream would make one of them "far from watermark".
    """
    jsonl = [p for p in paths if p.suffix.lower() != ".csv"]
    return ([jsonl] if jsonl else []) + [[p] for p in paths if p.suffix.lower() == ".csv"]


def replay(paths: list[Path], settings: PipelineSettings | None = None, *,
           on_alert: Sink, on_dead_letter: Sink, store: Store | None = None,
           progress: Callable[[int, int], None] | None = None) -> ReplaySummary:
    """Replay `paths` in event-time order; `progress(done, total)` is called now and then."""
    start = time.perf_counter()
    total = ReplaySummary(files=len(paths))
    for group in streams_of([Path(p) for p in paths]):
        pipe = Pipeline(settings, on_alert=on_alert, on_dead_letter=on_dead_letter, store=store)
        total.lines += _replay_stream(pipe, group, paths, progress)
        _add(total, pipe)
    total.seconds = time.perf_counter() - start
    return total


def _replay_stream(pipe: Pipeline, group: list[Path], paths: list[Path],
                   progress: Callable[[int, int], None] | None) -> int:
    """Decode, sort and ingest one stream; return the number of input lines."""
    items: list[_Item] = []
    for path in group:
        items.extend(read_file(path, paths.index(path), pipe.dead_letter))
    rejected = sum(pipe.counters.dead_letter.values())
    items.sort(key=_by_time)  # stable: ties keep file order
    for done, item in enumerate(items, 1):
        pipe.ingest(item.event, item.rec)
        if progress is not None and (done % 5000 == 0 or done == len(items)):
            progress(done, len(items))
    pipe.flush()
    return len(items) + rejected


def _add(total: ReplaySummary, pipe: Pipeline) -> None:
    c = pipe.counters
    total.events += c.events
    total.services += len(pipe.bank.services)
    total.buckets += c.buckets
    total.partial_buckets += c.partial_buckets
    total.opened, total.resolved, total.alerts = (total.opened + c.opened,
                                                  total.resolved + c.resolved,
                                                  total.alerts + c.alerts)
    for reason, n in c.dead_letter.items():
        total.dead_letter[reason] = total.dead_letter.get(reason, 0) + n


class JsonlWriter:
    """Appends dicts as JSON lines to a file opened lazily (no empty file when nothing comes)."""

    def __init__(self, path: Path | None, stack: ExitStack) -> None:
        self.path, self._stack, self._fh = path, stack, None
        self.count = 0

    def __call__(self, obj: dict[str, Any]) -> None:
        self.count += 1
        if self.path is None:
            return
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh: IO[str] | None = self._stack.enter_context(self.path.open("w"))
        self._fh.write(json.dumps(obj) + "\n")


def summary_table(s: ReplaySummary) -> Table:
    """The end-of-replay summary as a rich table."""
    table = Table(title="outage-radar replay", show_header=True)
    table.add_column("metric")
    table.add_column("value", justify="right")
    rows = [("files", s.files), ("input lines", s.lines), ("events", s.events),
            ("services", s.services), ("buckets closed", s.buckets),
            ("partial evaluations", s.partial_buckets),
            ("dead letters", sum(s.dead_letter.values()))]
    rows += [(f"  dead letter: {r}", n) for r, n in sorted(s.dead_letter.items())]
    rows += [("incidents opened", s.opened), ("incidents resolved", s.resolved),
             ("alerts", s.alerts), ("seconds", f"{s.seconds:.2f}"),
             ("throughput (lines/s)", f"{s.throughput:,.0f}")]
    for name, value in rows:
        table.add_row(name, str(value))
    return table


def run(paths: list[Path], *, alerts_out: Path | None, dead_letter_out: Path | None,
        settings: PipelineSettings | None = None, store: Store | None = None,
        console: Console | None = None) -> ReplaySummary:
    """The `replay` command: progress bar on stderr, summary table on `console`."""
    console = console or Console()
    with ExitStack() as stack:
        alerts, dead = JsonlWriter(alerts_out, stack), JsonlWriter(dead_letter_out, stack)
        bar = stack.enter_context(Progress(*Progress.get_default_columns(), MofNCompleteColumn(),
                                           console=Console(stderr=True), transient=True))
        task = bar.add_task("replaying", total=None)
        summary = replay(paths, settings, on_alert=alerts, on_dead_letter=dead, store=store,
                         progress=lambda done, total: bar.update(task, completed=done,
                                                                 total=total))
    console.print(summary_table(summary))
    return summary
