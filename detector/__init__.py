"""Pure, vectorised outage detection: baselines, spike and changepoint tests, incidents.

No I/O, no clocks: every function works in event time on the inputs it is given.
"""

from detector.bank import DetectorBank
from detector.config import BankConfig
from detector.types import BucketContext, ServiceStatus, Transition

__all__ = ["BankConfig", "BucketContext", "DetectorBank", "ServiceStatus", "Transition"]
