"""BankGroup: several DetectorBanks stepped as one bank, with the results of separate steps.

A worker holds one bank per input partition, 25 services each for a fleet of 100 on 4
partitions, and a bank's step costs about the same for 25 services as for 100: ~110 numpy
calls of fixed overhead. When those banks close the same full bucket, `BankGroup.step` steps
them in one vectorised call over storage they share, and gives every bank exactly the state
and the band its own step would have given it.

* **Shared storage.** The group keeps one bank whose columns hold the member banks' columns
  side by side; each member's columns are made views of its slice, so every member stays the
  source of truth for its own services (snapshots, status, separate steps read and write the
  shared storage). A member that grows reallocates its columns, which detaches it; a member
  replaced (restored from a checkpoint) is another object: either makes the group lay its
  storage out again before its next step.
* **Exact, or not at all.** Every per-service computation of `DetectorBank.step` is the same
  whether a service is stepped with 24 or with 99 others; what is not per service is the
  related-incident tracker, used only when a step emits transitions, and the seasonal
  renormalisation hour, a scalar per bank. So a group step is taken only for full buckets
  without error rates, when every member has the same renormalisation hour; and one that
  emits any transition is undone (the shared storage restored from a copy taken before it)
  and the caller steps the members one by one instead, as before. The caches of the models
  (seasonal slots, expectation, dispersion) are dropped wherever the storage changed under
  them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from detector.band import UpperBand
from detector.bank import DetectorBank
from detector.columns import Columns
from detector.related import RelatedTracker


class BankGroup:
    """Steps member banks (disjoint services, one configuration) as one; see the module doc.

    >>> from detector import BankConfig
    >>> cfg = BankConfig(bucket_seconds=60)
    >>> a, b = DetectorBank(cfg), DetectorBank(cfg)
    >>> _ = a.ensure(["chatgpt"]), b.ensure(["sora", "claude"])
    >>> bands = BankGroup().step([a, b], 60.0, [np.array([3.0]), np.array([1.0, 2.0])])
    >>> [len(band) for _, band in bands], a.status()[0].observed
    ([1, 2], 3.0)
    """

    def __init__(self) -> None:
        self._bank: DetectorBank | None = None  # the shared one, over every member's services
        self._members: list[DetectorBank] = []
        self._marks: list[np.ndarray] = []  # a column view set in each member (identity)
        self._spans: list[tuple[int, int]] = []
        self._versions: list[int] = []  # members' seasonal versions after the last group step
        self._buffer = np.empty(0, np.uint8)  # the shared storage: every column's bytes
        self.taken = self.undone = 0  # group steps taken, and undone for a transition

    def step(self, banks: Sequence[DetectorBank], t_end: float, reports: Sequence[np.ndarray]
             ) -> list[tuple[np.ndarray, UpperBand]] | None:
        """Step the full bucket ending at ``t_end`` for every bank (``reports`` in the same
        order) and return each bank's expectation and band for the next bucket, as
        `DetectorBank.expected_band` gives them; None when the group step was not taken or
        was undone, the banks' state untouched: step them one by one then."""
        if len(banks) < 2 or any(not b.services for b in banks):
            return None
        hours = {b._seasonal._hour for b in banks}
        if len(hours) != 1:
            return None
        bank = self._layout(banks)
        if bank is None:
            return None
        self._sync(banks, hours.pop())
        saved = self._buffer.copy()  # every column at once (one buffer: `_share`)
        hour = bank._seasonal._hour
        if bank.step(t_end, np.concatenate(reports)):  # a transition: undo, step them alone
            np.copyto(self._buffer, saved)
            bank._seasonal._hour = hour
            bank._related = RelatedTracker(bank.config.related_seconds)
            self._invalidate(bank)
            self._versions = [-1] * len(banks)  # (the members' caches were not touched)
            self.undone += 1
            return None
        mu, band = bank.expected_band(t_end + bank.config.bucket_seconds)
        out = []
        for member, (lo, hi) in zip(banks, self._spans, strict=True):
            self._invalidate(member)
            member._seasonal._hour = bank._seasonal._hour
            out.append((mu[lo:hi], band.part(lo, hi)))
        self._versions = [m._seasonal._version for m in banks]
        self.taken += 1
        return out

    # -- storage ------------------------------------------------------------------------------
    def _layout(self, banks: Sequence[DetectorBank]) -> DetectorBank | None:
        """The shared bank, laid out again unless the members are the same, unchanged;
        None if their configurations differ."""
        if (self._bank is not None and len(banks) == len(self._members)
                and all(b is m for b, m in zip(banks, self._members, strict=True))
                and all(_mark(b) is mark for b, mark in zip(banks, self._marks, strict=True))):
            return self._bank
        if any(b.config != banks[0].config for b in banks):
            return None
        bank = DetectorBank(banks[0].config)
        bank._names = [name for b in banks for name in b.services]
        bank._index = {name: i for i, name in enumerate(bank._names)}
        spans, lo = [], 0
        for b in banks:
            spans.append((lo, lo + len(b.services)))
            lo += len(b.services)
        wholes = [model.cols for model in bank._models().values()]
        parts = [[b._models()[prefix].cols for b in banks] for prefix in bank._models()]
        self._buffer = _share(wholes, parts, spans)
        self._bank, self._members, self._spans = bank, list(banks), spans
        self._marks = [_mark(b) for b in banks]
        self._versions = [-1] * len(banks)
        return bank

    def _sync(self, banks: Sequence[DetectorBank], hour: int) -> None:
        """Drop the shared bank's caches if a member's state moved since the last group step
        (a step of its own, a load); take the members' renormalisation hour."""
        bank = self._bank
        assert bank is not None
        if [b._seasonal._version for b in banks] != self._versions:
            self._invalidate(bank)
        bank._seasonal._hour = hour

    @staticmethod
    def _invalidate(bank: DetectorBank) -> None:
        """Caches of a bank whose storage changed under it: seasonal slots, rows and
        expectation (keyed by the version) and the dispersion."""
        bank._seasonal._version += 1
        bank._seasonal._slots = None
        bank._counts._k = None


