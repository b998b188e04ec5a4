"""The reference scenarios of DESIGN.md as seeded generator inputs, with their truth.

Each reproduces the shape of a press-reported incident: the 2026-02-03 spike (2,464
reports/min over a normal ~30), the ~45-minute plateau of 2025-12-03, the progressive recovery
of 2025-12-01, a slow 4 -> 120/min ramp, 25/min on a 0.3/min app, one cause lighting up
several related services, and one reporter spamming 400 reports. `merged` puts several on one
timeline so one bank run covers them all. Pure: numpy only, no clocks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from detector.generators import DAY, WEEK, Outage, Profile, Scenario, Spam, generate, utc


def _reference_truth(name: str) -> tuple[list[Profile], list[Outage], list[Spam]]:
    """Profiles, outages and spammers of the reference scenarios (times in UTC)."""
    gpt = Profile("chatgpt", base=20.0, diurnal=0.5, peak_hour=20.0, dispersion=0.05,
                  wander=0.05, requests=20_000.0)
    api = Profile("chatgpt-api", base=8.0, diurnal=0.4, peak_hour=16.0, requests=50_000.0)
    if name == "spike":  # 2026-02-03 21:04 Paris: 2,464/min over a normal ~30
        t = utc("2026-02-03T20:04:20")
        return [gpt, api], [Outage("chatgpt", t, t + 2400, 2464.0, "spike", 0.3),
                            Outage("chatgpt-api", t + 60, t + 2400, 300.0, "spike", 0.2)], []
    if name == "plateau":  # 2025-12-03 ~06:25-07:16 Paris: history sidebar empty
        t = utc("2025-12-03T05:28:00")
        return [gpt], [Outage("chatgpt", t, t + 2880, 400.0, "plateau", 0.1)], []
    if name == "ramp":  # 4 -> 120 reports/min over 30 minutes, then holds
        t = utc("2025-07-21T12:35:00")
        slow = Profile("sora", base=4.0, diurnal=0.1, peak_hour=12.6, dispersion=0.05)
        return [slow], [Outage("sora", t, t + 3600, 116.0, "ramp")], []
    if name == "recovery":  # 2025-12-01 Monday morning: restored progressively over hours
        t = utc("2025-12-01T08:10:00")
        return [gpt], [Outage("chatgpt", t, t + 5 * 3600, 900.0, "recovery", 0.2)], []
    if name == "tiny":  # 25 reports/min on an app that normally sees 0.3/min
        t = utc("2025-11-12T14:10:00")
        tiny = Profile("tiny-app", base=0.3, diurnal=0.3, peak_hour=14.0, dispersion=0.1)
        return [tiny], [Outage("tiny-app", t, t + 1200, 25.0, "plateau")], []
    if name == "related":  # one cause, several products within a few minutes
        t = utc("2025-07-21T12:35:00")
        names = [("chatgpt", 600.0), ("chatgpt-api", 150.0), ("sora", 60.0), ("codex", 40.0)]
        profs = [gpt, api, Profile("sora", base=4.0), Profile("codex", base=2.0)]
        return profs, [Outage(s, t + 60 * k, t + 2700, peak, "plateau", 0.2)
                       for k, (s, peak) in enumerate(names)], []
    if name == "spammer":  # one reporter sends 400 reports in 10 minutes on a ~3/min app
        t = utc("2025-11-12T14:00:00")
        return [Profile("notes-app", base=3.0, diurnal=0.3)], [], [
            Spam("notes-app", "spammer-0001", t, t + 600, 400)]
    raise ValueError(f"unknown reference scenario {name!r}; known: {REFERENCES}")


REFERENCES = ("spike", "plateau", "ramp", "recovery", "tiny", "related", "spammer")


def reference(name: str, seed: int = 0, warmup_days: float = 2.0,
              bucket_seconds: float = 60.0, after_hours: float = 2.0) -> Scenario:
    """A reference scenario with `warmup_days` of normal history before its incident day.

    >>> sc = reference("spike", seed=0)
    >>> sc.services, [o.peak for o in sc.outages], round(sc.days, 2)
    (('chatgpt', 'chatgpt-api'), [2464.0, 300.0], 2.96)
    """
    profiles, outages, spam = _reference_truth(name)
    return _framed(name, profiles, outages, spam, seed, warmup_days, bucket_seconds,
                   after_hours)


def _framed(name: str, profiles: list[Profile], outages: list[Outage], spam: list[Spam],
            seed: int, warmup_days: float, bucket_seconds: float,
            after_hours: float) -> Scenario:
    """Generate from `warmup_days` before the first incident's day to `after_hours` after."""
    first = min([o.onset for o in outages] + [s.start for s in spam])
    last = max([o.end for o in outages] + [s.end for s in spam])
    t0 = (first // DAY - warmup_days) * DAY
    days = np.ceil((last + after_hours * 3600 - t0) / 3600) / 24
    return generate(name, profiles, t0=t0, days=days, outages=outages, spam=spam, seed=seed,
                    bucket_seconds=bucket_seconds)


def merged(names: Sequence[str], seed: int = 0, warmup_days: float = 2.0,
           anchor: str = "2026-02-03T12:00:00", bucket_seconds: float = 60.0,
           after_hours: float = 2.0) -> Scenario:
    """Several reference scenarios on one timeline (one bank run for all).

    Each is moved by whole weeks (hour of week kept) to the week of `anchor`; their services
    must differ.
    """
    profiles: list[Profile] = []
    outages: list[Outage] = []
    spam: list[Spam] = []
    for name in names:
        p, o, s = _reference_truth(name)
        first = min([x.onset for x in o] + [x.start for x in s])
        shift = WEEK * round((utc(anchor) - first) / WEEK)
        profiles += p
        outages += [replace(x, onset=x.onset + shift, end=x.end + shift) for x in o]
        spam += [replace(x, start=x.start + shift, end=x.end + shift) for x in s]
    if len({p.name for p in profiles}) < len(profiles):
        raise ValueError(f"scenarios {names} share services")
    return _framed("+".join(names), profiles, outages, spam, seed, warmup_days,
                   bucket_seconds, after_hours)
