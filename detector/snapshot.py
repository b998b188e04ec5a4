"""Snapshot container of the bank: named numpy arrays plus a small JSON header in one npz."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np

from detector.errors import SnapshotError


def pack(arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> bytes:
    """Arrays and a JSON-able header as npz bytes (exact: no float formatting)."""
    out = dict(arrays)
    out["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **out)
    return buf.getvalue()


def unpack(data: bytes, version: int) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Arrays and header of `pack`; a `SnapshotError` for anything else or another version.

    >>> arrays, meta = unpack(pack({"a": np.arange(3)}, {"version": 2}), 2)
    >>> arrays["a"].tolist(), meta
    ([0, 1, 2], {'version': 2})
    """
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        meta = json.loads(arrays.pop("meta").tobytes())
    except Exception as exc:  # noqa: BLE001 - any decoding failure is a bad snapshot
        raise SnapshotError(f"unreadable snapshot: {exc}") from exc
    if meta.get("version") != version:
        raise SnapshotError(f"snapshot version {meta.get('version')} not supported")
    return arrays, meta
