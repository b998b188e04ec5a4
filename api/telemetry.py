"""Prometheus metrics of one app, in its own CollectorRegistry (no global state between apps).

Pipeline numbers are read at scrape time from the pipeline's own counters (a custom collector),
so they are never double counted; HTTP requests are counted by middleware.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from api.runtime import Runtime


class PipelineCollector(Collector):
    """Events processed, dead letters by reason, alerts by status, open incidents, SSE clients."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[Metric]:
        counters = self.runtime.counters()
        processed = CounterMetricFamily("outage_radar_events_processed",
                                        "Events processed by the pipeline")
        processed.add_metric([], float(_number(counters.get("processed", 0))))
        yield processed
        yield _by_label("outage_radar_dead_letters", "Events sent to dead-letter, by reason",
                        "reason", counters.get("dead_letter", {}))
        yield _by_label("outage_radar_alerts", "Alerts published, by status", "status",
                        _alerts_by_status(counters))
        active = sum(1 for i in self.runtime.store.incidents() if i["status"] != "resolved")
        yield GaugeMetricFamily("outage_radar_incidents_open", "Incidents not resolved",
                                value=active)
        yield GaugeMetricFamily("outage_radar_sse_clients", "Connected alert-stream clients",
                                value=self.runtime.hub.subscriber_count)


def _alerts_by_status(counters: Mapping[str, Any]) -> dict[str, float]:
    """Pipeline counts alerts in total, opened and resolved; the rest are updates."""
    total, opened = _number(counters.get("alerts", 0)), _number(counters.get("opened", 0))
    resolved = _number(counters.get("resolved", 0))
    return {"open": opened, "update": max(0.0, total - opened - resolved), "resolved": resolved}


def _number(value: Any) -> float:
    if isinstance(value, Mapping):
        return float(sum(_number(v) for v in value.values()))
    return float(value or 0)


def _by_label(name: str, doc: str, label: str, value: Any) -> CounterMetricFamily:
    family = CounterMetricFamily(name, doc, labels=[label])
    items = value.items() if isinstance(value, Mapping) else [("all", value)]
    for key, n in items:
        family.add_metric([str(key)], _number(n))
    return family


def build_registry(runtime: Runtime) -> tuple[CollectorRegistry, Counter]:
    """A fresh registry with the pipeline collector and the HTTP request counter."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PipelineCollector(runtime))
    requests = Counter("outage_radar_http_requests", "HTTP requests by method, route, status",
                       ["method", "route", "status"], registry=registry)
    return registry, requests
