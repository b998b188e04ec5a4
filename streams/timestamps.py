"""Event timestamps: ISO-8601 with offset/`Z` or epoch seconds -> epoch seconds.

`parse_ts` is the reference (`datetime.fromisoformat`). `fast_iso` handles the common shape
`YYYY-MM-DDTHH:MM:SS[.fff]Z` from per-second and per-minute caches and returns exactly what
`parse_ts` returns (`datetime.timestamp()` is total microseconds / 10**6, a correctly rounded
integer division, done the same way here); anything else gives None and goes to `parse_ts`.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from streams.errors import BadMessage

_SECONDS = {f"{s:02d}": s * 1_000_000 for s in range(60)}  # fromisoformat rejects second 60
_SUFFIX = {"Z": 0} | {f".{m:03d}Z": m * 1000 for m in range(1000)}  # -> microseconds
_MINUTES: dict[str, int | None] = {}  # "YYYY-MM-DDTHH:MM:" -> microseconds since the epoch
_SECOND_OF: dict[str, int | None] = {}  # "YYYY-MM-DDTHH:MM:SS" -> microseconds
_MAX_CACHED = 100_000  # bound of each cache


def parse_ts(raw: Any) -> float:
    """ISO-8601 with offset/`Z`, or epoch seconds (number or numeric string) -> epoch seconds."""
    if isinstance(raw, bool):
        raise BadMessage("bad ts")
    if isinstance(raw, int | float):
        ts = float(raw)
    elif isinstance(raw, str):
        ts = _ts_text(raw)
    else:
        raise BadMessage("bad ts")
    if not math.isfinite(ts):
        raise BadMessage("bad ts")
    return ts


def _ts_text(raw: str) -> float:
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        raise BadMessage("bad ts") from None
    if when.tzinfo is None:
        raise BadMessage("bad ts")  # a naive time is ambiguous: the offset is required
    return when.timestamp()


def fast_iso(raw: str) -> float | None:
    """`parse_ts(raw)` for `YYYY-MM-DDTHH:MM:SS[.fff]Z`, None for any other text.

    >>> fast_iso("2026-02-03T21:04:12.250Z"), parse_ts("2026-02-03T21:04:12.250Z")
    (1770152652.25, 1770152652.25)
    >>> fast_iso("2026-02-03T21:04:12+00:00") is None
    True
    """
    frac = _SUFFIX.get(raw[19:])
    if frac is None:
        return None
    prefix = raw[:19]
    base = _SECOND_OF.get(prefix, -1)
    if base == -1:
        base = _second(prefix)
    return None if base is None else (base + frac) / 1_000_000


def _second(prefix: str) -> int | None:
    """Microseconds of a `YYYY-MM-DDTHH:MM:SS` prefix (None if not exactly that shape)."""
    if len(_SECOND_OF) >= _MAX_CACHED:
        _SECOND_OF.clear()
    sec = _SECONDS.get(prefix[17:19])
    base = _MINUTES.get(prefix[:17], -1)
    if base == -1:
        base = _minute(prefix[:17])
    micros = None if sec is None or base is None or len(prefix) != 19 else base + sec
    _SECOND_OF[prefix] = micros
    return micros


def _minute(prefix: str) -> int | None:
    """Microseconds of a `YYYY-MM-DDTHH:MM:` prefix (None if not exactly that shape)."""
    if len(_MINUTES) >= _MAX_CACHED:
        _MINUTES.clear()
    base: int | None = None
    shape = (prefix[4], prefix[7], prefix[10], prefix[13], prefix[16])
    digits = prefix[:4] + prefix[5:7] + prefix[8:10] + prefix[11:13] + prefix[14:16]
    if shape == ("-", "-", "T", ":", ":") and digits.isascii() and digits.isdigit():
        try:
            when = datetime.fromisoformat(prefix + "00Z")
        except ValueError:
            when = None
        if when is not None:
            base = (when - _EPOCH) // _MICRO
    _MINUTES[prefix] = base
    return base


_EPOCH = datetime.fromisoformat("1970-01-01T00:00:00Z")
_MICRO = timedelta(microseconds=1)
