"""Full-bucket upper bands per service, exact where they are read.

The band (the opening level of the next bucket, `DetectorBank.expected`) is the negative-binomial
quantile ``nb_upper`` raised to the minimum-count and minimum-ratio gates. The stream layer
compares a service's running count with it on every report to decide on early looks, but almost
every count stays far below it, and the quantile costs ~3.5 us per service per bucket (scipy's
root finding): most of a full step of a small fleet, a third of a pipeline's time on 1,000
pre-aggregated services. `UpperBand` keeps the cheap floor ``max(min_count, min_ratio * mu)``,
which every band is at least, and computes the exact band of a service only when a count passes
that floor. Every answer is the exact band's (the values equal `nb_upper`'s, bit for bit).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from detector.counts import _nbinom_isf, nb_upper

_HUGE = 1e12  # above this expectation the floor is not trusted to imply a finite band


class UpperBand:
    """Bands of services ``0..n-1``; a band is *missing* (None) where it is not finite.

    >>> b = UpperBand.lazy(np.array([1.0, 40.0]), np.array([0.3, 0.3]), 1e-7, 10.0, 2.0)
    >>> b.floor, b.passed(0, 9.0), b.passed(1, 200.0)  # under the floor; under the band
    ([10.0, 80.0], False, False)
    >>> b.get(1), b.passed(1, 281.0), b.passed(2, 1e9)  # exact; service 2 has no band
    (280.0, True, False)
    """

    def __init__(self, floor: list[float], exact: dict[int, float | None],
                 source: tuple[np.ndarray, np.ndarray, float, float, float] | None) -> None:
        self.floor = floor  # a lower bound per service (-inf where nothing is known)
        self._exact = exact  # computed bands (None: missing)
        self._source = source  # mu, k, p, min_count, min_ratio: what exact bands come from
        self._all: np.ndarray | None = None  # every band, once `values` computed them

    @classmethod
    def lazy(cls, mu: np.ndarray, k: np.ndarray, p: float, min_count: float,
             min_ratio: float) -> UpperBand:
        """Bands of expectations ``mu`` and dispersions ``k``, computed when first needed."""
        floor = np.maximum(min_count, min_ratio * mu)
        sure = np.isfinite(mu) & (mu <= _HUGE) & np.isfinite(k) & (k > 0) & (0.0 < p < 1.0)
        return cls(np.where(sure & np.isfinite(floor), floor, -np.inf).tolist(), {},
                   (mu, k, p, min_count, min_ratio))

    @classmethod
    def of(cls, values: np.ndarray | Iterable[tuple[int, float]]) -> UpperBand:
        """Bands known already: an array in service order, or (index, band) pairs."""
        pairs = (list(enumerate(np.asarray(values, dtype=float).tolist()))
                 if isinstance(values, np.ndarray) else [(int(i), float(u)) for i, u in values])
        n = 1 + max((i for i, _ in pairs), default=-1)
        exact: dict[int, float | None] = dict.fromkeys(range(n))
        exact.update((i, u) for i, u in pairs if math.isfinite(u))
        floor = [-math.inf if exact[i] is None else exact[i] for i in range(n)]
        return cls(floor, exact, None)  # type: ignore[arg-type]

    def part(self, lo: int, hi: int) -> UpperBand:
        """The bands of services ``lo..hi-1`` as an `UpperBand` of their own (indexed from 0),
        each computed when first needed (`detector.bank_group`: one per member bank)."""
        src = self._source
        return UpperBand(self.floor[lo:hi], {}, None if src is None else
                         (src[0][lo:hi], src[1][lo:hi], src[2], src[3], src[4]))

    def __len__(self) -> int:
        return len(self.floor)

    def get(self, i: int, default: float | None = None) -> float | None:
        """Service ``i``'s exact band, or ``default`` where it is missing."""
        if i in self._exact:
            value = self._exact[i]
        elif 0 <= i < len(self.floor) and self._source is not None:
            value = self._compute(i)
        else:
            return default
        return default if value is None else value

    def passed(self, i: int, count: float) -> bool:
        """``count`` is above service ``i``'s band (False where the band is missing)."""
        if i >= len(self.floor) or count <= self.floor[i]:
            return False
        band = self.get(i)
        return band is not None and count > band

    def values(self) -> np.ndarray | None:
        """Every band as an array (non-finite where missing), computed once, after which every
        `get` reads it; None for bands given by `of`."""
        if self._source is None:
            return None
        if self._all is None:
            self._all = upper_values(*self._source)
            self._exact = {i: (u if math.isfinite(u) else None)
                           for i, u in enumerate(self._all.tolist())}
        return self._all

    def items(self) -> list[tuple[int, float]]:
        """(index, band) of every service with a band, in index order (all computed now)."""
        self.values()
        return [(i, u) for i, u in sorted(self._exact.items()) if u is not None]

    def _compute(self, i: int) -> float | None:
        """Service ``i``'s band, as ``upper_values`` computes it for a one-service slice: on
        Python floats where the arguments are valid (IEEE operations round the same, and the
        ufunc takes scalars through the same loop): ~16 us here instead of ~35 us for five
        one-element array calls."""
        mu_all, k_all, p, min_count, min_ratio = self._source  # type: ignore[misc]
        mu, k = float(mu_all[i]), float(k_all[i])
        size = 1.0 / k if k != 0.0 else math.inf
        prob = size / (size + mu) if size + mu != 0.0 else math.nan
        if (_nbinom_isf is not None and 0.0 < p < 1.0 and size > 0.0 and 0.0 < prob <= 1.0
                and math.isfinite(mu)):
            with np.errstate(over="ignore"):  # as `nb_upper`
                quantile = float(_nbinom_isf(p, size, prob)) + 1.0
            gate = min_ratio * mu
            gate = gate if gate > min_count else float(min_count)
            value = quantile if quantile >= gate or math.isnan(quantile) else gate
        else:
            value = float(upper_values(mu_all[i:i + 1], k_all[i:i + 1], p, min_count,
                                       min_ratio)[0])
        self._exact[i] = value if math.isfinite(value) else None
        return self._exact[i]


def upper_values(mu: np.ndarray, k: np.ndarray, p: float, min_count: float,
                 min_ratio: float) -> np.ndarray:
    """The bands of expectations ``mu`` (the quantile raised to both gates): what
    `DetectorBank.expected` returns."""
    return np.maximum(nb_upper(mu, k, p), np.maximum(min_count, min_ratio * mu))
