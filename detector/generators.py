"""Seeded generators of per-service report streams that return their truth.

A `Scenario` holds report counts per bucket and service drawn from a gamma-Poisson
(negative binomial) model around a seasonal rate (daily cycle, weekend level, slow growth,
slow log-level wander), the outages added on top with their true onset and end, optional
error-rate series (errors out of requests, binomial, rising with the outage) and spammers
(one reporter, many reports). Shapes follow the reference incidents of DESIGN.md: the
2026-02-03 spike (2,464 reports/min over ~30), the ~45-minute plateau of 2025-12-03, the
progressive recovery of 2025-12-01, a slow ramp and outages shared by related services
(the reference scenarios themselves are in `detector.references`).
`events` turns a scenario into DESIGN.md report events for the streams pipeline and the demo.

Pure: numpy/scipy only, seeded with `np.random.default_rng(seed)`, no clocks.

>>> sc = generate("demo", [Profile("app", base=5.0)], t0=0.0, days=1,
...               outages=[Outage("app", onset=43_200.0, end=45_000.0, peak=50.0)], seed=1)
>>> sc.reports.shape, sc.outages[0].shape
((1440, 1), 'spike')
>>> bool(sc.reports[725, 0] > 3 * sc.reports[700, 0])
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.signal import lfilter

DAY = 86_400.0
WEEK = 7 * DAY
SHAPES = ("spike", "plateau", "ramp", "recovery")
NORMAL_CATEGORIES = ("app", "website", "login", "other")
OUTAGE_CATEGORIES = ("something went wrong", "gateway time-out", "route error 500",
                     "login", "history missing")
REGIONS = ("FR", "US", "DE", "GB", "IN", "BR", "JP")
REGION_WEIGHTS = (0.25, 0.3, 0.12, 0.12, 0.1, 0.06, 0.05)
SOURCES = ("downdetector", "statusgator", "social")


@dataclass(frozen=True)
class Profile:
    """Normal behaviour of one service; rates are reports (or requests) per minute."""

    name: str
    base: float = 30.0  # daily mean of the weekday rate
    diurnal: float = 0.5  # relative amplitude of the daily cycle, in [0, 1)
    peak_hour: float = 20.0  # UTC hour of the daily maximum
    weekend: float = 0.8  # weekend rate relative to weekdays
    growth: float = 0.0  # relative growth per week
    dispersion: float = 0.05  # per-bucket variance = mu + dispersion * mu**2
    wander: float = 0.0  # stationary sd of a slow AR(1) log-level wander (3 h memory)
    requests: float = 0.0  # requests/min behind the error-rate series (0: no series)
    error_base: float = 0.005  # normal error rate


@dataclass(frozen=True)
class Outage:
    """Truth of one outage: extra reports/min of `shape`, present on [onset, end)."""

    service: str
    onset: float
    end: float
    peak: float
    shape: str = "spike"
    error_peak: float = 0.0  # extra error rate at the peak


@dataclass(frozen=True)
class Spam:
    """Truth of one spammer: `reporter` sends `reports` reports evenly over [start, end)."""

    service: str
    reporter: str
    start: float
    end: float
    reports: int


@dataclass(frozen=True)
class Scenario:
    """Counts per bucket (rows) and service (columns) with the truth that made them."""

    name: str
    t0: float
    bucket_seconds: float
    services: tuple[str, ...]
    reports: np.ndarray  # organic reports (spam excluded)
    spam_reports: np.ndarray  # the spammers' reports, same shape
    errors: np.ndarray
    requests: np.ndarray  # 0 where a service has no error-rate series
    outages: tuple[Outage, ...] = ()
    spam: tuple[Spam, ...] = ()
    profiles: tuple[Profile, ...] = field(default=(), repr=False)

    @property
    def t_end(self) -> np.ndarray:
        """Event time at which each bucket closes (epoch seconds)."""
        return self.t0 + self.bucket_seconds * np.arange(1, len(self.reports) + 1)

    @property
    def days(self) -> float:
        return len(self.reports) * self.bucket_seconds / DAY

    def error_rate(self) -> np.ndarray:
        """errors / requests per bucket, NaN where there was no request."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.requests > 0, self.errors / self.requests, np.nan)


def weekend_share(t: np.ndarray, width_hours: float = 2.0) -> np.ndarray:
    """How much of the weekend level applies at `t`: 1 on Sat-Sun, 0 on weekdays.

    Users drift into and out of their weekend habits over hours (and over time zones), so
    the switch at Saturday and Monday 00:00 UTC is a logistic ramp, not a step.
    """
    h = ((t / 3600.0) - 96.0) % 168.0  # hours since Monday 00:00 UTC (epoch 0 was a Thursday)
    return _logistic(h - 120.0, width_hours) * _logistic(168.0 - h, width_hours) \
        + _logistic(-h, width_hours)


def _logistic(x: np.ndarray, scale: float) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(x / (2.0 * scale)))


