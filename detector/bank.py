"""DetectorBank: the state of many services as numpy arrays, updated in one vectorised call.

INTERFACE STUB (to be replaced by the real models, keeping these signatures):
a crude EWMA baseline with a Poisson upper tail, so streams/api can be built against it.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from detector.errors import SnapshotError, UnknownServiceError
from detector.types import BucketContext, Transition


@dataclass(frozen=True)
class BankConfig:
    """Hyperparameters shared by every service of a bank."""

    bucket_seconds: float = 60.0
    alpha: float = 0.05
    p_open: float = 1e-6


@dataclass(frozen=True)
class ServiceStatus:
    """Read-only view of one service after its latest bucket."""

    service: str
    t: float
    observed: float
    expected: float
    upper: float
    score: float
    state: str
    incident_id: str | None


class DetectorBank:
    """Holds every service's detector state; `step` scores then learns one bucket for all."""

    def __init__(self, config: BankConfig | None = None) -> None:
        self.config = config or BankConfig()
        self._names: list[str] = []
        self._index: dict[str, int] = {}
        self._level = np.zeros(0)
        self._open = np.zeros(0, dtype=bool)
        self._started = np.zeros(0)
        self._last_obs = np.zeros(0)
        self._last_t = np.zeros(0)

    @property
    def services(self) -> list[str]:
        return list(self._names)

    def add_service(self, name: str) -> int:
        """Register `name` (idempotent) and return its index."""
        if name in self._index:
            return self._index[name]
        self._index[name] = len(self._names)
        self._names.append(name)
        for attr, fill in (("_level", 1.0), ("_open", False), ("_started", np.nan),
                           ("_last_obs", 0.0), ("_last_t", np.nan)):
            arr = getattr(self, attr)
            setattr(self, attr, np.append(arr, np.array([fill], dtype=arr.dtype)))
        return self._index[name]

    def index(self, name: str) -> int:
        try:
            return self._index[name]
        except KeyError:
            raise UnknownServiceError(name) from None

    def expected(self, t_end: float) -> tuple[np.ndarray, np.ndarray]:
        """Expected count and upper band per service for the bucket ending at `t_end`."""
        upper = stats.poisson.isf(self.config.p_open, self._level)
        return self._level.copy(), np.asarray(upper, dtype=float)

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
        """Score the bucket ending at `t_end` for all services, then learn it if complete."""
        reports = np.asarray(reports, dtype=float)
        expected = self._level * fraction
        p = stats.poisson.sf(reports - 1, expected)
        hot = (p < self.config.p_open) & (reports >= 10)
        out: list[Transition] = []
        for i in np.flatnonzero(hot & ~self._open):
            self._open[i] = True
            self._started[i] = t_end
            out.append(self._transition(i, "open", t_end, reports[i], expected[i], p[i]))
        if fraction >= 1.0:
            calm = self._open & (p > 0.01)
            for i in np.flatnonzero(calm):
                self._open[i] = False
                out.append(self._transition(i, "resolved", t_end, reports[i], expected[i], p[i]))
            learn = ~self._open
            self._level[learn] += self.config.alpha * (reports[learn] - self._level[learn])
            self._last_obs = reports.copy()
            self._last_t[:] = t_end
        return out

    def _transition(self, i: int, status: str, t: float, obs: float, exp: float,
                    p: float) -> Transition:
        name = self._names[i]
        incident_id = hashlib.sha1(f"{name}|{self._started[i]:.0f}".encode()).hexdigest()[:16]
        return Transition(
            incident_id=incident_id, service=name, status=status,  # type: ignore[arg-type]
            started_at=float(self._started[i]), detected_at=t,
            resolved_at=t if status == "resolved" else None, observed=float(obs),
            expected=float(exp), upper=float(stats.poisson.isf(self.config.p_open, exp)),
            score=float(-np.log10(max(p, 1e-300))), p_value=float(p), signals=("reports",),
        )

    def status(self) -> list[ServiceStatus]:
        exp, up = self.expected(0.0)
        return [ServiceStatus(n, float(self._last_t[i]), float(self._last_obs[i]), float(exp[i]),
                              float(up[i]), 0.0, "open" if self._open[i] else "ok", None)
                for i, n in enumerate(self._names)]

    def to_bytes(self) -> bytes:
        """Exact snapshot of the whole bank."""
        buf = io.BytesIO()
        np.savez(buf, names=np.array(self._names, dtype=str), level=self._level, open=self._open,
                 started=self._started, last_obs=self._last_obs, last_t=self._last_t)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes, config: BankConfig | None = None) -> DetectorBank:
        try:
            z = np.load(io.BytesIO(data))
        except Exception as exc:  # noqa: BLE001
            raise SnapshotError(str(exc)) from exc
        bank = cls(config)
        bank._names = [str(n) for n in z["names"]]
        bank._index = {n: i for i, n in enumerate(bank._names)}
        bank._level, bank._open, bank._started = z["level"], z["open"], z["started"]
        bank._last_obs, bank._last_t = z["last_obs"], z["last_t"]
        return bank

    def ensure(self, names: Sequence[str]) -> np.ndarray:
        return np.array([self.add_service(n) for n in names], dtype=np.int64)
