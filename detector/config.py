"""Bank configuration: one frozen dataclass gathering every model's hyperparameters."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from detector.changepoint import CusumConfig
from detector.counts import CountConfig
from detector.errorrate import RateConfig
from detector.fusion import FusionConfig
from detector.incidents import IncidentConfig
from detector.seasonal import SeasonalConfig


@dataclass(frozen=True)
class BankConfig:
    """Hyperparameters shared by every service of a bank (one configuration for all).

    ``p_open`` is the strong single-signal level; the nested configs hold the rest.

    >>> from dataclasses import replace
    >>> cfg = BankConfig(bucket_seconds=30, p_open=1e-8)
    >>> cfg.fusion_config().p_strong, replace(cfg.counts, min_count=5).min_ratio
    (1e-08, 2.0)
    """

    bucket_seconds: float = 60.0
    p_open: float = 1e-7
    learn_clip_sd: float = 5.0  # counts above expected + this many sd are clipped when learned
    related_seconds: float = 300.0
    young_buckets: float = 60.0  # younger services keep learning during incidents
    seasonal: SeasonalConfig = field(default_factory=SeasonalConfig)
    counts: CountConfig = field(default_factory=CountConfig)
    cusum: CusumConfig = field(default_factory=CusumConfig)
    rates: RateConfig = field(default_factory=RateConfig)
    fusion: FusionConfig = field(default_factory=FusionConfig)
    incidents: IncidentConfig = field(default_factory=IncidentConfig)

    def fusion_config(self) -> FusionConfig:
        """The fusion levels with ``p_open`` as the strong level."""
        f = asdict(self.fusion)
        f["p_strong"] = self.p_open
        return FusionConfig(**f)
