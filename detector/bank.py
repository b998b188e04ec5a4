"""DetectorBank: every service's detector state as numpy arrays, updated in one vectorised call.

Composition per bucket (score before learn): seasonal expectation (`seasonal`), exact NB
spike p-value (`counts`), CUSUM on standardised residuals (`changepoint`), error-rate test
(`errorrate`), `fusion`, then the incident state machine (`incidents`) and `related` links.
Only full buckets are learned, and only by services not in an incident (protection). Python
loops run only over the few services that emit a transition.

Fast paths (no error rates given): fusion and the incident machine can only move services in
an incident or with a signal at a moderate level; when there are none (quiet) `step` computes
the score and learns everyone, when they are few it decides for them alone. ``fast = False``
forces the full path; tests check that all paths give the same bytes.

Partial buckets: ``step(t_end, ..., fraction=f)`` with f < 1 means the bucket started at
``t_end - f * bucket_seconds`` and ``t_end`` is the event time of this early look, which is
the ``detected_at`` of anything it opens. The same bucket is later stepped with f = 1.
A service is not looked at early before it has learned its first full bucket: it has no
pace of its own yet, and a pre-aggregated count stamped early in a bucket would read as a
pace of many times the prior (the first full bucket still opens on strong evidence).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from detector.band import UpperBand, upper_values
from detector.changepoint import Cusum
from detector.columns import Field, VectorModel
from detector.config import BankConfig
from detector.counts import NegBinTest
from detector.emit import TransitionsMixin
from detector.errorrate import RateBaseline
from detector.errors import SnapshotError, UnknownServiceError
from detector.fusion import Evidence, fuse, quiet_score
from detector.incidents import IncidentMachine, Moves
from detector.related import RelatedTracker
from detector.seasonal import SeasonalBaseline
from detector.snapshot import pack, unpack
from detector.types import BucketContext, Transition

_SNAPSHOT_VERSION = 1


class _Latest(VectorModel):
    """What each service showed at its latest step (for `status`)."""

    FIELDS = {"t": Field("f8", np.nan), "obs": Field("f8", 0.0), "mu": Field("f8", 0.0),
              "score": Field("f8", 0.0)}


class DetectorBank(TransitionsMixin):
    """Holds every service's detector state; `step` scores then learns one bucket for all.

    >>> rng = np.random.default_rng(7)
    >>> bank = DetectorBank(BankConfig(bucket_seconds=60))
    >>> bank.ensure(["chatgpt", "sora"]).tolist()
    [0, 1]
    >>> for i in range(1, 1441):
    ...     _ = bank.step(60.0 * i, rng.poisson([30.0, 2.0]).astype(float))
    >>> tr = bank.step(60.0 * 1441 + 20, np.array([820.0, 1.0]), fraction=1 / 3)
    >>> [(t.service, t.status, t.detected_at - t.started_at) for t in tr]
    [('chatgpt', 'open', 20.0)]
    """

    fast = True  # quiet / few-services paths when they apply (False: always the full path)
    few_share = 32  # the few-services path when at most 1 / few_share of them can move

    def __init__(self, config: BankConfig | None = None) -> None:
        self.config = config or BankConfig()
        cfg = self.config
        self._names: list[str] = []
        self._index: dict[str, int] = {}
        self._seasonal = SeasonalBaseline(cfg.seasonal)
        self._counts = NegBinTest(cfg.counts)
        self._cusum = Cusum(cfg.cusum)
        self._rates = RateBaseline(cfg.rates)
        self._inc = IncidentMachine(cfg.incidents)
        self._latest = _Latest()
        self._related = RelatedTracker(cfg.related_seconds)
        self._fusion = fc = cfg.fusion_config()
        self._levels = (max(fc.p_moderate, fc.p_strong), min(fc.cusum_moderate, 1.0))

    def _models(self) -> dict[str, VectorModel]:
        return {"seasonal.": self._seasonal, "counts.": self._counts, "cusum.": self._cusum,
                "rates.": self._rates, "incidents.": self._inc, "latest.": self._latest}

    # services -----------------------------------------------------------------------------
    @property
    def services(self) -> list[str]:
        return list(self._names)

    def add_service(self, name: str) -> int:
        """Register ``name`` (idempotent, amortised O(1)) and return its index."""
        i = self._index.get(name)
        if i is None:
            i = self._index[name] = len(self._names)
            self._names.append(name)
            for model in self._models().values():
                model.grow(len(self._names))
        return i

    def ensure(self, names: Sequence[str]) -> np.ndarray:
        """Indices of ``names``, registering the new ones (models grow once per call)."""
        index = self._index
        for n in names:
            if n not in index:
                index[n] = len(self._names)
                self._names.append(n)
        for model in self._models().values():
            model.grow(len(self._names))
        return np.array([index[n] for n in names], dtype=np.int64)

    def index(self, name: str) -> int:
        try:
            return self._index[name]
        except KeyError:
            raise UnknownServiceError(name) from None

    def state_bytes_per_service(self) -> int:
        """Bytes of array state one service costs (excluding its name)."""
        return sum(m.cols.nbytes_per_service() for m in self._models().values())

    # scoring ------------------------------------------------------------------------------
    def _upper(self, mu: np.ndarray, k: np.ndarray) -> np.ndarray:
        c = self.config.counts
        return upper_values(mu, k, self.config.p_open, c.min_count, c.min_ratio)

    def expected(self, t_end: float) -> tuple[np.ndarray, np.ndarray]:
        """Expected count and upper band (opening level) for the full bucket ending at t_end."""
        mu = self._seasonal.floored(t_end - self.config.bucket_seconds / 2)
        return mu, self._upper(mu, self._counts.dispersion())

    def expected_band(self, t_end: float) -> tuple[np.ndarray, UpperBand]:
        """`expected` with the band as an `UpperBand`: a service's band is computed when first
        read (in a quiet bucket almost never: see `detector.band`). ``mu`` is read-only and
        the next step at ``t_end`` scores against the same array (nothing learned between)."""
        mu = self._seasonal.floored(t_end - self.config.bucket_seconds / 2)
        c = self.config.counts
        return mu, UpperBand.lazy(mu, self._counts.dispersion(), self.config.p_open,
                                  c.min_count, c.min_ratio)

    def _vector(self, values: np.ndarray | Sequence[float], name: str) -> np.ndarray:
        arr = np.asarray(values, dtype=float)
        if arr.shape != (len(self._names),):
            raise ValueError(f"{name} has shape {arr.shape}, expected ({len(self._names)},)")
        return arr

    def step(
        self,
        t_end: float,
        reports: np.ndarray,
        *,
        error_rate: np.ndarray | None = None,
        requests: np.ndarray | None = None,
        fraction: float = 1.0,
        context: Mapping[str, BucketContext] | None = None,
    ) -> list[Transition]:
        """Score the bucket ending at ``t_end`` for all services, then learn it if complete."""
        x = self._vector(reports, "reports")
        err = None if error_rate is None else self._vector(error_rate, "error_rate")
        req = None if requests is None else self._vector(requests, "requests")
        full = fraction >= 1.0
        frac = float(min(max(fraction, 1e-3), 1.0))
        bs = self.config.bucket_seconds
        t_start = float(t_end) - frac * bs
        f = self._seasonal.factor(t_start + bs / 2)
        lt = self._latest.cols
        mu = self._seasonal.floored(t_start + bs / 2)  # from `f`
        k = self._counts.dispersion()
        m = mu if full else mu * frac  # expected count of this (possibly partial) bucket
        sd = self._counts.sd(m, k)
        excess = x - m
        cand, p_cand = self._counts.spikes(x, m, k, sd, excess, frac)
        if not full and cand.size:  # no early look at a service before its first full bucket
            seen = self._seasonal.cols["level_n"][cand] >= 1.0
            cand, p_cand = cand[seen], p_cand[seen]
        calm = not np.count_nonzero(self._inc.cols["state"])  # every service ok (usual)
        if full:  # the CUSUM watches for the start of a change: not while an incident holds
            live = None if calm else self._inc.live()  # frozen there, watching elsewhere
            self._cusum.update(t_start, excess / sd, x, mu,
                               ~live if live is not None and live.any() else None)
        stat = self._cusum.stat()
        fc = self._fusion
        few = self._few(calm, err, cand, p_cand, stat)
        if few is not None:  # the score of all, decisions only for the few that can move
            quiet_score(cand, p_cand, stat, fc.p_strong, lt["score"])
            out, moves = [], None
            if few.size:
                p_rep = np.ones(len(x))
                p_rep[cand] = p_cand
                out, moves = self._decide(few, (x, m, sd, excess, p_rep, stat), t_start,
                                          float(t_end), frac, context or {})
        else:
            p_rep = np.ones(len(x))
            p_rep[cand] = p_cand
            still = (excess > fc.z_calm * sd) & (x >= fc.ratio_calm * m)
            ev = fuse(p_rep, stat, None if err is None else self._rates.pvalue(err, req), fc,
                      still)
            onset = np.where(stat >= fc.cusum_moderate, self._cusum.cols["onset"], np.nan)
            moves = self._inc.advance(ev, x if full else x / frac, t_start, float(t_end), onset,
                                      full=full)
            out = self._emit(moves, ev, x, m, float(t_end), context or {})
            lt["score"] = ev.score
        if moves is not None and not full and moves.opened.size:  # full: reset in `_learn`
            self._cusum.reset(moves.opened)
        if full:
            self._learn(t_start + bs / 2, x, mu, err, req, moves, (f, sd))
        lt["t"].fill(float(t_end))
        lt["obs"][...] = x
        lt["mu"][...] = m
        return out

    def _few(self, calm: bool, err: np.ndarray | None, cand: np.ndarray, p_cand: np.ndarray,
             stat: np.ndarray) -> np.ndarray | None:
        """Services that fusion and the incident machine could move, when they are few.

        Everyone else is ok with no signal at a moderate (or strong) level, so `fuse` and
        `IncidentMachine.advance` would leave them alone. None: use the full path (error
        rates given, `fast` off, or more than 1 / `few_share` of the services concerned).
        """
        if not self.fast or err is not None:
            return None
        p_level, stat_level = self._levels
        if (calm and (not p_cand.size or np.minimum.reduce(p_cand, initial=1.0) >= p_level)
                and np.maximum.reduce(stat, initial=0.0) < stat_level):  # (cheaper than .min())
            return cand[:0]  # quiet: nobody (the usual bucket)
        near = stat >= stat_level
        near |= self._inc.cols["state"] != 0
        near[cand[p_cand < p_level]] = True
        few = near.nonzero()[0]
        return few if few.size * self.few_share <= len(near) else None

    def _decide(self, idx: np.ndarray, arrays: tuple[np.ndarray, ...], t_start: float,
                t_end: float, frac: float, context: Mapping[str, BucketContext]
                ) -> tuple[list[Transition], Moves]:
        """Fusion and incident moves for services ``idx`` only (see `_few`)."""
        x, m, sd, excess, p_rep, stat = (a[idx] for a in arrays)
        fc = self._fusion
        ev = fuse(p_rep, stat, None, fc, (excess > fc.z_calm * sd) & (x >= fc.ratio_calm * m))
        onset = np.where(stat >= fc.cusum_moderate, self._cusum.cols["onset"][idx], np.nan)
        moves = self._inc.advance_at(idx, ev, x if frac >= 1.0 else x / frac, t_start, t_end,
                                     onset, full=frac >= 1.0)
        if not (moves.opened.size or moves.updated.size or moves.resolved.size):
            return [], moves
        n = len(arrays[0])
        sig, p_value = np.zeros(n, np.int64), np.ones(n)
        sig[idx], p_value[idx] = ev.signals, ev.p_value
        whole = Evidence(ev.hot, ev.moderate, ev.active, self._latest.cols["score"], p_value, sig)
        return self._emit(moves, whole, arrays[0], arrays[1], t_end, context), moves

    def _learn(self, t_mid: float, x: np.ndarray, mu: np.ndarray, err: np.ndarray | None,
               req: np.ndarray | None, moves: Moves | None, fs: tuple[np.ndarray, ...]) -> None:
        """Learn a full bucket where no incident holds; clipped so outliers cannot drag it.

        ``moves`` is None on a quiet step: nobody in an incident, nothing moved.
        """
        f, sd = fs
        clip = self.config.learn_clip_sd
        xc = np.minimum(x, mu + clip * sd)
        learn = None
        if moves is not None:
            learn = ~self._inc.in_incident() | self._seasonal.young(self.config.young_buckets)
        self._counts.learn(xc, mu, learn)
        self._seasonal.learn(t_mid, xc, learn, f)
        if moves is not None and moves.accepted.size:
            self._seasonal.accept_new_normal(moves.accepted)
        self._seasonal.track_shadow(t_mid, x, None if moves is None else self._inc.live(), f)
        if err is not None:
            rc = np.minimum(err, self._rates.cols["m"] + clip * self._rates.sd(req))
            every = np.ones(len(x), bool) if learn is None else learn
            self._rates.learn(np.where(np.isfinite(err), rc, np.nan), req, every)
        if moves is not None and (moves.opened.size or moves.resolved.size):
            self._cusum.reset(np.concatenate([moves.opened, moves.resolved]))

    # snapshots (the status view is in detector.emit) ----------------------------------------
    def to_bytes(self) -> bytes:
        """Exact snapshot of the whole bank (numpy arrays + a small JSON header)."""
        arrays: dict[str, np.ndarray] = {}
        for prefix, model in self._models().items():
            arrays.update(model.export(prefix))
        return pack(arrays, {"version": _SNAPSHOT_VERSION, "names": self._names,
                             "bucket_seconds": self.config.bucket_seconds,
                             "related": self._related.to_json()})

    @classmethod
    def from_bytes(cls, data: bytes, config: BankConfig | None = None) -> DetectorBank:
        """Restore a bank saved by `to_bytes` (same configuration expected)."""
        arrays, meta = unpack(data, _SNAPSHOT_VERSION)
        bank = cls(config)
        if float(meta["bucket_seconds"]) != bank.config.bucket_seconds:
            raise SnapshotError("snapshot was taken with another bucket_seconds")
        bank._names = [str(n) for n in meta["names"]]
        bank._index = {n: i for i, n in enumerate(bank._names)}
        for prefix, model in bank._models().items():
            model.load(arrays, prefix, len(bank._names))
        bank._related.load_json(meta["related"])
        return bank
