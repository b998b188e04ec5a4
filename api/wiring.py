"""Builds Runtimes: in-memory (tests, demo) and on-disk with a pipeline thread (`serve`)."""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

from api.runtime import Runtime
from api.settings import Settings
from streams.pipeline import Pipeline
from streams.settings import PipelineSettings
from streams.store import Store

log = logging.getLogger(__name__)


def pipeline_settings(settings: Settings) -> PipelineSettings:
    """The pipeline knobs the API settings decide (the rest keep their defaults)."""
    return PipelineSettings(bucket_seconds=settings.bucket_seconds)


class DeadLetters:
    """Keeps the last dead letters in memory (counts are in the pipeline's counters)."""

    def __init__(self, keep: int = 100) -> None:
        self.recent: deque[dict[str, Any]] = deque(maxlen=keep)

    def __call__(self, letter: dict[str, Any]) -> None:
        self.recent.append(letter)
        log.debug("dead letter: %s", letter.get("reason"))


def attach_pipeline(runtime: Runtime, settings: Settings, snapshot: bytes | None = None) -> None:
    """Give `runtime` a pipeline writing to its store and alerting through its hub."""
    kwargs = {"on_alert": runtime.on_alert, "on_dead_letter": DeadLetters(),
              "store": runtime.store}
    if snapshot is not None:
        runtime.pipeline = Pipeline.restore(snapshot, pipeline_settings(settings), **kwargs)
    else:
        runtime.pipeline = Pipeline(pipeline_settings(settings), **kwargs)


def memory_runtime(settings: Settings) -> Runtime:
    """In-memory store and an inline pipeline: ingest is processed in the request."""
    runtime = Runtime(store=Store(":memory:"), mode="memory")
    attach_pipeline(runtime, settings)
    return runtime
