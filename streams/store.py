"""SQLite store of what the pipeline learned: series points, incidents with history, services.

One connection shared under a lock (`check_same_thread=False`), so the API can read while the
pipeline writes from another thread. Writes are buffered in the open transaction and made
visible by `commit()` (the pipeline commits once per processed batch), which keeps a replay of
millions of events from paying one fsync per bucket. Times are epoch seconds inside and ISO
strings in what the read methods return.
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from streams.schema import iso

SCHEMA = """
CREATE TABLE IF NOT EXISTS series (
    service TEXT NOT NULL, t REAL NOT NULL, observed REAL, expected REAL, upper REAL,
    error_rate REAL, state TEXT, PRIMARY KEY (service, t)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS services (
    service TEXT PRIMARY KEY, t REAL, observed REAL, expected REAL, upper REAL,
    error_rate REAL, state TEXT, incident_id TEXT);
CREATE TABLE IF NOT EXISTS incidents (
    incident_id TEXT PRIMARY KEY, service TEXT NOT NULL, status TEXT NOT NULL,
    started_at REAL, detected_at REAL, alert TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS incidents_service ON incidents (service, started_at);
CREATE TABLE IF NOT EXISTS incident_history (
    alert_id TEXT PRIMARY KEY, incident_id TEXT NOT NULL, seq INTEGER NOT NULL,
    alert TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS history_incident ON incident_history (incident_id, seq);
"""


def _num(x: float) -> float | None:
    """NaN/inf -> None so rows stay JSON-ready."""
    return float(x) if x is not None and math.isfinite(x) else None


class Store:
    """Thread-safe SQLite store; `path` is a file (parents created) or ":memory:".

    >>> store = Store()
    >>> store.write_bucket(1770152700.0, ["chatgpt"], [2464.0], [31.5], [55.0], [float("nan")],
    ...                    ["incident"]); store.commit()
    >>> [(p["t"], p["observed"], p["error_rate"]) for p in store.series("chatgpt")]
    [('2026-02-03T21:05:00Z', 2464.0, None)]
    """

    def __init__(self, path: str | Path = ":memory:") -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        with self._lock:
            if str(path) != ":memory:":
                self._db.execute("PRAGMA journal_mode=WAL")
                # a derived view (checkpoints hold the truth): no fsync per batch commit
                self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
            self._db.execute("BEGIN")

    # -- writes (pipeline thread) ---------------------------------------------------------
    def write_bucket(self, t: float, names: Sequence[str], observed: Iterable[float],
                     expected: Iterable[float], upper: Iterable[float],
                     error_rate: Iterable[float], states: Sequence[str],
                     series: bool = True) -> None:
        """One closed bucket for all services: series points and each service's latest view."""
        rows = [(n, t, _num(o), _num(e), _num(u), _num(r), s)
                for n, o, e, u, r, s in zip(names, observed, expected, upper, error_rate, states,
                                            strict=True)]
        with self._lock:
            if series:
                self._db.executemany("INSERT OR REPLACE INTO series VALUES (?,?,?,?,?,?,?)", rows)
            self._db.executemany(
                "INSERT INTO services VALUES (?,?,?,?,?,?,?,NULL) ON CONFLICT(service) DO UPDATE "
                "SET t=excluded.t, observed=excluded.observed, expected=excluded.expected, "
                "upper=excluded.upper, error_rate=excluded.error_rate, state=excluded.state",
                rows)

    def write_alert(self, alert: dict[str, Any], started_at: float, detected_at: float) -> None:
        """Record an alert: latest state of its incident plus one history row (idempotent)."""
        text = json.dumps(alert)
        open_id = None if alert["status"] == "resolved" else alert["incident_id"]
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO incidents VALUES (?,?,?,?,?,?)",
                (alert["incident_id"], alert["service"], alert["status"], started_at,
                 detected_at, text))
            seq = self._db.execute("SELECT COUNT(*) FROM incident_history WHERE incident_id=?",
                                   (alert["incident_id"],)).fetchone()[0]
            self._db.execute("INSERT OR IGNORE INTO incident_history VALUES (?,?,?,?)",
                             (alert["alert_id"], alert["incident_id"], seq, text))
            self._db.execute(
                "INSERT INTO services (service, incident_id) VALUES (?, ?) ON CONFLICT(service) "
                "DO UPDATE SET incident_id=excluded.incident_id", (alert["service"], open_id))

    def commit(self) -> None:
        """Make buffered writes visible to readers (and durable for a file store)."""
        with self._lock:
            self._db.execute("COMMIT")
            self._db.execute("BEGIN")

    def close(self) -> None:
        with self._lock:
            self.commit()
            self._db.close()

    # -- reads (API thread) ---------------------------------------------------------------
    def services(self) -> list[dict[str, Any]]:
        """Every known service with its latest bucket and open incident id (if any)."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM services ORDER BY service").fetchall()
        return [self._service_row(r) for r in rows]

    def service(self, service_id: str) -> dict[str, Any] | None:
        """One service's latest view, or None when unknown."""
        with self._lock:
            row = self._db.execute("SELECT * FROM services WHERE service=?",
                                   (service_id,)).fetchone()
        return None if row is None else self._service_row(row)

    def series(self, service_id: str, since: float | None = None,
               until: float | None = None) -> list[dict[str, Any]]:
        """Closed buckets of one service in [since, until] (epoch seconds), oldest first."""
        lo = -math.inf if since is None else since
        hi = math.inf if until is None else until
        with self._lock:
            rows = self._db.execute(
                "SELECT t, observed, expected, upper, error_rate, state FROM series "
                "WHERE service=? AND t>=? AND t<=? ORDER BY t", (service_id, lo, hi)).fetchall()
        return [dict(r, t=iso(r["t"]), ts=r["t"]) for r in rows]

    def incidents(self, status: str | None = None,
                  service: str | None = None) -> list[dict[str, Any]]:
        """Latest alert of each incident, newest first; filter by status and/or service."""
        sql, args = "SELECT alert FROM incidents WHERE 1=1", []
        if status is not None:
            sql, args = sql + " AND status=?", [*args, status]
        if service is not None:
            sql, args = sql + " AND service=?", [*args, service]
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY started_at DESC, incident_id", args).fetchall()
        return [json.loads(r["alert"]) for r in rows]

    def incident(self, incident_id: str) -> dict[str, Any] | None:
        """Latest alert of one incident with its `history` (every alert, in order)."""
        with self._lock:
            row = self._db.execute("SELECT alert FROM incidents WHERE incident_id=?",
                                   (incident_id,)).fetchone()
            hist = self._db.execute(
                "SELECT alert FROM incident_history WHERE incident_id=? ORDER BY seq",
                (incident_id,)).fetchall()
        if row is None:
            return None
        return dict(json.loads(row["alert"]), history=[json.loads(h["alert"]) for h in hist])

    @staticmethod
    def _service_row(row: sqlite3.Row) -> dict[str, Any]:
        out = dict(row)
        out["ts"], out["t"] = out["t"], iso(out["t"]) if out["t"] is not None else None
        return out
