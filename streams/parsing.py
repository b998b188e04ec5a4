"""Decoding and validation of raw Kafka/JSONL messages into events, with dead-letter reasons.

Validation is hand-written rather than left to pydantic so that (a) every rejection carries a
short, stable reason for the dead-letter topic and its counter, and (b) the per-message cost
stays a few microseconds on the hot path. `decode_many` adds a fast path for well-formed
reports (and falls back to `decode` for anything else): msgspec parses and type-checks them in
C into `_Fields` (`decode_many` 1.3-1.5x faster than with `orjson.loads` and checks of the
dict in Python; `benchmarks/README.md`, "At 659f9ec").
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Annotated, Any

import msgspec
import orjson

from streams.errors import BadMessage
from streams.gc_pause import gc_paused
from streams.names import ERROR_RATES, REPORTS
from streams.schema import ErrorRateEvent, Event, ReportEvent
from streams.timestamps import fast_iso, parse_ts

MAX_BYTES = 64 * 1024
MAX_COUNT = 1e6
MAX_REQUESTS = 1e12
MIN_TS = 946684800.0  # 2000-01-01: older epochs are unit mistakes (or ms misread), not reports
MAX_TS = 4102444800.0  # 2100-01-01
SERVICE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
TEXT_FIELDS = ("category", "region", "source", "reporter", "message")  # ReportEvent order
_new = tuple.__new__  # an event from its validated fields, without NamedTuple's __new__
RATE_FIELDS = ("errors", "requests", "error_rate")
_Text = Annotated[str, msgspec.Meta(max_length=200)] | None  # (200 code points, as `len`)


class _Fields(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """The fields of a well-formed report as msgspec checks them (`decode_many`'s fast path).

    Unknown fields are refused, not skipped: msgspec skips them without the checks orjson
    makes (UTF-8, numbers out of range), so a message with any goes through `decode`, which
    ignores them (DESIGN.md) after orjson parsed them. What msgspec refuses (JSON orjson
    refuses too, a wrong type, a count out of range, a text over 200) also goes through
    `decode`, for its reason; `tests/streams/test_decode_many.py` compares both element-wise.
    """

    service: str
    ts: float | str  # (a JSON integer is read as a float: `float(raw)` in `_ts`)
    count: Annotated[float, msgspec.Meta(ge=0, le=MAX_COUNT)] | None = None
    category: _Text = None
    region: _Text = None
    source: _Text = None
    reporter: _Text = None
    message: _Text = None


_parse_fields = msgspec.json.Decoder(_Fields).decode
# what msgspec raises on bad input: its errors, and UnicodeDecodeError for invalid UTF-8
_REFUSED = (msgspec.MsgspecError, ValueError)


def decode(topic: str, value: bytes) -> Event:
    """Bytes of one message on `topic` -> a validated event, or raise `BadMessage(reason)`.

    >>> decode("reports", b'{"service": "chatgpt", "ts": "2026-02-03T21:04:12Z"}').ts
    1770152652.0
    >>> decode("reports", b'{"service": "chatgpt"}')
    Traceback (most recent call last):
    ...
    streams.errors.BadMessage: missing ts
    """
    obj = load_object(value)
    if topic == REPORTS:
        return report_from(obj)
    if topic == ERROR_RATES:
        return error_rate_from(obj)
    raise BadMessage("unknown topic")


def decode_many(topic: str, values: Sequence[bytes]) -> list[Event | BadMessage]:
    """`decode` over many values of one topic: element-wise the event or the BadMessage that
    `decode` would raise (never raises), for callers that decode a polled batch at once.

    Well-formed reports take the fast path (`_Fields`); anything it does not take goes through
    `decode` itself, so every event and every dead-letter reason is the same.

    >>> [getattr(x, "reason", None) for x in decode_many("reports", [b'{"service": "a", '
    ...  b'"ts": 1770152652}', b"{"])]
    [None, 'not json']
    """
    if topic != REPORTS:
        return [_decode_or_reason(topic, value) for value in values]
    out: list[Event | BadMessage] = []
    append, parse, services = out.append, _parse_fields, _SERVICES
    with gc_paused():
        for value in values:
            event = None
            if len(value) <= MAX_BYTES:
                try:
                    r = parse(value)
                except _REFUSED:
                    r = None
                if r is not None:  # `report_from`, for what `_Fields` let through
                    service, ts = r.service, r.ts
                    ok = services.get(service)
                    if ok is None:
                        ok = _valid_service(service)
                    if ts.__class__ is str:
                        ts = fast_iso(ts)
                    if ok and ts is not None and MIN_TS <= ts < MAX_TS:
                        count = r.count
                        event = _new(ReportEvent, (
                            service, ts, 1.0 if count is None else count, r.category,
                            r.region, r.source, r.reporter, r.message))
            append(event if event is not None else _decode_or_reason(topic, value))
    return out


def _decode_or_reason(topic: str, value: bytes) -> Event | BadMessage:
    try:
        return decode(topic, value)
    except BadMessage as exc:
        return exc


_SERVICES: dict[str, bool] = {}  # service id -> valid (SERVICE_RE), a bounded cache


def _valid_service(service: str) -> bool:
    if len(_SERVICES) >= 100_000:
        _SERVICES.clear()
    ok = _SERVICES[service] = SERVICE_RE.match(service) is not None
    return ok


def load_object(value: bytes | str) -> dict[str, Any]:
    """Parse one JSON object, rejecting oversize, non-JSON and non-object messages."""
    if len(value) > MAX_BYTES:
        raise BadMessage("oversize")
    try:
        obj = orjson.loads(value)  # strict RFC 8259: NaN, Infinity, lone surrogates rejected
    except ValueError:
        raise BadMessage("not json") from None
    if not isinstance(obj, dict):
        raise BadMessage("not an object")
    return obj


def infer_topic(obj: dict[str, Any]) -> str:
    """Topic of a replayed JSONL line: error-rates when it carries any rate field."""
    return ERROR_RATES if any(k in obj for k in RATE_FIELDS) else REPORTS


def report_from(obj: dict[str, Any]) -> ReportEvent:
    """Validate a decoded object as a report event."""
    service, ts = _service(obj), _ts(obj)
    count = obj.get("count")
    if count is None:
        count = 1  # optional: absent or null means one report
    count = (float(count) if type(count) is int and 0 <= count <= MAX_COUNT
             else _number(count, "count", MAX_COUNT))
    texts = []
    for key in TEXT_FIELDS:
        value = obj.get(key)
        texts.append(value if value is None or (type(value) is str and len(value) <= 200)
                     else _text(obj, key))
    return _new(ReportEvent, (service, ts, count, *texts))


def error_rate_from(obj: dict[str, Any]) -> ErrorRateEvent:
    """Validate a decoded object as an error-rate sample (errors/requests or error_rate)."""
    service, ts = _service(obj), _ts(obj)
    if obj.get("errors") is not None or obj.get("requests") is not None:
        errors = _number(obj.get("errors"), "errors", MAX_REQUESTS)
        requests = _number(obj.get("requests"), "requests", MAX_REQUESTS)
        if errors > requests:
            raise BadMessage("errors > requests")
        return _new(ErrorRateEvent, (service, ts, errors, requests, None))
    if obj.get("error_rate") is None:
        raise BadMessage("missing error_rate")
    rate = _number(obj["error_rate"], "error_rate", 1.0)
    return _new(ErrorRateEvent, (service, ts, None, None, rate))


def _service(obj: dict[str, Any]) -> str:
    service = obj.get("service")
    if service is None:
        raise BadMessage("missing service")
    if not isinstance(service, str) or not SERVICE_RE.match(service):
        raise BadMessage("invalid service")
    return service


def _ts(obj: dict[str, Any]) -> float:
    raw = obj.get("ts")
    if (type(raw) is float or type(raw) is int) and MIN_TS <= raw < MAX_TS:
        return float(raw)  # the common case, epoch seconds
    if raw is None:
        raise BadMessage("missing ts")
    ts = parse_ts(raw)
    if not MIN_TS <= ts < MAX_TS:
        raise BadMessage("bad ts")
    return ts


def _number(raw: Any, name: str, limit: float) -> float:
    """A finite number in [0, limit], else a reason naming the field."""
    if raw is None:
        raise BadMessage(f"missing {name}")
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise BadMessage(f"bad {name}")
    value = float(raw)
    if not math.isfinite(value):
        raise BadMessage(f"bad {name}")
    if name == "error_rate" and not 0.0 <= value <= limit:
        raise BadMessage("error_rate out of range")
    if value < 0:
        raise BadMessage(f"negative {name}")
    if value > limit:
        raise BadMessage(f"absurd {name}")
    return value


def _text(obj: dict[str, Any], name: str) -> str | None:
    value = obj.get(name)
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise BadMessage(f"bad {name}")
    return value[:200]
