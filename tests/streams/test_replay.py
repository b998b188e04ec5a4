"""`outage-radar replay` end to end on generated files (main() in-process and one subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from api.cli import main
from streams.replay import csv_service_name, streams_of
from tests.streams.gen import SPIKE_AT, spike_events


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The spike stream split over two JSONL files in shuffled order, plus bad lines and a CSV."""
    d = tmp_path_factory.mktemp("replay")
    events = spike_events()
    reports = [e for e in events if "requests" not in e]
    rates = [e for e in events if "requests" in e]
    (d / "reports.jsonl").write_text(
        "\n".join(json.dumps(e) for e in reversed(reports)) + "\nnot json\n\n"
        + json.dumps({"service": "chatgpt", "ts": SPIKE_AT, "count": -2}) + "\n")
    (d / "rates.jsonl").write_text("\n".join(json.dumps(e) for e in rates) + "\n")
    rows = [f"2014-07-01 {h:02d}:{m:02d}:00,{1000 + (m % 7)}"
            for h in range(6) for m in range(0, 60, 5)]
    (d / "nyc taxi.csv").write_text("timestamp,value\n" + "\n".join(rows) + "\n2014-07-01,abc\n")
    return [d / "reports.jsonl", d / "rates.jsonl", d / "nyc taxi.csv"]


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_replay_main_writes_alerts_dead_letters_and_a_summary(
        inputs: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, dead = tmp_path / "alerts.jsonl", tmp_path / "dead-letter.jsonl"
    args = [*map(str, inputs), "--alerts-out", str(out), "--dead-letter", str(dead)]
    assert main(["replay", *args]) == 0
    table = capsys.readouterr().out
    for word in ("events", "buckets closed", "dead letter: not json", "incidents opened",
                 "throughput"):
        assert word in table
    alerts = _lines(out)
    assert any(a["service"] == "chatgpt" and a["detected_at"].startswith("2026-02-03T13:00")
               for a in alerts)
    assert sorted(d["reason"] for d in _lines(dead)) == ["bad ts", "negative count", "not json"]
    assert all("reporter" not in json.dumps(a) for a in alerts)


def test_replay_console_script_runs(inputs: list[Path], tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from api.cli import main; sys.exit(main())",
         "replay", str(inputs[2]), "--alerts-out", str(tmp_path / "a.jsonl"), "--bucket", "300"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "input lines" in proc.stdout
    assert (tmp_path / "dead-letter.jsonl").exists()  # the default path, one bad CSV line


def test_missing_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(tmp_path / "nope.jsonl")]) == 2
    assert "no such file" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["replay", str(tmp_path / "nope.jsonl"), "--bucket", "0"])
    assert "must be > 0" in capsys.readouterr().err


def test_csv_files_are_separate_streams() -> None:
    paths = [Path("a.jsonl"), Path("x/b.csv"), Path("c.jsonl"), Path("d.csv")]
    assert streams_of(paths) == [[Path("a.jsonl"), Path("c.jsonl")], [Path("x/b.csv")],
                                 [Path("d.csv")]]
    assert csv_service_name(Path("realKnownCause/nyc taxi.csv")) == "nyc_taxi"