def seasonal(profile: Profile, t: np.ndarray, t0: float) -> np.ndarray:
    """Normal rate (per minute) at times `t`: daily cycle x weekend level x growth."""
    hour = (t % DAY) / 3600.0
    daily = 1.0 + profile.diurnal * np.cos(2 * np.pi * (hour - profile.peak_hour) / 24.0)
    weekly = 1.0 + (profile.weekend - 1.0) * weekend_share(t)
    return profile.base * daily * weekly * (1.0 + profile.growth) ** ((t - t0) / WEEK)


def shape_profile(outage: Outage, t: np.ndarray) -> np.ndarray:
    """Fraction of the outage's peak present at times `t` (0 outside [onset, end))."""
    x = (t - outage.onset) / (outage.end - outage.onset)
    inside = (x >= 0) & (x < 1)
    x = np.clip(x, 0.0, 1.0)
    if outage.shape == "spike":  # sudden, holds, then falls off
        y = np.where(x < 0.4, 1.0, (1.0 - x) / 0.6)
    elif outage.shape == "plateau":  # quick rise, flat until fixed
        y = np.minimum(1.0, (x + 0.02) / 0.06)
    elif outage.shape == "ramp":  # linear rise over the first half, then holds
        y = np.minimum(1.0, x / 0.5)
    elif outage.shape == "recovery":  # sudden, then restored progressively
        y = np.where(x < 0.1, 1.0, ((1.0 - x) / 0.9) ** 1.5)
    else:
        raise ValueError(f"unknown outage shape {outage.shape!r}; known: {SHAPES}")
    return np.where(inside, y, 0.0)


def _wander(rng: np.random.Generator, sd: float, n: int, bucket: float) -> np.ndarray:
    """Slow AR(1) log-level wander with stationary sd `sd` and a 3-hour memory."""
    if sd <= 0:
        return np.ones(n)
    phi = np.exp(-bucket / 10_800.0)
    noise = rng.normal(0.0, sd * np.sqrt(1 - phi**2), n)
    noise[0] = rng.normal(0.0, sd)
    return np.exp(lfilter([1.0], [1.0, -phi], noise) - sd**2 / 2)


def _gamma_poisson(rng: np.random.Generator, mu: np.ndarray, dispersion: float) -> np.ndarray:
    """Overdispersed counts: Poisson with a gamma-distributed mean (negative binomial)."""
    if dispersion > 0:
        mu = mu * rng.gamma(1.0 / dispersion, dispersion, mu.shape)
    return rng.poisson(mu).astype(float)


