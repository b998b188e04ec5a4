"""Checkpoints of the embedded mode: pipeline state with its positions, atomically in SQLite.

Checkpoint order (as in quix-streams/Flink): sinks flushed, then `save` writes the snapshot
and the positions it covers in ONE transaction, then the source may commit its offsets. A
crash between two checkpoints replays from the saved positions with the saved state, which
reproduces the same alert ids (they are deterministic), so consumers only see repeats.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from streams.errors import CheckpointError

SCHEMA = """
CREATE TABLE IF NOT EXISTS checkpoint (
    name TEXT PRIMARY KEY, seq INTEGER NOT NULL, state BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoint_positions (
    name TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL,
    next_offset INTEGER NOT NULL, PRIMARY KEY (name, topic, partition));
"""

Positions = dict[tuple[str, int], int]


class SqliteCheckpoint:
    """Saves and loads the latest checkpoint of a named pipeline in a SQLite file.

    >>> ckpt = SqliteCheckpoint(":memory:")
    >>> ckpt.load() is None, ckpt.save(b"state", {("reports", 0): 42})
    (True, 1)
    >>> ckpt.load()
    (b'state', {('reports', 0): 42})
    """

    def __init__(self, path: str | Path, name: str = "pipeline") -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.name = name
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.executescript(SCHEMA)

    def save(self, state: bytes, positions: Positions) -> int:
        """Replace the checkpoint atomically; return its sequence number."""
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute("SELECT seq FROM checkpoint WHERE name=?", (self.name,)).fetchone()
                seq = (row[0] if row else 0) + 1
                db.execute("INSERT OR REPLACE INTO checkpoint VALUES (?,?,?)",
                           (self.name, seq, state))
                db.execute("DELETE FROM checkpoint_positions WHERE name=?", (self.name,))
                db.executemany("INSERT INTO checkpoint_positions VALUES (?,?,?,?)",
                               [(self.name, t, p, o) for (t, p), o in sorted(positions.items())])
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return seq

    def load(self) -> tuple[bytes, Positions] | None:
        """Latest (state, positions), or None when nothing was saved yet."""
        with self._lock:
            row = self._db.execute("SELECT state FROM checkpoint WHERE name=?",
                                   (self.name,)).fetchone()
            pos = self._db.execute("SELECT topic, partition, next_offset FROM "
                                   "checkpoint_positions WHERE name=?", (self.name,)).fetchall()
        if row is None:
            return None
        if not isinstance(row[0], bytes):
            raise CheckpointError("checkpoint state is not a blob")
        return row[0], {(t, int(p)): int(o) for t, p, o in pos}

    def close(self) -> None:
        with self._lock:
            self._db.close()