def _mark(bank: DetectorBank) -> np.ndarray:
    return bank._seasonal.cols._data["level"]


def _share(wholes: list[Columns], parts: list[list[Columns]],
           spans: list[tuple[int, int]]) -> np.ndarray:
    """Give each of ``wholes`` the columns of its ``parts`` side by side (capacity: exactly
    their sum), all in one buffer (returned: a step's undo copies it in one call), and make
    each part's columns views of its span of them. Models write their columns in place (only
    `Columns.resize`, which a step never calls, reallocates)."""
    n = spans[-1][1] if spans else 0
    joined = [{name: np.concatenate([p[name] for p in ps], axis=-1) for name in whole._data}
              for whole, ps in zip(wholes, parts, strict=True)]
    sizes = [-(-arr.nbytes // 8) * 8 for cols in joined for arr in cols.values()]  # aligned
    buffer = np.empty(sum(sizes), np.uint8)
    at = 0
    for whole, cols in zip(wholes, joined, strict=True):
        for name, arr in cols.items():
            view = buffer[at:at + arr.nbytes].view(arr.dtype).reshape(arr.shape)
            view[...] = arr
            whole._data[name] = view
            at += -(-arr.nbytes // 8) * 8
        whole._n = n
        whole._views = whole._make_views()
    for whole, ps in zip(wholes, parts, strict=True):
        for part, (lo, hi) in zip(ps, spans, strict=True):
            for name, arr in whole._data.items():
                part._data[name] = arr[..., lo:hi]  # capacity hi - lo: growing detaches it
            part._n = hi - lo
            part._views = part._make_views()
    return buffer
