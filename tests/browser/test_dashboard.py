"""The dashboard in a real headless Chromium (Debian's package): page loads, a plotly chart
renders, and an incident injected through POST /reports appears live over SSE.

Saves tests/browser/artifacts/dashboard.png (gitignored) for people to look at.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from api import demo
from api.app import create_app
from api.settings import Settings
from api.wiring import memory_runtime
from detector import generators as g
from tests.browser.cdp import CHROMIUM, Browser

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK),
                       reason=f"{CHROMIUM} missing: run `python -m tests.prepare` (apt chromium)"),
]
ARTIFACTS = Path(__file__).parent / "artifacts"
T0 = g._utc("2026-02-03T08:00:00")
HOURS = 8


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def generated_runtime(settings: Settings):
    """Three services, eight hours, one earlier outage on chatgpt, replayed in memory."""
    profiles = [g.Profile("chatgpt", base=20, peak_hour=20), g.Profile("chatgpt-api", base=8),
                g.Profile("sora", base=4)]
    onset = T0 + 4 * 3600
    sc = g.generate("browser", profiles, t0=T0, days=HOURS / 24, seed=3,
                    outages=[g.Outage("chatgpt", onset, onset + 1800, 400.0, "plateau")])
    runtime = memory_runtime(settings)
    demo.replay(runtime, sc, seed=3)
    return runtime


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """uvicorn serving the app on a free loopback port, in a thread of this process."""
    settings = Settings(live=False)
    app = create_app(settings, generated_runtime(settings))
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    b = Browser()
    yield b
    b.close()


def spike(service: str, t: float) -> list[dict]:
    """A minute of 2,400 reports (pre-aggregated, as a tracker sends them) then a later one."""
    burst = [{"service": service, "ts": t + s, "count": 200, "category": "gateway time-out",
              "region": "FR", "source": "downdetector"} for s in range(0, 60, 5)]
    return [*burst, {"service": service, "ts": t + 300, "count": 2}]


def test_dashboard_live_incident(server: str, browser: Browser) -> None:
    browser.navigate(server + "/")
    assert browser.wait_for("document.title") == "outage-radar"
    browser.wait_for("document.querySelectorAll('#services .service').length === 3")
    browser.wait_for("document.querySelector('#chart .main-svg') !== null")  # plotly SVG
    assert browser.evaluate("typeof Plotly") == "object"
    assert browser.evaluate("document.querySelectorAll('#chart .scatterlayer .trace').length") == 3
    assert browser.evaluate("document.querySelector('#chart').dataset.service") == "chatgpt"
    assert browser.evaluate("document.querySelectorAll('#incidents .incident').length") >= 1
    browser.wait_for("document.querySelector('#live').dataset.state === 'connected'")
    assert browser.evaluate("document.querySelector('#incidents [data-via=sse]')") is None

    r = httpx.post(server + "/reports", json=spike("chatgpt-api", T0 + HOURS * 3600 + 60))
    assert r.status_code == 202

    card = "#incidents .incident[data-via=sse][data-service='chatgpt-api']"
    browser.wait_for(f"document.querySelector(\"{card}\") !== null")
    text = browser.evaluate(f"document.querySelector(\"{card}\").innerText")
    assert "gateway time-out" in text and "FR" in text
    browser.evaluate(f"document.querySelector(\"{card}\").click()")
    browser.wait_for("document.querySelector('#chart').dataset.service === 'chatgpt-api'")
    browser.wait_for("document.querySelector(\".service[data-id='chatgpt-api']\")"
                     ".dataset.state !== 'ok'")
    time.sleep(0.5)  # let plotly finish drawing before the screenshot
    shot = browser.screenshot(ARTIFACTS / "dashboard.png")
    assert shot.stat().st_size > 10_000


def test_openapi_docs_render_offline(server: str, browser: Browser) -> None:
    """Swagger UI comes from the fastapi-offline wheel: every operation is listed."""
    browser.navigate(server + "/docs")
    browser.wait_for("document.querySelectorAll('.swagger-ui .opblock').length >= 10")
    scripts = browser.evaluate("[...document.scripts].map((s) => s.src).filter(Boolean)")
    assert scripts and all(src.startswith(server) for src in scripts)
