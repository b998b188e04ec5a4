"""Worker subprocesses (`python -m streams.worker`) whose status lines tests can wait for."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from streams.kafka_io import TopicNames

ROOT = Path(__file__).resolve().parents[2]


class WorkerProc:
    """One worker process; `wait_for(pred)` reads its JSON status lines until pred holds."""

    def __init__(self, bootstrap: str, topics: TopicNames, group: str, *,
                 checkpoint_every: float = 0.5, idle_exit: float = 4.0,
                 session_timeout_ms: int = 10_000, max_poll_records: int = 100) -> None:
        prefix = topics.reports[: -len("reports")]
        cmd = [sys.executable, "-m", "streams.worker", "--bootstrap", bootstrap,
               "--group", group, "--prefix", prefix, "--alerts-topic", topics.alerts,
               "--checkpoint-every", str(checkpoint_every), "--idle-exit", str(idle_exit),
               "--session-timeout-ms", str(session_timeout_ms),
               "--max-poll-records", str(max_poll_records)]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True,
                                     env=dict(os.environ, PYTHONUNBUFFERED="1"))
        self.lines: queue.Queue[dict] = queue.Queue()
        self.seen: list[dict] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("{"):
                self.lines.put(json.loads(line))

    def wait_for(self, pred, timeout: float = 120.0) -> dict:
        """The first status line (old or new) satisfying `pred`; fails after `timeout`."""
        for d in self.seen:
            if pred(d):
                return d
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                d = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    break
                continue
            self.seen.append(d)
            if pred(d):
                return d
        raise AssertionError(f"worker never reported the awaited state; saw {self.seen[-5:]}")

    def kill(self) -> None:
        """SIGKILL: no checkpoint, no flush, no goodbye."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def finish(self, timeout: float = 180.0) -> dict:
        """Wait for the batch-mode exit and return its summary line."""
        summary = self.wait_for(lambda d: d["event"] == "exit", timeout)
        assert self.proc.wait(30) == 0
        return summary

    def close(self) -> None:
        if self.proc.poll() is None:
            self.kill()
