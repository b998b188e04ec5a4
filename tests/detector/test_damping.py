"""ReporterDamper: a few reports per reporter per window, event time, exact snapshots."""

from detector.damping import ReporterDamper


def test_one_reporter_sending_400_reports_counts_a_few_times() -> None:
    d = ReporterDamper(max_per_window=3, window_seconds=600)
    admitted = sum(d.admit("notes", "spammer", 1000.0 + i * 1.5, 1) for i in range(400))
    assert admitted == 3.0


def test_distinct_reporters_and_services_are_independent() -> None:
    d = ReporterDamper(max_per_window=2, window_seconds=600)
    got = [d.admit(s, r, 10.0, 5) for s in ("a", "b") for r in ("x", "y")]
    assert got == [2.0, 2.0, 2.0, 2.0]


def test_a_new_window_admits_again_and_old_windows_are_pruned() -> None:
    d = ReporterDamper(max_per_window=1, window_seconds=60)
    assert d.admit("svc", "r0", 0.0, 1) == 1.0
    assert d.admit("svc", "r0", 59.0, 1) == 0.0
    assert d.admit("svc", "r0", 61.0, 1) == 1.0
    for i in range(100):
        d.admit("svc", f"r{i}", 100.0 + i, 1)
    d.admit("svc", "late", 1000.0, 1)
    assert len(d) <= 2


def test_snapshot_round_trip_gives_identical_later_decisions() -> None:
    d = ReporterDamper(max_per_window=3, window_seconds=600)
    for i in range(50):
        d.admit("svc", f"r{i % 7}", 100.0 + i, 1 + i % 2)
    e = ReporterDamper.from_bytes(d.to_bytes())
    later = [("svc", f"r{i % 9}", 160.0 + 13 * i, 2) for i in range(80)]
    assert [d.admit(*a) for a in later] == [e.admit(*a) for a in later]
    assert d.to_bytes() == e.to_bytes()


def test_snapshots_of_the_former_row_format_are_still_read() -> None:
    """Checkpoints written before the columnar format restore to the same damper."""
    import json

    d = ReporterDamper(max_per_window=3, window_seconds=600)
    for i in range(60):
        d.admit(f"svc{i % 3}", f"r{i % 11}", 100.0 + 7.25 * i, 1 + i % 3)
    rows = sorted([*k.split("\0", 1), s, d._taken[k]] for k, s in d._start.items())
    old = json.dumps({"max": 3, "window": 600.0, "pruned": d._pruned_at, "rows": rows}).encode()
    e = ReporterDamper.from_bytes(old)
    assert e.to_bytes() == d.to_bytes()
    later = [(f"svc{i % 4}", f"r{i % 13}", 500.0 + 11 * i, 2) for i in range(90)]
    assert [d.admit(*a) for a in later] == [e.admit(*a) for a in later]
