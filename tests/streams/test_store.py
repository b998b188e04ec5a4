"""SQLite store: writes, queries with filters, idempotent alerts, concurrent reads."""

from __future__ import annotations

import threading
from pathlib import Path

from streams.store import Store

T = 1770112860.0


def _alert(incident: str, status: str, n: int, service: str = "a") -> dict:
    return {"alert_id": f"{incident}-{status}-{n}", "incident_id": incident, "service": service,
            "status": status, "started_at": "2026-02-03T10:01:00Z", "observed": float(n)}


def test_series_services_and_incidents(tmp_path: Path) -> None:
    store = Store(tmp_path / "data" / "radar.sqlite")
    for k in range(5):
        store.write_bucket(T + 60 * k, ["a", "b"], [k, 2 * k], [1.0, 1.0], [5.0, float("inf")],
                           [float("nan"), 0.5], ["ok", "incident"])
    store.write_alert(_alert("i1", "open", 1), T, T + 10)
    store.write_alert(_alert("i1", "update", 2), T, T + 20)
    store.write_alert(_alert("i1", "update", 2), T, T + 20)  # a replayed duplicate
    store.write_alert(_alert("i2", "open", 3, "b"), T + 60, T + 70)
    store.write_alert(_alert("i2", "resolved", 4, "b"), T + 60, T + 200)
    store.commit()
    pts = store.series("a", since=T + 60, until=T + 180)
    assert [(p["ts"], p["observed"]) for p in pts] == [(T + 60, 1.0), (T + 120, 2.0),
                                                       (T + 180, 3.0)]
    assert pts[0]["t"] == "2026-02-03T10:02:00Z" and pts[0]["error_rate"] is None
    assert store.series("b")[0]["upper"] is None and store.series("b")[0]["error_rate"] == 0.5
    assert store.series("nope") == []
    svc = store.service("a")
    assert svc is not None and svc["observed"] == 4.0 and svc["incident_id"] == "i1"
    assert store.service("b")["incident_id"] is None  # its incident is resolved
    assert store.service("nope") is None
    assert [s["service"] for s in store.services()] == ["a", "b"]
    assert [i["incident_id"] for i in store.incidents()] == ["i2", "i1"]
    assert [i["incident_id"] for i in store.incidents(status="resolved")] == ["i2"]
    assert [i["incident_id"] for i in store.incidents(service="a")] == ["i1"]
    inc = store.incident("i1")
    assert inc["status"] == "update" and [h["status"] for h in inc["history"]] == ["open", "update"]
    assert store.incident("nope") is None
    store.close()
    again = Store(tmp_path / "data" / "radar.sqlite")  # durable after commit
    assert len(again.series("a")) == 5


def test_reads_while_writing_from_another_thread() -> None:
    store = Store(":memory:")
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for k in range(300):
                store.write_bucket(T + 60 * k, ["a"], [k], [1.0], [2.0], [0.0], ["ok"])
                if k % 10 == 0:
                    store.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    while thread.is_alive():
        store.series("a")
        store.services()
    thread.join()
    store.commit()
    assert errors == [] and len(store.series("a")) == 300
