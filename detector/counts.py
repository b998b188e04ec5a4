"""Count-aware spike test: exact negative-binomial upper tails with an online dispersion.

Counts per bucket are modelled as NB(mean mu, variance mu + k mu^2) (a gamma-Poisson
mixture; see Cameron & Trivedi 1998, ch. 3). The dispersion k is a ratio of EWMAs,
k = E[(x - mu)^2 - mu] / E[mu^2] (the moment estimator of NB2), so it also absorbs the
baseline's own misfit. A partial bucket holding a fraction f of the bucket's time has mean
f * mu and the same k. Tails are exact (scipy.stats.nbinom) but only for services that pass a
cheap normal prefilter and the minimum-count / minimum-ratio gates, vectorised on that subset.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from detector.columns import Field, VectorModel, clip

try:  # the ufuncs that stats.nbinom.sf / .isf evaluate after their argument checks (those
    # checks cost ~70 / ~130 us per call: most of a bank step over a small fleet)
    from scipy.special._ufuncs import _nbinom_isf, _nbinom_sf
except ImportError:  # pragma: no cover - other scipy layouts keep the public path
    _nbinom_isf = _nbinom_sf = None

_NO_P = np.ones(0)  # the p-values of no candidate (shared: np.ones costs ~1.5 us a call)
_NO_P.flags.writeable = False


@dataclass(frozen=True)
class CountConfig:
    """Hyperparameters of `NegBinTest`."""

    k_prior: float = 5.0  # dispersion of a new service (wide: young services are unsure)
    k_min: float = 0.01
    k_max: float = 5.0
    k_alpha: float = 1.0 / 2880.0  # slowest dispersion step (about two days of buckets)
    k_warm: float = 30.0  # pseudo-buckets behind the prior dispersion
    min_count: float = 10.0  # a spike needs at least this many reports in a full bucket
    min_ratio: float = 2.0  # ... and at least this multiple of the expectation
    prefilter_z: float = 3.0  # exact tails only where the normal z-score exceeds this


def nb_sf(x: np.ndarray, mu: np.ndarray, k: np.ndarray) -> np.ndarray:
    """P(X >= x) for X ~ NB(mean mu, var mu + k mu^2), exact; x may be fractional (damped).

    >>> float(np.round(nb_sf(np.array([5.0]), np.array([1.0]), np.array([1e-9]))[0], 5))
    0.00366
    """
    size = 1.0 / k
    prob = size / (size + mu)
    q = np.ceil(x) - 1.0
    if _nbinom_sf is not None and ((q >= 0.0) & (q < np.inf) & (size > 0.0) & (prob > 0.0)
                                   & (prob <= 1.0)).all():  # (the method: np.all costs ~4 us)
        return _nbinom_sf(q, size, prob)  # inside the support with valid parameters: the same
    return stats.nbinom.sf(q, size, prob)


def nb_upper(mu: np.ndarray, k: np.ndarray, p: float) -> np.ndarray:
    """Upper band: the smallest count whose upper tail is below ``p``."""
    size = 1.0 / k
    prob = size / (size + mu)
    if _nbinom_isf is not None and 0.0 < p < 1.0 and ((size > 0.0) & (prob > 0.0)
                                                       & (prob <= 1.0)).all():
        with np.errstate(over="ignore"):  # as stats.nbinom._isf (scipy gh-17432)
            return _nbinom_isf(p, size, prob) + 1.0  # valid arguments: the same values
    return np.asarray(stats.nbinom.isf(p, size, prob), dtype=float) + 1.0


class NegBinTest(VectorModel):
    """Per-service NB dispersion and the gated exact spike p-value, vectorised.

    >>> t = NegBinTest(); t.grow(2)
    >>> p = t.pvalue(np.array([400.0, 12.0]), np.array([10.0, 10.0]))  # young: wide prior
    >>> f"{p[0]:.2e}", float(p[1])
    ('1.40e-05', 1.0)
    """

    FIELDS = {"k_num": Field("f8", 0.0), "k_den": Field("f8", 0.0), "k_n": Field("f8", 0.0)}

    def __init__(self, config: CountConfig | None = None) -> None:
        self.config = config or CountConfig()
        super().__init__()
        self._k: np.ndarray | None = None  # dispersion cache, dropped when the state changes

    def grow(self, n: int) -> None:
        super().grow(n)
        self._k = None

    def load(self, arrays, prefix: str, n: int) -> None:  # type: ignore[override]
        super().load(arrays, prefix, n)
        self._k = None

    def dispersion(self) -> np.ndarray:
        """Current k per service (read-only; computed once per learned bucket)."""
        if self._k is None:
            self._k = self._dispersion()
            self._k.flags.writeable = False
        return self._k

    def _dispersion(self) -> np.ndarray:
        """The online estimate shrunk towards the prior when young."""
        c, cfg = self.cols, self.config
        den = c["k_den"]
        if den.size and np.minimum.reduce(den) >= 1e-12:  # (after the first learned bucket)
            est = c["k_num"] / den  # what the general form below gives then, in fewer calls
        else:
            est = np.where(den > 0, c["k_num"] / np.maximum(den, 1e-12), cfg.k_prior)
        w = c["k_n"] / (c["k_n"] + cfg.k_warm)
        return clip(w * est + (1 - w) * cfg.k_prior, cfg.k_min, cfg.k_max)

    def sd(self, mu: np.ndarray, k: np.ndarray | None = None) -> np.ndarray:
        """Standard deviation of a bucket around ``mu`` (``k``: a precomputed dispersion)."""
        k = self.dispersion() if k is None else k
        return np.sqrt(mu + k * mu * mu)

    def gates(self, x: np.ndarray, mu: np.ndarray, fraction: float = 1.0) -> np.ndarray:
        """Minimum-count and minimum-ratio gates (the count gate scales with the fraction)."""
        cfg = self.config
        return (x >= cfg.min_count * max(fraction, 0.5)) & (x >= cfg.min_ratio * mu)

    def pvalue(self, x: np.ndarray, mu: np.ndarray, fraction: float = 1.0,
               k: np.ndarray | None = None, sd: np.ndarray | None = None) -> np.ndarray:
        """Upper-tail p-value of ``x`` given full-bucket mean ``mu``; 1.0 where gated out.

        ``k`` and ``sd`` (of the partial bucket) may be passed when the caller has them.
        """
        k = self.dispersion() if k is None else k
        m = mu if fraction == 1.0 else mu * fraction
        sd = np.sqrt(m + k * m * m) if sd is None else sd
        cand, p_cand = self.spikes(x, m, k, sd, x - m, fraction)
        p = np.ones_like(x, dtype=float)
        p[cand] = p_cand
        return p

    def spikes(self, x: np.ndarray, m: np.ndarray, k: np.ndarray, sd: np.ndarray,
               excess: np.ndarray, fraction: float) -> tuple[np.ndarray, np.ndarray]:
        """Services whose p-value may be below 1 and their p-values (all others are 1).

        ``m`` is the bucket's expected count (already scaled by ``fraction``), ``sd`` its
        standard deviation and ``excess`` is ``x - m``: the sparse form of `pvalue`.
        """
        pre = (excess > self.config.prefilter_z * sd).nonzero()[0]
        if pre.size:
            pre = pre[self.gates(x[pre], m[pre], fraction)]
        return pre, (nb_sf(x[pre], m[pre], k[pre]) if pre.size else _NO_P)

    def learn(self, x: np.ndarray, mu: np.ndarray, mask: np.ndarray | None) -> None:
        """Update the moment estimator of k with full-bucket counts where ``mask`` (None: all)."""
        c, alpha = self.cols, self.config.k_alpha
        n = c["k_n"]
        if mask is None:  # a scalar step once every service is past its warm-up
            a = alpha if n.size and 1.0 / (np.minimum.reduce(n) + 1.0) <= alpha else np.maximum(
                1.0 / (n + 1.0), alpha)
        else:
            a = np.where(mask, np.maximum(1.0 / (n + 1.0), alpha), 0.0)
        num, den = c["k_num"], c["k_den"]  # column views: updated in place
        num += a * ((x - mu) ** 2 - mu - num)
        den += a * (mu * mu - den)
        if mask is None:
            n += 1.0
        else:
            np.add(n, mask, out=n)  # += 1 where mask (bool as 0/1)
        self._k = None
