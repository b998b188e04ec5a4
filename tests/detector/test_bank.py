"""Behaviour of DetectorBank: partial buckets, hysteresis, fusion, related, ids, validation."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from detector import BankConfig, BucketContext, DetectorBank
from detector.errors import SnapshotError, UnknownServiceError
from detector.incidents import IncidentConfig

NAMES = ["chatgpt", "api", "tiny"]
BASE = np.array([30.0, 20.0, 0.3])
DAY_STEPS = 1440


def warm(config: BankConfig | None = None, seed: int = 3) -> tuple[DetectorBank, float]:
    """A bank after one day of seeded Poisson buckets (error rates ~1 % on every service)."""
    rng = np.random.default_rng(seed)
    bank = DetectorBank(config)
    bank.ensure(NAMES)
    for i in range(1, DAY_STEPS + 1):
        assert bank.step(60.0 * i, rng.poisson(BASE).astype(float),
                         error_rate=0.01 + 0.001 * rng.standard_normal(3)) == []
    return bank, 60.0 * DAY_STEPS


@pytest.fixture(scope="module")
def warmed() -> tuple[bytes, float]:
    bank, t = warm()
    return bank.to_bytes(), t


def test_a_spike_opens_on_the_first_partial_bucket(warmed) -> None:
    data, t = warmed
    bank = DetectorBank.from_bytes(data)
    ctx = {"chatgpt": BucketContext({"login": 500, "history": 300}, {"FR": 600, "US": 200},
                                    {"downdetector": 800})}
    tr = bank.step(t + 20, np.array([820.0, 7.0, 0.0]), fraction=1 / 3, context=ctx)
    assert [(x.service, x.status, x.state) for x in tr] == [("chatgpt", "open", "confirmed")]
    (op,) = tr
    assert (op.started_at, op.detected_at) == (t, t + 20)
    assert op.expected < 20 < op.upper < 820 and op.p_value < 1e-7
    assert op.top_categories == ("login", "history") and op.top_regions == ("FR", "US")
    assert op.signals == ("reports",) and op.sources == ("downdetector",)
    assert bank.step(t + 60, np.array([2464.0, 20.0, 0.0])) == []  # same bucket, full


def test_resolution_needs_calm_full_buckets_and_keeps_the_incident_id(warmed) -> None:
    data, t = warmed
    bank = DetectorBank.from_bytes(data)
    (op,) = bank.step(t + 60, np.array([2464.0, 20.0, 0.0]))
    calm = np.array([30.0, 20.0, 0.0])
    steps = [bank.step(t + 60 * (i + 2), calm) for i in range(5)]
    assert [len(s) for s in steps] == [0, 0, 0, 0, 1]
    (res,) = steps[-1]
    assert (res.status, res.incident_id, res.started_at) == ("resolved", op.incident_id, t)
    assert res.resolved_at == t + 360


def test_the_same_input_gives_the_same_transitions_and_ids(warmed) -> None:
    data, t = warmed
    runs = []
    for _ in range(2):
        bank = DetectorBank.from_bytes(data)
        out = []
        for i, c in enumerate([400.0, 2000.0, 30.0, 31.0, 29.0, 30.0, 28.0, 30.0]):
            out += bank.step(t + 60 * (i + 1), np.array([c, 20.0, 0.0]))
        runs.append(out)
    assert runs[0] == runs[1] and [x.status for x in runs[0]] == ["open", "update", "resolved"]


def test_services_opening_together_are_related(warmed) -> None:
    data, t = warmed
    bank = DetectorBank.from_bytes(data)
    (a,) = bank.step(t + 60, np.array([600.0, 20.0, 0.0]))
    (b,) = bank.step(t + 120, np.array([700.0, 400.0, 0.0]))
    assert (a.related, b.related) == ((), ("chatgpt",))
    out = [bank.step(t + 60 * (i + 3), np.array([30.0, 20.0, 0.0])) for i in range(5)]
    assert ("api",) in [x.related for step in out for x in step if x.service == "chatgpt"]


def test_a_tiny_app_outage_is_found_but_its_noise_is_not(warmed) -> None:
    data, t = warmed
    bank = DetectorBank.from_bytes(data)
    assert bank.step(t + 60, np.array([30.0, 20.0, 4.0])) == []
    (op,) = bank.step(t + 120, np.array([30.0, 20.0, 25.0]))
    assert op.service == "tiny"


def test_moderate_evidence_on_two_signals_opens_but_on_one_does_not(warmed) -> None:
    data, t = warmed
    x = np.array([30.0, 60.0, 0.0])  # moderate on the api reports
    alone = DetectorBank.from_bytes(data).step(t + 60, x)
    err = np.array([0.01, 0.045, 0.01])  # moderate on the api error rate
    both = DetectorBank.from_bytes(data).step(t + 60, x, error_rate=err)
    assert alone == [] and [(o.service, o.signals) for o in both] == [
        ("api", ("reports", "error_rate"))]


def test_a_strong_error_rate_alone_opens(warmed) -> None:
    data, t = warmed
    bank = DetectorBank.from_bytes(data)
    (op,) = bank.step(t + 60, np.array([30.0, 20.0, 0.0]),
                      error_rate=np.array([0.01, 0.01, 0.5]),
                      requests=np.array([np.nan, np.nan, 2000.0]))
    assert (op.service, op.signals) == ("tiny", ("error_rate",))


def test_a_brand_new_service_does_not_alert_on_its_first_reports() -> None:
    bank = DetectorBank()
    bank.add_service("newcomer")
    out = [bank.step(60.0 * i, np.array([c])) for i, c in enumerate([40, 55, 38, 60, 45], 1)]
    assert out == [[]] * 5


def test_a_persistent_shift_is_accepted_as_the_new_normal() -> None:
    cfg = BankConfig(incidents=replace(IncidentConfig(), accept_buckets=30))
    bank, t = warm(cfg)
    rng = np.random.default_rng(9)
    out = []
    for i in range(1, 200):
        out += bank.step(t + 60 * i, rng.poisson(BASE * [6, 1, 1]).astype(float))
    assert [x.status for x in out] == ["open", "resolved"]
    assert out[1].detected_at - out[0].detected_at == 30 * 60


def test_bad_inputs_raise_named_errors() -> None:
    bank = DetectorBank()
    assert bank.ensure(["a", "b", "a"]).tolist() == [0, 1, 0] and bank.add_service("b") == 1
    with pytest.raises(ValueError):
        bank.step(60.0, np.zeros(3))
    with pytest.raises(UnknownServiceError):
        bank.index("zzz")
    with pytest.raises(SnapshotError):
        DetectorBank.from_bytes(b"not a snapshot")
    with pytest.raises(SnapshotError):
        DetectorBank.from_bytes(bank.to_bytes(), BankConfig(bucket_seconds=30))


def test_status_and_expected_cover_every_service(warmed) -> None:
    data, t = warmed
    bank = DetectorBank.from_bytes(data)
    bank.step(t + 60, np.array([900.0, 20.0, 0.0]))
    st = {s.service: s for s in bank.status()}
    assert st["chatgpt"].state == "confirmed" and st["chatgpt"].incident_id
    assert st["api"].state == "ok" and st["api"].incident_id is None
    exp, up = bank.expected(t + 120)
    assert exp.shape == up.shape == (3,) and np.all(up > exp)
    assert bank.state_bytes_per_service() < 4096


def test_a_shift_is_watched_while_another_service_is_in_an_incident(warmed) -> None:
    data, t = warmed
    bank = DetectorBank.from_bytes(data)
    (op,) = bank.step(t + 60, np.array([2464.0, 20.0, 0.0]))
    assert op.service == "chatgpt"
    out = [tr for i in range(2, 12)
           for tr in bank.step(t + 60 * i, np.array([2464.0, 40.0, 0.0]))]
    assert [(x.service, x.status, "reports_trend" in x.signals) for x in out] == [
        ("api", "open", True)]


def test_no_early_look_before_a_service_has_learned_a_full_bucket() -> None:
    """A never-seen service's whole-minute count early in its first bucket opens nothing
    (it would read as 6x the bucket's pace); a warm service with the same look opens, and the
    new service's full bucket still opens on strong evidence (2,464 against the prior)."""
    bank = DetectorBank(BankConfig(bucket_seconds=60))
    bank.ensure(["warm"])
    rng = np.random.default_rng(3)
    for i in range(1, 241):
        bank.step(60.0 * i, rng.poisson([5.0]).astype(float))
    bank.ensure(["new-busy", "new-spike"])
    t = 60.0 * 241
    early = bank.step(t - 50, np.array([95.0, 95.0, 2464.0]), fraction=10 / 60)
    assert [(tr.service, tr.status) for tr in early] == [("warm", "open")]
    full = bank.step(t, np.array([95.0, 95.0, 2464.0]))
    assert {tr.service for tr in full if tr.status == "open"} == {"new-spike"}