def _spam_counts(spam: Spam, t0: float, bucket: float, n: int) -> np.ndarray:
    """Per-bucket counts of one spammer's evenly spaced reports."""
    ts = spam.start + (spam.end - spam.start) * (np.arange(spam.reports) + 0.5) / spam.reports
    idx = ((ts - t0) // bucket).astype(int)
    return np.bincount(idx[(idx >= 0) & (idx < n)], minlength=n).astype(float)


def generate(name: str, profiles: Sequence[Profile], *, t0: float, days: float,
             outages: Sequence[Outage] = (), spam: Sequence[Spam] = (), seed: int = 0,
             bucket_seconds: float = 60.0) -> Scenario:
    """Draw a scenario: seasonal gamma-Poisson reports plus outages, errors and spammers."""
    rng = np.random.default_rng(seed)
    n = int(round(days * DAY / bucket_seconds))
    mid = t0 + bucket_seconds * (np.arange(n) + 0.5)
    per_bucket = bucket_seconds / 60.0
    names = [p.name for p in profiles]
    col = {s: i for i, s in enumerate(names)}
    reports, spams, errors, requests = (np.zeros((n, len(names))) for _ in range(4))
    for i, p in enumerate(profiles):
        mu = seasonal(p, mid, t0) * _wander(rng, p.wander, n, bucket_seconds)
        err = np.full(n, p.error_base)
        for o in (o for o in outages if o.service == p.name):
            frac = shape_profile(o, mid)
            mu = mu + o.peak * frac
            err = err + o.error_peak * frac
        reports[:, i] = _gamma_poisson(rng, mu * per_bucket, p.dispersion)
        if p.requests > 0:
            req_mu = p.requests * per_bucket * seasonal(p, mid, t0) / p.base
            requests[:, i] = rng.poisson(req_mu)
            errors[:, i] = rng.binomial(requests[:, i].astype(np.int64), np.clip(err, 0, 1))
    for s in spam:
        spams[:, col[s.service]] += _spam_counts(s, t0, bucket_seconds, n)
    return Scenario(name, t0, bucket_seconds, tuple(names), reports, spams, errors, requests,
                    tuple(outages), tuple(spam), tuple(profiles))


def random_profiles(rng: np.random.Generator, n: int, prefix: str = "svc") -> list[Profile]:
    """A fleet from tiny apps (~0.2/min) to big services (~300/min), log-uniform."""
    base = np.exp(rng.uniform(np.log(0.2), np.log(300.0), n))
    return [Profile(f"{prefix}-{i:04d}", base=float(base[i]),
                    diurnal=float(rng.uniform(0.2, 0.8)), peak_hour=float(rng.uniform(0, 24)),
                    weekend=float(rng.uniform(0.6, 1.2)), growth=float(rng.uniform(0, 0.05)),
                    dispersion=float(rng.uniform(0.01, 0.1)), wander=float(rng.uniform(0, 0.1)))
            for i in range(n)]


def random_outages(rng: np.random.Generator, profiles: Sequence[Profile], t0: float,
                   days: float, warmup_days: float = 1.0, per_service: int = 1) -> list[Outage]:
    """Outages of random shape, strength (3x-30x the normal rate, 10/min at least) and length."""
    out = []
    for p in profiles:
        for _ in range(per_service):
            shape = SHAPES[int(rng.integers(len(SHAPES)))]
            minutes = {"spike": 40, "plateau": 45, "ramp": 60, "recovery": 240}[shape]
            onset = t0 + DAY * rng.uniform(warmup_days, days) - minutes * 60.0
            onset = max(onset, t0 + warmup_days * DAY)
            now = float(seasonal(p, np.array([onset]), t0)[0])
            peak = max(10.0, now * float(rng.uniform(3.0, 30.0)))
            out.append(Outage(p.name, round(onset), round(onset) + minutes * 60.0, peak, shape))
    return out


def events(scenario: Scenario, seed: int = 0) -> list[dict]:
    """DESIGN.md report events (one per report, spammers included), sorted by time."""
    rng = np.random.default_rng(seed)
    counts = scenario.reports.astype(np.int64)
    b, s = np.nonzero(counts)
    reps = counts[b, s]
    svc = np.repeat(s, reps)
    ts = scenario.t0 + scenario.bucket_seconds * (np.repeat(b, reps) + rng.random(reps.sum()))
    hit = np.zeros(len(ts), dtype=bool)
    for o in scenario.outages:
        hit |= (svc == scenario.services.index(o.service)) & (ts >= o.onset) & (ts < o.end)
    normal = rng.integers(len(NORMAL_CATEGORIES), size=len(ts))
    outage = rng.integers(len(OUTAGE_CATEGORIES), size=len(ts))
    cats = np.where(hit, np.array(OUTAGE_CATEGORIES)[outage], np.array(NORMAL_CATEGORIES)[normal])
    regions = rng.choice(np.array(REGIONS), size=len(ts), p=REGION_WEIGHTS)
    sources = rng.choice(np.array(SOURCES), size=len(ts), p=(0.7, 0.2, 0.1))
    reporters = rng.integers(0, 2**48, size=len(ts))
    out = [{"service": scenario.services[k], "ts": float(t), "count": 1, "category": str(c),
            "region": str(r), "source": str(so), "reporter": f"u{int(h):012x}"}
           for k, t, c, r, so, h in zip(svc, ts, cats, regions, sources, reporters, strict=True)]
    out.extend(_spam_events(scenario))
    out.sort(key=lambda e: e["ts"])
    millis = np.round(np.array([e["ts"] for e in out]) * 1000).astype(np.int64)
    stamps = np.datetime_as_string(millis.astype("datetime64[ms]"))
    for e, stamp in zip(out, stamps, strict=True):
        e["ts"] = f"{stamp}Z"
    return out


def _spam_events(scenario: Scenario) -> list[dict]:
    """The spammers' reports: one reporter, evenly spaced, always the same complaint."""
    out = []
    for s in scenario.spam:
        ts = s.start + (s.end - s.start) * (np.arange(s.reports) + 0.5) / s.reports
        out.extend({"service": s.service, "ts": float(t), "count": 1, "category": "login",
                    "region": "FR", "source": "downdetector", "reporter": s.reporter}
                   for t in ts)
    return out


def error_events(scenario: Scenario) -> list[dict]:
    """DESIGN.md error-rate samples (errors out of requests), one per bucket and service."""
    b, s = np.nonzero(scenario.requests > 0)
    stamps = np.datetime_as_string((scenario.t_end[b] - 1).astype("datetime64[s]"))
    return [{"service": scenario.services[j], "ts": f"{st}Z",
             "errors": int(scenario.errors[i, j]), "requests": int(scenario.requests[i, j])}
            for i, j, st in zip(b, s, stamps, strict=True)]


def utc(stamp: str) -> float:
    """Epoch seconds of an ISO-8601 UTC stamp (no offset), e.g. "2026-02-03T20:04:20"."""
    return float(np.datetime64(stamp, "s").astype(np.int64))


_utc = utc  # older name, still used by callers


def fleet(n_services: int, days: float, seed: int = 0, *, with_outages: bool = False,
          warmup_days: float = 1.0, t0: float = 1_764_547_200.0,
          bucket_seconds: float = 60.0) -> Scenario:
    """`n_services` random services from a Monday (2025-12-01), optionally one outage each."""
    rng = np.random.default_rng(seed)
    profiles = random_profiles(rng, n_services)
    outages = random_outages(rng, profiles, t0, days, warmup_days) if with_outages else []
    return generate("fleet", profiles, t0=t0, days=days, outages=outages,
                    seed=int(rng.integers(2**31)), bucket_seconds=bucket_seconds)
