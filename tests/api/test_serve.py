"""`serve` on the embedded default (bus + pipeline thread + SQLite under data/) and `demo`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from api.app import create_app
from api.cli import main
from api.embedded import embedded_runtime
from api.settings import Settings
from tests.browser.test_dashboard import free_port

T = 1_770_148_800  # 2026-02-03T20:00:00Z


def wait_until(check, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_embedded_serve_processes_checkpoints_and_restores(tmp_path: Path) -> None:
    settings = Settings(data=tmp_path, live=False)
    runtime, service = embedded_runtime(settings)
    with TestClient(create_app(settings, runtime, background=[service])) as client:
        events = [{"service": "chatgpt", "ts": T + 60 * k + 30, "count": 2} for k in range(30)]
        assert client.post("/reports", json=events).status_code == 202
        wait_until(lambda: client.get("/services/chatgpt").status_code == 200)
        wait_until(lambda: len(client.get("/services/chatgpt/series").json()["points"]) >= 25)
    assert (tmp_path / "store.sqlite").is_file() and (tmp_path / "checkpoint.sqlite").is_file()
    again, _ = embedded_runtime(settings)  # a restart restores the detectors from SQLite
    assert again.pipeline.bank.services == ["chatgpt"]
    assert again.pipeline.counters.processed == 30
    assert len(again.store.series("chatgpt")) >= 25


def test_serve_command_with_token_from_environment(tmp_path: Path) -> None:
    port = free_port()
    env = dict(os.environ, OUTAGE_RADAR_INGEST_TOKEN="tok", OUTAGE_RADAR_LIVE="false")
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port),
                             "--data", str(tmp_path)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: _up(url), timeout=60)
        one = {"service": "sora", "ts": T}
        assert httpx.post(url + "/reports", json=one).status_code == 401
        ok = httpx.post(url + "/reports", json=one, headers={"Authorization": "Bearer tok"})
        assert ok.status_code == 202
        assert httpx.get(url + "/healthz").json()["mode"] == "embedded"
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert f"serving on http://127.0.0.1:{port}/" in out
    assert (tmp_path / "checkpoint.sqlite").is_file()


def _up(url: str) -> bool:
    try:
        return httpx.get(url + "/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_demo_check_finds_the_reference_shaped_outages(capsys) -> None:
    assert main(["demo", "--check", "--seed", "7"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("demo ready in ")
    lines = out.splitlines()[1:]
    started = {(line.split()[1], line.split()[0][11:16]) for line in lines}
    assert {("chatgpt", "05:28"), ("gemini", "08:10"), ("chatgpt", "20:04")} <= started
    spread = [line for line in lines if line.split()[0][11:13] == "20"]
    assert {line.split()[1] for line in spread} >= {"chatgpt", "chatgpt-api", "sora", "codex"}
    assert "related chatgpt-api,sora,codex" in out
    assert not any(line.split()[1] == "notes-app" for line in lines)  # the spammer is damped
